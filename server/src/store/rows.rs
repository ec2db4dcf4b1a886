//! The rows as the database holds them, shared by the rooms of the store that read and write them.
use app::api::RunStatus;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ThreadRow {
    pub id: String,
    pub session_id: String,
    pub created_at: i64,
    pub metadata: String,
    pub slack_ts: Option<String>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MessageRow {
    pub id: String,
    pub thread_id: String,
    pub created_at: i64,
    pub role: String,
    pub content: String,
    pub run_id: Option<String>,
    pub metadata: String,
    /// `completed`, or for an answer being written `in_progress`, then `incomplete` when its
    /// run ended mid-answer.
    pub status: String,
    /// `{"reason": …}` of an incomplete answer.
    pub incomplete_details: Option<String>,
    pub completed_at: Option<i64>,
    pub incomplete_at: Option<i64>,
}

/// A message's status (OpenAI's message object).
pub mod message_status {
    pub const COMPLETED: &str = "completed";
    pub const IN_PROGRESS: &str = "in_progress";
    pub const INCOMPLETE: &str = "incomplete";
}

impl MessageRow {
    /// A whole message of `role` (a question, or an answer written at once), made at `now`.
    pub fn new(
        thread_id: &str,
        role: &str,
        content: String,
        run_id: Option<&str>,
        now: i64,
    ) -> Self {
        Self {
            id: crate::ids::MessageId::new().into_string(),
            thread_id: thread_id.to_string(),
            created_at: now,
            role: role.to_string(),
            content,
            run_id: run_id.map(str::to_string),
            metadata: "{}".into(),
            status: message_status::COMPLETED.into(),
            incomplete_details: None,
            completed_at: Some(now),
            incomplete_at: None,
        }
    }

    /// Whether the message is whole (not an answer cut off or still being written).
    pub fn is_complete(&self) -> bool {
        self.status == message_status::COMPLETED
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RunRow {
    pub id: String,
    pub thread_id: String,
    pub message_id: String,
    pub created_at: i64,
    #[sqlx(try_from = "String")]
    pub status: RunStatus,
    pub model: String,
    pub instructions: String,
    pub required_action: Option<String>,
    pub last_error: Option<String>,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub expires_at: i64,
    pub usage: Option<String>,
    pub lease_until: Option<i64>,
    /// The address (IPv6 by /64) of the request that started the run, when known.
    pub client_addr: Option<String>,
}

impl RunRow {
    /// A new queued run of `message_id` in `thread_id`, made at `now`, ending by `expires_at`.
    pub fn queued(
        thread_id: &str,
        message_id: &str,
        model: &str,
        instructions: &str,
        now: i64,
        expires_at: i64,
    ) -> Self {
        Self {
            id: crate::ids::RunId::new().into_string(),
            thread_id: thread_id.to_string(),
            message_id: message_id.to_string(),
            created_at: now,
            status: RunStatus::Queued,
            model: model.to_string(),
            instructions: instructions.to_string(),
            required_action: None,
            last_error: None,
            started_at: None,
            completed_at: None,
            failed_at: None,
            cancelled_at: None,
            expires_at,
            usage: None,
            lease_until: None,
            client_addr: None,
        }
    }
}

/// Optional parts of a run transition.
#[derive(Default)]
pub struct Change<'a> {
    pub stamp: Option<&'static str>,
    pub required_action: Option<&'a str>,
    pub last_error: Option<&'a str>,
    pub usage: Option<&'a str>,
    pub lease_until: Option<i64>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StepRow {
    pub id: String,
    pub run_id: String,
    pub thread_id: String,
    pub created_at: i64,
    #[sqlx(rename = "type")]
    pub step_type: String,
    /// A step's status: `in_progress`, then `completed`, `failed`, `cancelled` or `expired`.
    #[sqlx(try_from = "String")]
    pub status: RunStatus,
    pub step_details: String,
    pub last_error: Option<String>,
    pub completed_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub expired_at: Option<i64>,
    pub usage: Option<String>,
}

impl StepRow {
    /// A new step of `run` (`tool_calls` or `message_creation`), made at `now`.
    pub fn new(
        run: &RunRow,
        step_type: &str,
        status: RunStatus,
        details: String,
        now: i64,
    ) -> Self {
        Self {
            id: crate::ids::StepId::new().into_string(),
            run_id: run.id.clone(),
            thread_id: run.thread_id.clone(),
            created_at: now,
            step_type: step_type.to_string(),
            status,
            step_details: details,
            last_error: None,
            completed_at: None,
            failed_at: None,
            cancelled_at: None,
            expired_at: None,
            usage: None,
        }
    }
}
