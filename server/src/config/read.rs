//! The settings that take more than one rule to read.
use std::path::PathBuf;

use super::env::http_url;
use super::{ConfigError, Env, Secret, SlackConfig};

/// The empty state's examples when neither `EXAMPLE_QUESTIONS` nor `DOCS_DIR` is set: about
/// this project's own guide, the default docs.
const OWN_EXAMPLES: [&str; 3] = [
    "How do I set up Paste Assistant on my machine?",
    "How do I embed the widget on my docs site?",
    "Which models can answer?",
];
/// Most example questions shown, and their longest length in characters.
const MAX_EXAMPLES: usize = 6;
const MAX_EXAMPLE_CHARS: usize = 200;

/// `EXAMPLE_QUESTIONS` (a file, one question a line; blank lines and `#` comments skipped);
/// without it, this project's own examples for its own docs, and none for a team's docs.
pub(super) fn example_questions(env: &Env) -> Result<Vec<String>, ConfigError> {
    let Some(path) = env.file("EXAMPLE_QUESTIONS")? else {
        return Ok(if serves_own_guide(env) {
            OWN_EXAMPLES.map(String::from).to_vec()
        } else {
            Vec::new()
        });
    };
    let bad = |reason: String| ConfigError {
        variable: "EXAMPLE_QUESTIONS",
        reason,
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| bad(format!("{} cannot be read: {e}", path.display())))?;
    let questions: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    if let Some(long) = questions
        .iter()
        .find(|q| q.chars().count() > MAX_EXAMPLE_CHARS)
    {
        return Err(bad(format!(
            "an example question is longer than {MAX_EXAMPLE_CHARS} characters: {:?}",
            long.chars().take(40).collect::<String>()
        )));
    }
    if questions.len() > MAX_EXAMPLES {
        return Err(bad(format!(
            "{} holds {} questions; the page shows at most {MAX_EXAMPLES}",
            path.display(),
            questions.len()
        )));
    }
    Ok(questions)
}

/// Where the release archive's executable writes its own guide when it has no other docs.
pub const GUIDE_DIR: &str = "data/guide";

/// `DOCS_DIR`, else `docs` of the folder the server runs in, else (in an executable that
/// carries it: `--features dist`) this project's guide at [`GUIDE_DIR`].
pub(super) fn docs_dir(env: &Env) -> Result<PathBuf, ConfigError> {
    if env.get("DOCS_DIR").is_none() && env.get("DOCS_SITE_URL").is_some() {
        // Only the sites are the docs; the folder is not read.
        return Ok(PathBuf::from("docs"));
    }
    let carries_guide = cfg!(feature = "dist");
    if env.get("DOCS_DIR").is_none() && !std::path::Path::new("docs").is_dir() && carries_guide {
        return Ok(PathBuf::from(GUIDE_DIR));
    }
    env.dir_or("DOCS_DIR", "docs")
}

/// Whether the docs are this project's own guide: `DOCS_DIR` unset, or the `docs/` folder of
/// the checkout the server was built from.
pub(super) fn serves_own_guide(env: &Env) -> bool {
    let Some(dir) = env.get("DOCS_DIR") else {
        return env.get("DOCS_SITE_URL").is_none();
    };
    let own = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    match (std::fs::canonicalize(dir), std::fs::canonicalize(own)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// `ASSISTANT_NAME`: one line of at most 60 characters.
pub(super) fn assistant_name(env: &Env) -> Result<String, ConfigError> {
    let name = env
        .text_or("ASSISTANT_NAME", "Paste Assistant")
        .trim()
        .to_string();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        return Err(ConfigError {
            variable: "ASSISTANT_NAME",
            reason: "must be one line of 1 to 60 characters".into(),
        });
    }
    Ok(name)
}

/// Read by `telemetry` before the configuration; checked here so a typo stops the start.
pub(super) fn check_log_format(env: &Env) -> Result<(), ConfigError> {
    match env.get("LOG_FORMAT") {
        Some(format) if !matches!(format.as_str(), "json" | "text") => Err(ConfigError {
            variable: "LOG_FORMAT",
            reason: format!("{format:?} is neither \"json\" nor \"text\""),
        }),
        _ => Ok(()),
    }
}

pub(super) fn database_url(env: &Env) -> Result<String, ConfigError> {
    let url = env.text_or("DATABASE_URL", "sqlite://data/paste-assistant.db");
    if !(url.starts_with("sqlite:") || url.starts_with("postgres")) {
        return Err(ConfigError {
            variable: "DATABASE_URL",
            reason: format!(
                "expected a sqlite://… or postgres://… URL, got {:?}",
                url.split(':').next().unwrap_or("")
            ),
        });
    }
    Ok(url)
}

/// A bearer token: long enough that guessing it over the network is hopeless.
pub(super) fn token(env: &Env, variable: &'static str) -> Result<Option<Secret>, ConfigError> {
    let token = env.get(variable).map(Secret::new);
    if token
        .as_ref()
        .is_some_and(|t| t.expose().chars().count() < 32)
    {
        return Err(ConfigError {
            variable,
            reason: "must be at least 32 characters (a random string: `openssl rand -hex 24`)"
                .into(),
        });
    }
    Ok(token)
}

pub(super) fn session_secret(env: &Env) -> Result<Option<Secret>, ConfigError> {
    let secret = env.get("SESSION_SECRET").map(Secret::new);
    if secret.as_ref().is_some_and(|s| s.expose().len() < 32) {
        return Err(ConfigError {
            variable: "SESSION_SECRET",
            reason: "must be at least 32 characters".into(),
        });
    }
    Ok(secret)
}

/// Embeddings use the chat model's API, so it must be configured as well.
pub(super) fn embeddings_model(env: &Env) -> Result<Option<String>, ConfigError> {
    let model = env.get("EMBEDDINGS_MODEL");
    if model.is_some()
        && env.get("OPENAI_API_KEY").is_none()
        && env.get("OPENAI_BASE_URL").is_none()
    {
        return Err(ConfigError {
            variable: "EMBEDDINGS_MODEL",
            reason:
                "embeddings use the chat model's API: set OPENAI_BASE_URL or OPENAI_API_KEY as well"
                    .into(),
        });
    }
    Ok(model)
}

/// On when both the bot token and the channel are set; one without the other is a mistake.
pub(super) fn slack(env: &Env) -> Result<Option<SlackConfig>, ConfigError> {
    let api_url = http_url(
        "SLACK_API_URL",
        &env.text_or("SLACK_API_URL", "https://slack.com/api"),
    )?;
    match (env.get("SLACK_BOT_TOKEN"), env.get("SLACK_CHANNEL")) {
        (Some(token), Some(channel)) => Ok(Some(SlackConfig {
            bot_token: Secret::new(token),
            channel,
            api_url,
        })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(ConfigError {
            variable: "SLACK_CHANNEL",
            reason: "SLACK_BOT_TOKEN is set: set the channel to post to as well".into(),
        }),
        (None, Some(_)) => Err(ConfigError {
            variable: "SLACK_BOT_TOKEN",
            reason: "SLACK_CHANNEL is set: set the bot token as well".into(),
        }),
    }
}

/// How the docs sites are crawled (`DOCS_CRAWL_*`).
#[derive(Clone, Copy, Debug)]
pub struct CrawlSettings {
    pub hours: f64,
    /// Requests a second to one site.
    pub rate: f64,
    pub max_pages: usize,
    /// Longest wait for one page.
    pub timeout: std::time::Duration,
}

/// `DOCS_SITE_URL`: one or more http(s) URLs, comma-separated.
pub(super) fn docs_sites(env: &Env) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = env.get("DOCS_SITE_URL") else {
        return Ok(Vec::new());
    };
    let mut sites = Vec::new();
    for site in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let parsed = url::Url::parse(site).ok().filter(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        });
        if parsed.is_none() {
            return Err(ConfigError {
                variable: "DOCS_SITE_URL",
                reason: format!("{site:?} is not an http:// or https:// URL with a host"),
            });
        }
        if !sites.iter().any(|s| s == site) {
            sites.push(site.to_string());
        }
    }
    Ok(sites)
}

pub(super) fn crawl_settings(env: &Env) -> Result<CrawlSettings, ConfigError> {
    let positive = |variable: &'static str, default: f64, max: f64| {
        let value: f64 = env.parse_or(variable, default)?;
        if !(value.is_finite() && value > 0.0 && value <= max) {
            return Err(ConfigError {
                variable,
                reason: format!("must be a number above 0 and at most {max}"),
            });
        }
        Ok(value)
    };
    let max_pages: usize = env.parse_or("DOCS_CRAWL_MAX_PAGES", 5_000)?;
    if max_pages == 0 {
        return Err(ConfigError {
            variable: "DOCS_CRAWL_MAX_PAGES",
            reason: "must be at least 1".into(),
        });
    }
    Ok(CrawlSettings {
        hours: positive("DOCS_CRAWL_HOURS", 24.0, 24.0 * 365.0)?,
        rate: positive("DOCS_CRAWL_RATE", 4.0, 100.0)?,
        max_pages,
        timeout: env.seconds_at_least("DOCS_CRAWL_TIMEOUT_SECS", 20, 1)?,
    })
}
