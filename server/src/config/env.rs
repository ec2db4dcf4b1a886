//! Reading settings: blank values count as unset, and every error names its variable.
use std::path::PathBuf;

use super::ConfigError;
use std::time::Duration;

/// `WIDGET_ALLOWED_ORIGINS`: origins separated by commas or spaces, each `scheme://host[:port]`
/// as a browser writes it (no path), so they can go into a CSP `frame-ancestors` list as is.
pub(super) fn parse_origins(raw: &str) -> Result<Vec<String>, ConfigError> {
    let origins: Vec<String> = raw
        .split([',', ' '])
        .filter(|o| !o.is_empty())
        .map(|o| o.trim_end_matches('/').to_string())
        .collect();
    for origin in &origins {
        let rest = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        let valid = rest.is_some_and(|host| {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '*'))
        });
        if !valid {
            return Err(ConfigError {
                variable: "WIDGET_ALLOWED_ORIGINS",
                reason: format!(
                    "{origin:?} is not an origin like https://docs.example.com (scheme, host, optional port)"
                ),
            });
        }
    }
    if origins.is_empty() {
        return Err(ConfigError {
            variable: "WIDGET_ALLOWED_ORIGINS",
            reason: "lists no origin".into(),
        });
    }
    Ok(origins)
}

/// The environment as settings: blank values count as unset; every error names its variable.
pub(super) struct Env<'a>(pub(super) Box<Lookup<'a>>);

pub(super) type Lookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

impl Env<'_> {
    pub(super) fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    pub(super) fn text_or(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|| default.to_string())
    }

    pub(super) fn parse_or<T: std::str::FromStr>(
        &self,
        variable: &'static str,
        default: T,
    ) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(variable) {
            None => Ok(default),
            Some(raw) => raw.parse().map_err(|e: T::Err| ConfigError {
                variable,
                reason: format!("{raw:?} is not valid: {e}"),
            }),
        }
    }

    pub(super) fn seconds_at_least(
        &self,
        variable: &'static str,
        default: u64,
        min: u64,
    ) -> Result<Duration, ConfigError> {
        let secs = self.parse_or(variable, default)?;
        if secs < min {
            return Err(ConfigError {
                variable,
                reason: format!("must be at least {min}"),
            });
        }
        Ok(Duration::from_secs(secs))
    }

    /// An optional `http://` or `https://` URL, without a trailing slash.
    pub(super) fn http_url(&self, variable: &'static str) -> Result<Option<String>, ConfigError> {
        self.get(variable)
            .map(|url| http_url(variable, &url))
            .transpose()
    }

    pub(super) fn dir_or(
        &self,
        variable: &'static str,
        default: &str,
    ) -> Result<PathBuf, ConfigError> {
        let dir = PathBuf::from(self.text_or(variable, default));
        if !dir.is_dir() {
            return Err(ConfigError {
                variable,
                reason: format!("{} is not a folder", dir.display()),
            });
        }
        Ok(dir)
    }

    pub(super) fn file(&self, variable: &'static str) -> Result<Option<PathBuf>, ConfigError> {
        let Some(path) = self.get(variable).map(PathBuf::from) else {
            return Ok(None);
        };
        if !path.is_file() {
            return Err(ConfigError {
                variable,
                reason: format!("{} is not a readable file", path.display()),
            });
        }
        Ok(Some(path))
    }
}

pub(super) fn http_url(variable: &'static str, url: &str) -> Result<String, ConfigError> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ConfigError {
            variable,
            reason: "must start with http:// or https://".into(),
        });
    }
    Ok(url.trim_end_matches('/').to_string())
}
