mod run;

pub use run::{RunState, RunStatus, UnknownRunStatus};

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
    /// For complete answers: they can be rated, and how the reader rated them.
    pub feedback: Option<Feedback>,
    /// For answers: the docs do not cover the question (the message's `metadata.covered` is
    /// `"false"`), so a notice says so under the answer.
    pub not_covered: bool,
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
            feedback: None,
            not_covered: false,
        }
    }
}

/// What the pages show of the server's settings: the assistant's name, the model that
/// answers, the example questions of the empty state, and how long conversations are kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Site {
    pub name: String,
    pub model: String,
    pub examples: Vec<String>,
    /// Days after their last message that conversations are deleted (0: kept).
    pub retention_days: u32,
}

impl Site {
    /// The notice above the composer.
    pub fn retention_notice(&self) -> String {
        match self.retention_days {
            0 => "Conversations are kept until you delete them.".into(),
            1 => "Conversations are deleted a day after their last message.".into(),
            n => format!("Conversations are deleted {n} days after their last message."),
        }
    }
}

/// A reader's rating of an answer: "Helpful" or "Not helpful".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rating {
    Up,
    Down,
}

impl Rating {
    /// As the API and the database spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Up => "up",
            Rating::Down => "down",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "up" => Some(Rating::Up),
            "down" => Some(Rating::Down),
            _ => None,
        }
    }
}

/// Where an answer's rating goes (its thread), and the rating it has.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    pub thread_id: String,
    pub rating: Option<Rating>,
}

/// The reasons a reader can give after "Not helpful": (value, label).
pub const REASONS: [(&str, &str); 3] = [
    ("wrong", "Wrong"),
    ("incomplete", "Incomplete"),
    ("off_topic", "Not about my question"),
];

/// A thread with everything the conversation view shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThreadView {
    pub id: String,
    pub title: String,
    /// The newest items, oldest first.
    pub items: Vec<ConversationItem>,
    /// How many older items there are beyond `items` (loaded on demand).
    pub earlier: usize,
    /// The run still going on, if any; the browser polls it.
    pub active_run: Option<String>,
}

/// The answer to sending a message: the run the server started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SentMessage {
    pub thread_id: String,
    pub run: RunState,
}

/// What kind of failure a request met: the one table of HTTP status codes and API.md error
/// types, shared by the REST API and the server functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    RateLimited,
    Upstream,
    Unavailable,
    Server,
}

impl ErrorKind {
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::RateLimited => 429,
            ErrorKind::Server => 500,
            ErrorKind::Upstream => 502,
            ErrorKind::Unavailable => 503,
        }
    }

    /// API.md's `error.type`.
    pub fn error_type(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "invalid_request_error",
            ErrorKind::Unauthorized => "authentication_error",
            ErrorKind::Forbidden => "permission_error",
            ErrorKind::NotFound => "not_found_error",
            ErrorKind::Conflict => "conflict_error",
            ErrorKind::RateLimited => "rate_limit_error",
            ErrorKind::Upstream => "upstream_error",
            ErrorKind::Unavailable | ErrorKind::Server => "server_error",
        }
    }
}

/// The one error type of the server functions, JSON-encoded on the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppError {
    pub kind: ErrorKind,
    pub message: String,
}

impl AppError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn server(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Server, message)
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
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
        AppError::server(value.to_string())
    }
}

/// The JSON of a resource handed from the server's render to the browser. Leptos's default
/// codec decodes it with `serde_json::from_str` while server functions decode their answers
/// with `from_slice`: two copies of every wire type's deserializer in the WASM. This one reads
/// the same bytes with `from_slice`, so the browser carries one (issue 15's size profile).
pub struct WireJson;

impl<T: Serialize> codee::Encoder<T> for WireJson {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: serde::de::DeserializeOwned> codee::Decoder<T> for WireJson {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(text.as_bytes())
    }
}

/// How many items the conversation view shows at first, and how many more each "Load earlier
/// messages" adds: a long thread does not cost a page load its whole history.
pub const SHOWN_ITEMS: usize = 50;

/// Sidebar title shown until a title is generated.
pub const DEFAULT_TITLE: &str = "New thread";

/// Escapes text for HTML text and attribute values (both crates use this one).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_statuses_round_trip_as_openais_strings() {
        for status in RunStatus::ALL {
            assert_eq!(status.as_str().parse::<RunStatus>(), Ok(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::Value::String(status.as_str().into())
            );
            assert_ne!(status.is_terminal(), status.is_active());
        }
        let active: Vec<&str> = RunStatus::all_where(RunStatus::is_active)
            .map(RunStatus::as_str)
            .collect();
        assert_eq!(
            active,
            ["queued", "in_progress", "requires_action", "cancelling"]
        );
        assert!("done".parse::<RunStatus>().is_err());
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
