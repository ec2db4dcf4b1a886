//! Settings read from the environment (API.md's table), checked once at start.
use std::{net::SocketAddr, path::PathBuf, time::Duration};

/// Why the server cannot start: names the variable to fix.
#[derive(Debug, thiserror::Error)]
#[error("configuration error in {variable}: {reason}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

/// A value that must not reach logs or pages.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub addr: SocketAddr,
    pub database_url: String,
    pub docs_dir: PathBuf,
    /// Where links to docs pages point; `None` serves them from this app at `/docs/…`.
    pub docs_base_url: Option<String>,
    /// How often `DOCS_DIR` is checked for changed pages (re-indexed when it changed); `None`
    /// turns the watcher off.
    pub docs_watch: Option<Duration>,
    /// Model of the OpenAI-compatible `/embeddings` endpoint (same base URL and key as the chat
    /// model) for hybrid docs search; `None`: BM25 alone.
    pub embeddings_model: Option<String>,
    /// Where section vectors are cached.
    pub embeddings_cache_dir: PathBuf,
    /// Bearer token for operator routes (`POST /api/docs-reindex`); `None` turns them off.
    pub admin_token: Option<Secret>,
    pub openai_api_key: Option<Secret>,
    pub openai_base_url: Option<String>,
    pub openai_model: String,
    pub openai_title_model: String,
    /// Longest wait for one model API request (connect, answer and body).
    pub openai_timeout: Duration,
    /// Longest silence between two pieces of a streamed answer.
    pub openai_idle_timeout: Duration,
    /// Retries of a model call after a retryable failure (429, 5xx, timeout).
    pub openai_max_retries: u32,
    /// HTTP/2 to the model API: where TLS offers it (default), never, or always (h2c too).
    pub openai_http2: crate::models::openai::Http2,
    /// `max_tokens` of answer requests (`MAX_ANSWER_TOKENS`); `None` (0) sends none.
    pub max_answer_tokens: Option<u32>,
    pub instructions_path: Option<PathBuf>,
    /// `None` means a random key per process (sessions end on restart).
    pub session_secret: Option<Secret>,
    /// Longest time to answer one HTTP request (until its headers; a body may stream on).
    pub request_timeout: Duration,
    pub run_time_limit: Duration,
    /// How long a run stays claimed by its executor without a heartbeat (several instances:
    /// another one takes a dead instance's runs over after this).
    pub run_lease_secs: u64,
    pub max_message_chars: usize,
    pub max_tool_rounds: u32,
    /// Mutating requests allowed per minute per session / per client address; 0 turns it off.
    pub rate_limit_session_per_min: u32,
    pub rate_limit_addr_per_min: u32,
    /// Runs in progress at once per session (0: no cap).
    pub max_active_runs_per_session: u32,
    /// Runs in progress at once per client address, over all its sessions (0: no cap).
    pub max_active_runs_per_addr: u32,
    /// Runs this instance executes at once; more wait `queued` (0: no ceiling).
    pub max_running_runs: u32,
    /// Model tokens per client address / for everyone per UTC day (0: no budget).
    pub token_budget_per_addr_per_day: u64,
    pub token_budget_per_day: u64,
    /// Longest history sent to the model, in tokens (0: no limit).
    pub model_context_tokens: u64,
    /// GET and HEAD requests per client address per minute (0: off).
    pub rate_limit_reads_addr_per_min: u32,
    /// Messages (questions and answers) one thread may hold (0: no cap).
    pub max_thread_messages: u32,
    /// Longest wait for a request's headers once a connection is open (`None`: no limit).
    pub header_read_timeout: Option<Duration>,
    /// Bearer token `/metrics` requires; `None`: open.
    pub metrics_token: Option<Secret>,
    /// Slack notices per client address per minute (0: no cap).
    pub slack_notices_addr_per_min: u32,
    /// Behind a reverse proxy: take the client address from the last `X-Forwarded-For` entry
    /// and HTTPS from `X-Forwarded-Proto` (then session cookies are `Secure`).
    pub trust_proxy: bool,
    /// Origins (`https://docs.example.com`) whose pages may embed the widget; `None` allows
    /// any site.
    pub widget_allowed_origins: Option<Vec<String>>,
    /// Slack notices: on when both the bot token and the channel are set.
    pub slack: Option<SlackConfig>,
    /// The assistant's name on the page, in its title and as the widget's default title.
    pub assistant_name: String,
    /// Whether `ASSISTANT_NAME` was set (else the widget keeps its own "Ask the docs").
    pub assistant_name_set: bool,
    /// The example questions of the empty state.
    pub example_questions: Vec<String>,
    /// Threads with no new message for this many days are deleted (0: kept).
    pub retention_days: u32,
}

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
fn example_questions(env: &Env) -> Result<Vec<String>, ConfigError> {
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

/// Whether the docs are this project's own guide: `DOCS_DIR` unset, or the `docs/` folder of
/// the checkout the server was built from.
fn serves_own_guide(env: &Env) -> bool {
    let Some(dir) = env.get("DOCS_DIR") else {
        return true;
    };
    let own = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    match (std::fs::canonicalize(dir), std::fs::canonicalize(own)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// `ASSISTANT_NAME`: one line of at most 60 characters.
fn assistant_name(env: &Env) -> Result<String, ConfigError> {
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

#[derive(Clone, Debug)]
pub struct SlackConfig {
    pub bot_token: Secret,
    pub channel: String,
    pub api_url: String,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment. Each
    /// step reads and checks one setting or a group that belongs together.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(Box::new(lookup));
        check_log_format(&env)?;
        let openai_model = env.text_or("OPENAI_MODEL", "gpt-4o-mini");
        Ok(Self {
            addr: env.parse_or("LEPTOS_SITE_ADDR", "127.0.0.1:3000".parse().unwrap())?,
            database_url: database_url(&env)?,
            docs_dir: env.dir_or("DOCS_DIR", "docs")?,
            docs_base_url: env.http_url("DOCS_BASE_URL")?,
            docs_watch: match env.parse_or("DOCS_WATCH_SECS", 2u64)? {
                0 => None,
                secs => Some(Duration::from_secs(secs)),
            },
            embeddings_model: embeddings_model(&env)?,
            embeddings_cache_dir: PathBuf::from(
                env.text_or("EMBEDDINGS_CACHE_DIR", "data/embeddings"),
            ),
            admin_token: token(&env, "ADMIN_TOKEN")?,
            openai_api_key: env.get("OPENAI_API_KEY").map(Secret::new),
            openai_base_url: env.http_url("OPENAI_BASE_URL")?,
            openai_title_model: env.text_or("OPENAI_TITLE_MODEL", &openai_model),
            openai_model,
            openai_timeout: env.seconds_at_least("OPENAI_TIMEOUT_SECS", 60, 1)?,
            openai_idle_timeout: env.seconds_at_least("OPENAI_IDLE_TIMEOUT_SECS", 20, 1)?,
            openai_max_retries: env.parse_or("OPENAI_MAX_RETRIES", 3)?,
            openai_http2: env.parse_or("OPENAI_HTTP2", crate::models::openai::Http2::Auto)?,
            max_answer_tokens: match env.parse_or("MAX_ANSWER_TOKENS", 1024u32)? {
                0 => None,
                n => Some(n),
            },
            instructions_path: env.file("ASSISTANT_INSTRUCTIONS")?,
            session_secret: session_secret(&env)?,
            request_timeout: env.seconds_at_least("REQUEST_TIMEOUT_SECS", 120, 1)?,
            run_time_limit: env.seconds_at_least("RUN_TIME_LIMIT_SECS", 600, 1)?,
            run_lease_secs: env.seconds_at_least("RUN_LEASE_SECS", 30, 3)?.as_secs(),
            max_message_chars: env.parse_or("MAX_MESSAGE_CHARS", 32_000)?,
            max_tool_rounds: env.parse_or("MAX_TOOL_ROUNDS", 8)?,
            rate_limit_session_per_min: env.parse_or("RATE_LIMIT_SESSION_PER_MIN", 120)?,
            rate_limit_addr_per_min: env.parse_or("RATE_LIMIT_ADDR_PER_MIN", 600)?,
            max_active_runs_per_session: env.parse_or("MAX_ACTIVE_RUNS_PER_SESSION", 3)?,
            max_active_runs_per_addr: env.parse_or("MAX_ACTIVE_RUNS_PER_ADDR", 10)?,
            max_running_runs: env.parse_or("MAX_RUNNING_RUNS", 64)?,
            token_budget_per_addr_per_day: env
                .parse_or("TOKEN_BUDGET_PER_ADDR_PER_DAY", 200_000)?,
            token_budget_per_day: env.parse_or("TOKEN_BUDGET_PER_DAY", 0)?,
            model_context_tokens: env.parse_or("MODEL_CONTEXT_TOKENS", 12_000)?,
            rate_limit_reads_addr_per_min: env.parse_or("RATE_LIMIT_READS_ADDR_PER_MIN", 1200)?,
            max_thread_messages: env.parse_or("MAX_THREAD_MESSAGES", 500)?,
            header_read_timeout: match env.parse_or("HEADER_READ_TIMEOUT_SECS", 10u64)? {
                0 => None,
                secs => Some(Duration::from_secs(secs)),
            },
            metrics_token: token(&env, "METRICS_TOKEN")?,
            slack_notices_addr_per_min: env.parse_or("SLACK_NOTICES_ADDR_PER_MIN", 10)?,
            trust_proxy: env.parse_or("TRUST_PROXY", false)?,
            widget_allowed_origins: env
                .get("WIDGET_ALLOWED_ORIGINS")
                .map(|raw| parse_origins(&raw))
                .transpose()?,
            slack: slack(&env)?,
            assistant_name: assistant_name(&env)?,
            assistant_name_set: env.get("ASSISTANT_NAME").is_some(),
            example_questions: example_questions(&env)?,
            retention_days: env.parse_or("RETENTION_DAYS", 0)?,
        })
    }

    /// The chat completions API root when a remote model is configured.
    pub fn remote_base_url(&self) -> Option<&str> {
        if !self.uses_remote_model() {
            return None;
        }
        Some(
            self.openai_base_url
                .as_deref()
                .unwrap_or("https://api.openai.com/v1"),
        )
    }

    /// Whether model tokens count against the daily budgets: a remote model (the offline one
    /// costs nothing) with a budget set.
    pub fn counts_tokens(&self) -> bool {
        self.uses_remote_model()
            && (self.token_budget_per_addr_per_day > 0 || self.token_budget_per_day > 0)
    }

    /// Whether runs use a remote chat model rather than the offline one.
    pub fn uses_remote_model(&self) -> bool {
        self.openai_api_key.is_some() || self.openai_base_url.is_some()
    }
}

/// `WIDGET_ALLOWED_ORIGINS`: origins separated by commas or spaces, each `scheme://host[:port]`
/// as a browser writes it (no path), so they can go into a CSP `frame-ancestors` list as is.
fn parse_origins(raw: &str) -> Result<Vec<String>, ConfigError> {
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
struct Env<'a>(Box<Lookup<'a>>);

type Lookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

impl Env<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    fn text_or(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|| default.to_string())
    }

    fn parse_or<T: std::str::FromStr>(
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

    fn seconds_at_least(
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
    fn http_url(&self, variable: &'static str) -> Result<Option<String>, ConfigError> {
        self.get(variable)
            .map(|url| http_url(variable, &url))
            .transpose()
    }

    fn dir_or(&self, variable: &'static str, default: &str) -> Result<PathBuf, ConfigError> {
        let dir = PathBuf::from(self.text_or(variable, default));
        if !dir.is_dir() {
            return Err(ConfigError {
                variable,
                reason: format!("{} is not a folder", dir.display()),
            });
        }
        Ok(dir)
    }

    fn file(&self, variable: &'static str) -> Result<Option<PathBuf>, ConfigError> {
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

fn http_url(variable: &'static str, url: &str) -> Result<String, ConfigError> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ConfigError {
            variable,
            reason: "must start with http:// or https://".into(),
        });
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// Read by `telemetry` before the configuration; checked here so a typo stops the start.
fn check_log_format(env: &Env) -> Result<(), ConfigError> {
    match env.get("LOG_FORMAT") {
        Some(format) if !matches!(format.as_str(), "json" | "text") => Err(ConfigError {
            variable: "LOG_FORMAT",
            reason: format!("{format:?} is neither \"json\" nor \"text\""),
        }),
        _ => Ok(()),
    }
}

fn database_url(env: &Env) -> Result<String, ConfigError> {
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
fn token(env: &Env, variable: &'static str) -> Result<Option<Secret>, ConfigError> {
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

fn session_secret(env: &Env) -> Result<Option<Secret>, ConfigError> {
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
fn embeddings_model(env: &Env) -> Result<Option<String>, ConfigError> {
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
fn slack(env: &Env) -> Result<Option<SlackConfig>, ConfigError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let docs = env!("CARGO_MANIFEST_DIR").to_string() + "/../docs";
        Config::from_lookup(move |k| {
            map.get(k)
                .cloned()
                .or_else(|| (k == "DOCS_DIR").then(|| docs.clone()))
        })
    }

    #[test]
    fn defaults_follow_the_api_table() {
        let c = config(&[]).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.database_url, "sqlite://data/paste-assistant.db");
        assert_eq!(c.run_time_limit, Duration::from_secs(600));
        assert_eq!(c.openai_model, "gpt-4o-mini");
        assert_eq!(c.max_message_chars, 32_000);
        assert!(!c.uses_remote_model());
        // Issue 12's limits.
        assert_eq!(c.max_active_runs_per_addr, 10);
        assert_eq!(c.max_running_runs, 64);
        assert_eq!(c.token_budget_per_addr_per_day, 200_000);
        assert_eq!(c.token_budget_per_day, 0);
        assert_eq!(c.model_context_tokens, 12_000);
        assert_eq!(c.rate_limit_reads_addr_per_min, 1200);
        assert_eq!(c.max_thread_messages, 500);
        assert_eq!(c.header_read_timeout, Some(Duration::from_secs(10)));
        assert_eq!(c.slack_notices_addr_per_min, 10);
        assert!(c.metrics_token.is_none());
        assert!(!c.counts_tokens(), "the offline model costs nothing");
        let remote = config(&[("OPENAI_API_KEY", "sk-1")]).unwrap();
        assert!(remote.counts_tokens());
        let off = config(&[("HEADER_READ_TIMEOUT_SECS", "0")]).unwrap();
        assert_eq!(off.header_read_timeout, None);
    }

    #[test]
    fn http2_to_the_model_is_auto_unless_set() {
        use crate::models::openai::Http2;
        assert_eq!(config(&[]).unwrap().openai_http2, Http2::Auto);
        for (raw, want) in [
            ("off", Http2::Off),
            ("Always", Http2::Always),
            ("auto", Http2::Auto),
        ] {
            let c = config(&[("OPENAI_HTTP2", raw)]).unwrap();
            assert_eq!(c.openai_http2, want, "{raw}");
        }
        let e = config(&[("OPENAI_HTTP2", "yes")]).unwrap_err();
        assert_eq!(e.variable, "OPENAI_HTTP2");
        assert!(e.reason.contains("auto, off or always"), "{}", e.reason);
    }

    #[test]
    fn answer_length_is_1024_tokens_unless_set_and_0_sends_none() {
        assert_eq!(config(&[]).unwrap().max_answer_tokens, Some(1024));
        let c = config(&[("MAX_ANSWER_TOKENS", "64")]).unwrap();
        assert_eq!(c.max_answer_tokens, Some(64));
        let c = config(&[("MAX_ANSWER_TOKENS", "0")]).unwrap();
        assert_eq!(c.max_answer_tokens, None);
        let e = config(&[("MAX_ANSWER_TOKENS", "-1")]).unwrap_err();
        assert_eq!(e.variable, "MAX_ANSWER_TOKENS");
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let e = config(&[("RUN_TIME_LIMIT_SECS", "soon")]).unwrap_err();
        assert_eq!(e.variable, "RUN_TIME_LIMIT_SECS");
        let e = config(&[("DATABASE_URL", "mysql://x")]).unwrap_err();
        assert_eq!(e.variable, "DATABASE_URL");
        let e = config(&[("DOCS_DIR", "/nonexistent/dir")]).unwrap_err();
        assert_eq!(e.variable, "DOCS_DIR");
        let e = config(&[("LEPTOS_SITE_ADDR", "nowhere")]).unwrap_err();
        assert_eq!(e.variable, "LEPTOS_SITE_ADDR");
        let e = config(&[("OPENAI_BASE_URL", "localhost:11434")]).unwrap_err();
        assert_eq!(e.variable, "OPENAI_BASE_URL");
        let e = config(&[("OPENAI_TIMEOUT_SECS", "0")]).unwrap_err();
        assert_eq!(e.variable, "OPENAI_TIMEOUT_SECS");
        let e = config(&[("REQUEST_TIMEOUT_SECS", "0")]).unwrap_err();
        assert_eq!(e.variable, "REQUEST_TIMEOUT_SECS");
        let e = config(&[("EMBEDDINGS_MODEL", "e5")]).unwrap_err();
        assert_eq!(e.variable, "EMBEDDINGS_MODEL");
        let e = config(&[("ASSISTANT_INSTRUCTIONS", "/nonexistent/file")]).unwrap_err();
        assert_eq!(e.variable, "ASSISTANT_INSTRUCTIONS");
        let e = config(&[("DOCS_BASE_URL", "docs.example.com")]).unwrap_err();
        assert_eq!(e.variable, "DOCS_BASE_URL");
        let e = config(&[("SLACK_BOT_TOKEN", "xoxb-1")]).unwrap_err();
        assert_eq!(e.variable, "SLACK_CHANNEL");
        let e = config(&[("SLACK_CHANNEL", "C1")]).unwrap_err();
        assert_eq!(e.variable, "SLACK_BOT_TOKEN");
        let e = config(&[
            ("SLACK_BOT_TOKEN", "x"),
            ("SLACK_CHANNEL", "C1"),
            ("SLACK_API_URL", "slack"),
        ])
        .unwrap_err();
        assert_eq!(e.variable, "SLACK_API_URL");
        let e = config(&[("TRUST_PROXY", "yes")]).unwrap_err();
        assert_eq!(e.variable, "TRUST_PROXY");
        let e = config(&[("LOG_FORMAT", "xml")]).unwrap_err();
        assert_eq!(e.variable, "LOG_FORMAT");
        let e = config(&[("RUN_LEASE_SECS", "1")]).unwrap_err();
        assert_eq!(e.variable, "RUN_LEASE_SECS");
        let e = config(&[("SESSION_SECRET", "short")]).unwrap_err();
        assert_eq!(e.variable, "SESSION_SECRET");
        for token in ["ADMIN_TOKEN", "METRICS_TOKEN"] {
            let e = config(&[(token, "s3cret-admin")]).unwrap_err();
            assert_eq!(e.variable, token);
            assert!(e.reason.contains("32"), "{}", e.reason);
            assert!(config(&[(token, &"t".repeat(32))]).is_ok());
        }
        for variable in [
            "MAX_ACTIVE_RUNS_PER_ADDR",
            "MAX_RUNNING_RUNS",
            "TOKEN_BUDGET_PER_ADDR_PER_DAY",
            "TOKEN_BUDGET_PER_DAY",
            "MODEL_CONTEXT_TOKENS",
            "RATE_LIMIT_READS_ADDR_PER_MIN",
            "MAX_THREAD_MESSAGES",
            "HEADER_READ_TIMEOUT_SECS",
            "SLACK_NOTICES_ADDR_PER_MIN",
        ] {
            let e = config(&[(variable, "-1")]).unwrap_err();
            assert_eq!(e.variable, variable);
        }
        for bad in [
            "docs.example.com",
            "https://docs.example.com/path",
            "https://a.b; script-src *",
        ] {
            let e = config(&[("WIDGET_ALLOWED_ORIGINS", bad)]).unwrap_err();
            assert_eq!(e.variable, "WIDGET_ALLOWED_ORIGINS", "{bad}");
        }
    }

    #[test]
    fn widget_origins_are_a_list() {
        assert_eq!(config(&[]).unwrap().widget_allowed_origins, None);
        let c = config(&[(
            "WIDGET_ALLOWED_ORIGINS",
            "https://docs.example.com/, http://127.0.0.1:8080 https://*.example.org",
        )])
        .unwrap();
        assert_eq!(
            c.widget_allowed_origins.unwrap(),
            vec![
                "https://docs.example.com",
                "http://127.0.0.1:8080",
                "https://*.example.org"
            ]
        );
    }

    #[test]
    fn names_and_example_questions_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path.display().to_string()
        };
        let fine = file("fine.txt", "# ours\nOne?\n\nTwo?\n");
        let c = config(&[("EXAMPLE_QUESTIONS", &fine), ("ASSISTANT_NAME", " Acme ")]).unwrap();
        assert_eq!(c.example_questions, ["One?", "Two?"]);
        assert_eq!(c.assistant_name, "Acme");
        assert!(c.assistant_name_set);
        let many = file("many.txt", &"Q?\n".repeat(7));
        let long = file("long.txt", &"x".repeat(201));
        for (vars, variable) in [
            (
                vec![("EXAMPLE_QUESTIONS", many.as_str())],
                "EXAMPLE_QUESTIONS",
            ),
            (
                vec![("EXAMPLE_QUESTIONS", long.as_str())],
                "EXAMPLE_QUESTIONS",
            ),
            (
                vec![("EXAMPLE_QUESTIONS", "/no/such/file")],
                "EXAMPLE_QUESTIONS",
            ),
            (vec![("ASSISTANT_NAME", "a\nb")], "ASSISTANT_NAME"),
            (vec![("RETENTION_DAYS", "-1")], "RETENTION_DAYS"),
        ] {
            let Err(e) = config(&vars) else {
                panic!("{vars:?} is refused");
            };
            assert_eq!(e.variable, variable, "{vars:?}");
        }
        let defaults = config(&[]).unwrap();
        assert_eq!(defaults.assistant_name, "Paste Assistant");
        assert!(!defaults.assistant_name_set);
        assert_eq!(defaults.retention_days, 0);
        assert_eq!(
            defaults.example_questions.len(),
            3,
            "our own guide, our own examples"
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let c = config(&[
            ("OPENAI_API_KEY", "sk-very-secret"),
            ("SLACK_BOT_TOKEN", "xoxb-very-secret"),
            ("SLACK_CHANNEL", "C123"),
            ("SESSION_SECRET", "session-very-secret-session-very-secret"),
        ])
        .unwrap();
        let printed = format!("{c:?}");
        for secret in ["sk-very-secret", "xoxb-very-secret", "session-very-secret"] {
            assert!(!printed.contains(secret), "{printed}");
        }
        assert_eq!(c.slack.as_ref().unwrap().api_url, "https://slack.com/api");
        assert!(c.uses_remote_model());
    }
}
