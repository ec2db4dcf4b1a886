//! The one service layer: every operation the REST API and the pages' server functions offer,
//! with its validation and ownership rules (API.md). It is the only door to the store, the
//! engine and the docs; handlers parse, call one method and render its answer.
pub mod admin;
mod agents;
mod docs;
/// A run's event stream (Assistants v2 streaming events).
pub mod events;
pub mod feedback;
pub mod pages;
mod retention;
mod runs;
mod threads;
mod titles;

pub use agents::{AGENT_QUERY_MAX_CHARS, AGENT_SEARCH_MAX, AgentAnswer, AgentPage};
pub use docs::{DocsPage, DocsSource, Reindexed, SEARCH_MAX_LIMIT};
pub use threads::{Conversation, unanswered_question};
pub use titles::{
    COMPLETION_MAX_CHARS, COMPLETION_MAX_TOKENS, SimpleCompletion, TITLE_INSTRUCTIONS,
    TITLE_MAX_CHARS, clean_title,
};

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::config::Config;
use crate::docs::live::LiveDocs;
use crate::engine::Engine;
use crate::ids::{InvalidId, Kind, is_valid};
use crate::slack::Slack;
use crate::store::{Page, Store, StoreError};
use app::api::ErrorKind;

pub const DEFAULT_TITLE: &str = app::api::DEFAULT_TITLE;
/// OpenAI's metadata limits.
const METADATA_MAX_KEYS: usize = 16;
const METADATA_MAX_KEY: usize = 64;
const METADATA_MAX_VALUE: usize = 512;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    BadRequest(String),
    /// No credentials, or wrong ones (`WWW-Authenticate: Bearer`).
    #[error("{0}")]
    Unauthorized(String),
    /// The operation is switched off on this server.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("The model could not answer: {0}")]
    Upstream(String),
    /// Too many answers being written for this session or address at once.
    #[error("{0}")]
    Busy(String),
    /// Today's model tokens are spent (for this address, or for everyone).
    #[error("{message}")]
    BudgetExhausted {
        message: String,
        retry_after_secs: u64,
    },
    /// The database does not answer (health checks).
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceError {
    /// The one mapping from service errors to kinds (and so to status codes).
    pub fn kind(&self) -> ErrorKind {
        match self {
            ServiceError::BadRequest(_) => ErrorKind::BadRequest,
            ServiceError::Unauthorized(_) => ErrorKind::Unauthorized,
            ServiceError::Forbidden(_) => ErrorKind::Forbidden,
            ServiceError::NotFound(_) => ErrorKind::NotFound,
            ServiceError::Conflict(_) => ErrorKind::Conflict,
            ServiceError::Upstream(_) => ErrorKind::Upstream,
            ServiceError::Busy(_) | ServiceError::BudgetExhausted { .. } => ErrorKind::RateLimited,
            ServiceError::Unavailable(_) => ErrorKind::Unavailable,
            ServiceError::Store(e) if e.is_unreachable() => ErrorKind::Unavailable,
            ServiceError::Store(_) => ErrorKind::Server,
        }
    }

    /// What the person is told. A database error's cause is logged here, never sent.
    pub fn public_message(&self) -> String {
        match self {
            ServiceError::Store(e) if e.is_unreachable() => {
                tracing::error!(error = %e, "request failed: the database does not answer");
                "The assistant's database is not answering right now; nothing was lost, please \
                 retry in a moment."
                    .into()
            }
            ServiceError::Store(e) => {
                tracing::error!(error = ?e, "request failed on a database error");
                "The server could not complete the request; nothing was lost, please retry.".into()
            }
            other => other.to_string(),
        }
    }
}

impl From<InvalidId> for ServiceError {
    fn from(e: InvalidId) -> Self {
        ServiceError::BadRequest(e.to_string())
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// Locks the admission of new runs is spread over, by client.
const ADMISSION_SHARDS: usize = 64;

/// Whether the server can take traffic (`/readyz`).
pub struct Readiness {
    pub database: bool,
    /// Whether the docs index is built (the first one is built after the server starts).
    pub docs: bool,
    pub docs_pages: usize,
    pub docs_sources: Vec<docs::DocsSource>,
    /// Runs this instance is executing now.
    pub runs_executing: usize,
}

#[derive(Clone)]
pub struct Assistant {
    store: Store,
    engine: Engine,
    docs: LiveDocs,
    config: Arc<Config>,
    /// Slack notices, when configured.
    slack: Option<Slack>,
    /// The published docs sites (`DOCS_SITE_URL`), when configured.
    sites: Option<crate::crawl::keeper::Keeper>,
    /// Held while a new run is checked against the limits and stored, so that requests arriving
    /// together cannot all pass a check that only one of them may pass (on this instance;
    /// instances sharing a database can each let one through at the same moment). One per
    /// shard of clients.
    admission: Arc<[tokio::sync::Mutex<()>; ADMISSION_SHARDS]>,
}

impl Assistant {
    pub fn new(
        store: Store,
        engine: Engine,
        docs: LiveDocs,
        config: Arc<Config>,
        slack: Option<Slack>,
    ) -> Self {
        Self {
            store,
            engine,
            docs,
            config,
            slack,
            sites: None,
            admission: Arc::new(std::array::from_fn(|_| Default::default())),
        }
    }

    /// With the keeper of the published docs sites.
    pub fn with_sites(mut self, sites: Option<crate::crawl::keeper::Keeper>) -> Self {
        self.sites = sites;
        self
    }

    /// Whether `bearer` is the operator's `ADMIN_TOKEN`; `what` names the operation in the
    /// answer when admin routes are off.
    fn check_admin(&self, bearer: Option<&str>, what: &str) -> ServiceResult<()> {
        let Some(expected) = &self.config.admin_token else {
            return Err(ServiceError::Forbidden(format!(
                "{what} is off: set ADMIN_TOKEN on the server to turn it on."
            )));
        };
        match bearer {
            None => Err(ServiceError::Unauthorized(
                "Send the admin token as `Authorization: Bearer <ADMIN_TOKEN>`.".into(),
            )),
            Some(token) if !same_secret(token, expected.expose()) => Err(
                ServiceError::Unauthorized("The admin token is not valid.".into()),
            ),
            Some(_) => Ok(()),
        }
    }

    /// Liveness: the database answers.
    pub async fn health(&self) -> ServiceResult<()> {
        self.store.ping().await.map_err(|e| {
            tracing::error!(error = %e, "health check: the database does not answer");
            ServiceError::Unavailable("database unavailable".into())
        })
    }

    /// Waits until the first docs index is built (it is built after the server starts).
    pub async fn docs_ready(&self) {
        self.docs.ready().await;
    }

    /// Readiness: the database answers and the docs index is built.
    pub async fn readiness(&self) -> Readiness {
        let database = self.health().await.is_ok();
        Readiness {
            database,
            docs: self.docs.is_ready(),
            docs_pages: self.docs.current().stats.pages,
            // Unauthenticated: the folder is named by its setting, not by where it is on the
            // server (the admin overview shows the path).
            docs_sources: self
                .docs_sources()
                .await
                .into_iter()
                .map(|mut s| {
                    if s.kind == "folder" {
                        s.location = "DOCS_DIR".into();
                    }
                    s
                })
                .collect(),
            runs_executing: *self.engine.executing().borrow(),
        }
    }

    /// `/metrics` in Prometheus's text format, for the holder of `METRICS_TOKEN` when one is
    /// set; runs are counted in the database, so every instance reports the same totals.
    pub async fn metrics(&self, bearer: Option<&str>) -> ServiceResult<String> {
        if let Some(expected) = &self.config.metrics_token
            && !bearer.is_some_and(|given| same_secret(given, expected.expose()))
        {
            return Err(ServiceError::Unauthorized(
                "Send METRICS_TOKEN as `Authorization: Bearer <token>`.".into(),
            ));
        }
        let runs = match self.store.runs_by_status().await {
            Ok(runs) => Some(runs),
            Err(e) => {
                tracing::error!(error = %e, "metrics: could not count runs");
                None
            }
        };
        Ok(crate::metrics::render(runs.as_deref()))
    }

    /// Changes when any run changes on this instance (an event recorded, new text written or
    /// saved).
    pub fn run_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.engine.any_change()
    }

    /// How many runs this instance executes, now and as it changes.
    pub fn runs_executing(&self) -> tokio::sync::watch::Receiver<usize> {
        self.engine.executing()
    }

    /// The widget's default title: the assistant's name when `ASSISTANT_NAME` is set.
    pub fn widget_title(&self) -> Option<&str> {
        self.config
            .assistant_name_set
            .then_some(self.config.assistant_name.as_str())
    }

    /// The name of the model that answers, as the pages show it.
    pub fn model_label(&self) -> String {
        let name = self.engine.model_name();
        if name == crate::models::offline::NAME {
            "the offline model (docs search)".to_string()
        } else {
            name.to_string()
        }
    }

    /// At shutdown: the runs this process executes go back to the database for another
    /// instance; how many did.
    pub async fn hand_back_runs(&self) -> usize {
        self.engine.hand_back().await
    }
}

/// Compares in constant time: the SHA-256 digests of both, byte by byte without stopping at
/// the first difference, so neither where they differ nor the token's length shows in the
/// time an answer takes.
fn same_secret(given: &str, expected: &str) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(given), Sha256::digest(expected));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

fn bad(message: &str) -> ServiceError {
    ServiceError::BadRequest(message.to_string())
}

fn shorten(text: &str) -> String {
    let t: String = text.chars().take(80).collect();
    if t.len() < text.len() {
        format!("{t}…")
    } else {
        t
    }
}

fn check_cursor(kind: Kind, page: &Page) -> ServiceResult<()> {
    match &page.after {
        Some(after) if !is_valid(kind, after) => {
            Err(bad(&format!("`after` is not a valid {} id", kind.name())))
        }
        _ => Ok(()),
    }
}

fn check_metadata(map: &Map<String, Value>) -> ServiceResult<()> {
    if map.len() > METADATA_MAX_KEYS {
        return Err(bad(&format!(
            "metadata can have at most {METADATA_MAX_KEYS} keys"
        )));
    }
    for (key, value) in map {
        if key.chars().count() > METADATA_MAX_KEY {
            return Err(bad(&format!(
                "metadata keys are at most {METADATA_MAX_KEY} characters"
            )));
        }
        let Some(value) = value.as_str() else {
            return Err(bad(&format!(
                "metadata value of `{}` must be a string",
                shorten(key)
            )));
        };
        if value.chars().count() > METADATA_MAX_VALUE {
            return Err(bad(&format!(
                "metadata values are at most {METADATA_MAX_VALUE} characters"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        let token = "a".repeat(40);
        assert!(same_secret(&token, &token));
        assert!(!same_secret(&"a".repeat(39), &token));
        assert!(!same_secret(&format!("{}b", "a".repeat(39)), &token));
        assert!(!same_secret("", &token));
    }

    #[test]
    fn metadata_limits_are_openais() {
        let mut m = Map::new();
        for i in 0..16 {
            m.insert(format!("k{i}"), Value::String("v".into()));
        }
        assert!(check_metadata(&m).is_ok());
        m.insert("k16".into(), Value::String("v".into()));
        assert!(check_metadata(&m).is_err());
        let m: Map<String, Value> = [("k".repeat(65), Value::String("v".into()))]
            .into_iter()
            .collect();
        assert!(check_metadata(&m).is_err());
        let m: Map<String, Value> = [("k".into(), Value::String("v".repeat(513)))]
            .into_iter()
            .collect();
        assert!(check_metadata(&m).is_err());
        let m: Map<String, Value> = [("k".into(), Value::Bool(true))].into_iter().collect();
        assert!(check_metadata(&m).is_err());
    }
}
