use serde::{Deserialize, Serialize};

/// A thread as the sidebar lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThreadSummary {
    pub id: String,
    pub title: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// Who said a conversation item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemKind {
    User,
    Assistant,
    /// A run that ended without an answer (failed, expired, cancelled).
    Error,
}

/// A docs page a run searched, listed under its answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub title: String,
    pub url: String,
}

/// One bubble of the conversation; `html` is already sanitized by the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationItem {
    pub id: String,
    pub kind: ItemKind,
    pub html: String,
    /// For answers: the docs pages the run's searches returned, best first.
    pub sources: Vec<Source>,
    /// For errors: the question can be asked again ("Retry").
    pub retry: bool,
}

impl ConversationItem {
    /// A bubble made in the browser (the message just sent, an error of a request).
    pub fn local(id: String, kind: ItemKind, html: String) -> Self {
        Self {
            id,
            kind,
            html,
            sources: Vec::new(),
            retry: false,
        }
    }
}

/// A thread with everything the conversation view shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThreadView {
    pub id: String,
    pub title: String,
    pub items: Vec<ConversationItem>,
    /// The run still going on, if any; the browser polls it.
    pub active_run: Option<String>,
}

/// What the browser needs to follow a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub id: String,
    pub status: String,
    pub error: Option<String>,
}

impl RunState {
    pub fn is_terminal(&self) -> bool {
        is_terminal_status(&self.status)
    }
}

/// Whether a run status is final (API.md's life cycle).
pub fn is_terminal_status(status: &str) -> bool {
    matches!(
        status,
        "completed" | "failed" | "cancelled" | "expired" | "incomplete"
    )
}

/// The answer to sending a message: the run the server started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SentMessage {
    pub thread_id: String,
    pub run: RunState,
}

/// The one error type of the server functions, JSON-encoded on the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AppError {
    NotFound(String),
    BadRequest(String),
    Conflict(String),
    RateLimited(String),
    Server(String),
}

impl AppError {
    pub fn message(&self) -> &str {
        match self {
            AppError::NotFound(m)
            | AppError::BadRequest(m)
            | AppError::Conflict(m)
            | AppError::RateLimited(m)
            | AppError::Server(m) => m,
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for AppError {}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        AppError::Server(value.to_string())
    }
}

/// Sidebar title shown until a title is generated.
pub const DEFAULT_TITLE: &str = "New thread";
