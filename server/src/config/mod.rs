//! Settings read from the environment (API.md's table), checked once at start: the settings'
//! themselves here, their value types in `values`, the reading rules in `env`, and the checks of
//! settings that need more than one rule in `read`.
use std::{net::SocketAddr, path::PathBuf, time::Duration};

mod env;
mod read;
pub mod settings;
#[cfg(test)]
mod tests;
mod values;

use env::{Env, parse_origins};
use read::*;
pub use read::{CrawlSettings, GUIDE_DIR};
pub use values::{ConfigError, Http2, Secret};

#[derive(Clone, Debug)]
pub struct Config {
    pub addr: SocketAddr,
    pub database_url: String,
    pub docs_dir: PathBuf,
    /// `docs_dir` is this executable's own guide, written there at start (`DOCS_DIR` unset and
    /// no `docs/` where it runs: the release archive run from any folder).
    pub builtin_guide: bool,
    /// Published docs sites crawled beside (or instead of) the folder (`DOCS_SITE_URL`).
    pub docs_sites: Vec<String>,
    /// Whether `docs_dir` is read: false when only sites are the docs (`DOCS_SITE_URL` set,
    /// `DOCS_DIR` not).
    pub docs_folder: bool,
    pub docs_crawl: CrawlSettings,
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
    pub openai_http2: Http2,
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
    /// The MCP server at `/mcp` (`MCP_ENABLED`); off, `/mcp` is 404.
    pub mcp_enabled: bool,
    /// Its `ask_docs` tool, which spends model tokens (`MCP_ASK`).
    pub mcp_ask: bool,
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
        let docs_dir = docs_dir(&env)?;
        Ok(Self {
            addr: env.parse_or("LEPTOS_SITE_ADDR", "127.0.0.1:3000".parse().unwrap())?,
            database_url: database_url(&env)?,
            docs_dir: docs_dir.clone(),
            builtin_guide: docs_dir == std::path::Path::new(GUIDE_DIR),
            docs_sites: docs_sites(&env)?,
            docs_folder: env.get("DOCS_DIR").is_some() || env.get("DOCS_SITE_URL").is_none(),
            docs_crawl: crawl_settings(&env)?,
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
            openai_http2: env.parse_or("OPENAI_HTTP2", Http2::Auto)?,
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
            mcp_enabled: env.parse_or("MCP_ENABLED", true)?,
            mcp_ask: env.parse_or("MCP_ASK", false)?,
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
