//! The rows as the database holds them, and the statement that writes each: shared by the
//! rooms of the store that read and write them.
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

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FeedbackRow {
    pub message_id: String,
    pub thread_id: String,
    pub rating: String,
    pub reason: Option<String>,
    pub comment: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A question as the team sees it once its run has ended, with its answer and rating (those
/// three are read from their own rows, never written with the question's).
#[derive(Clone, Debug, Default, sqlx::FromRow)]
pub struct QuestionRow {
    pub message_id: String,
    pub thread_id: String,
    pub created_at: i64,
    pub run_id: String,
    pub status: String,
    pub answer_id: Option<String>,
    /// 1 when the docs cover the question, else 0.
    pub covered: i64,
    /// Share of the question's words the best docs sections contain, in %.
    pub coverage: i64,
    pub why: Option<String>,
    /// JSON array of `{title, url}`.
    pub sources: String,
    pub question: String,
    pub answer: Option<String>,
    pub rating: Option<String>,
    pub reason: Option<String>,
    pub comment: Option<String>,
}

/// A statement that writes a row, its values bound: each row below knows its columns, so the
/// rooms of the store that write them only execute.
pub(super) type Statement = sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments>;

impl ThreadRow {
    pub(super) fn insert(&self) -> Statement {
        sqlx::query(
            "INSERT INTO threads (id, session_id, created_at, metadata, slack_ts) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(self.id.clone())
        .bind(self.session_id.clone())
        .bind(self.created_at)
        .bind(self.metadata.clone())
        .bind(self.slack_ts.clone())
    }
}

impl MessageRow {
    /// Inserts the message, or writes its text, status and times over the stored one while
    /// that one is still `in_progress` (an answer being written).
    pub(super) fn upsert(&self) -> Statement {
        sqlx::query(
            "INSERT INTO messages (id, thread_id, created_at, role, content, run_id, metadata, \
             status, incomplete_details, completed_at, incomplete_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (id) DO UPDATE SET content = excluded.content, status = excluded.status, \
             incomplete_details = excluded.incomplete_details, \
             completed_at = excluded.completed_at, incomplete_at = excluded.incomplete_at \
             WHERE messages.status = 'in_progress'",
        )
        .bind(self.id.clone())
        .bind(self.thread_id.clone())
        .bind(self.created_at)
        .bind(self.role.clone())
        .bind(self.content.clone())
        .bind(self.run_id.clone())
        .bind(self.metadata.clone())
        .bind(self.status.clone())
        .bind(self.incomplete_details.clone())
        .bind(self.completed_at)
        .bind(self.incomplete_at)
    }
}

impl RunRow {
    pub(super) fn insert(&self) -> Statement {
        sqlx::query(
            "INSERT INTO runs (id, thread_id, message_id, created_at, status, model, instructions, \
             expires_at, client_addr) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(self.id.clone())
        .bind(self.thread_id.clone())
        .bind(self.message_id.clone())
        .bind(self.created_at)
        .bind(self.status.as_str())
        .bind(self.model.clone())
        .bind(self.instructions.clone())
        .bind(self.expires_at)
        .bind(self.client_addr.clone())
    }
}

impl StepRow {
    /// The step with its outcome so far.
    pub(super) fn insert(&self) -> Statement {
        self.outcome(sqlx::query(
            "INSERT INTO run_steps (status, step_details, last_error, completed_at, failed_at, \
             usage, id, run_id, thread_id, created_at, type) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        ))
        .bind(self.id.clone())
        .bind(self.run_id.clone())
        .bind(self.thread_id.clone())
        .bind(self.created_at)
        .bind(self.step_type.clone())
    }

    /// The step's outcome (status, details and usage) written over the stored one.
    pub(super) fn finish(&self) -> Statement {
        self.outcome(sqlx::query(
            "UPDATE run_steps SET status = $1, step_details = $2, last_error = $3, \
             completed_at = $4, failed_at = $5, usage = $6 WHERE id = $7",
        ))
        .bind(self.id.clone())
    }

    /// Binds `$1`–`$6`: status, details, error, completion, failure, usage.
    fn outcome(&self, statement: Statement) -> Statement {
        statement
            .bind(self.status.as_str())
            .bind(self.step_details.clone())
            .bind(self.last_error.clone())
            .bind(self.completed_at)
            .bind(self.failed_at)
            .bind(self.usage.clone())
    }
}

impl FeedbackRow {
    /// Stores the rating in place of any earlier one of its message (its first time kept),
    /// returning the stored row.
    pub(super) fn upsert(&self) -> Statement {
        sqlx::query(
            "INSERT INTO feedback (message_id, thread_id, rating, reason, comment, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (message_id) DO UPDATE SET rating = excluded.rating, \
             reason = excluded.reason, comment = excluded.comment, \
             updated_at = excluded.updated_at RETURNING *",
        )
        .bind(self.message_id.clone())
        .bind(self.thread_id.clone())
        .bind(self.rating.clone())
        .bind(self.reason.clone())
        .bind(self.comment.clone())
        .bind(self.created_at)
        .bind(self.updated_at)
    }
}

impl QuestionRow {
    /// Records (or, after a retry, replaces) what the question came to; its answer's rating is
    /// read from `feedback`, never written with the question's.
    pub(super) fn upsert(&self) -> Statement {
        sqlx::query(
            "INSERT INTO questions (message_id, thread_id, created_at, question, run_id, status, \
             answer_id, covered, coverage, why, sources, rating) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
             (SELECT rating FROM feedback WHERE message_id = $7)) \
             ON CONFLICT (message_id) DO UPDATE SET run_id = excluded.run_id, \
             status = excluded.status, answer_id = excluded.answer_id, \
             covered = excluded.covered, coverage = excluded.coverage, why = excluded.why, \
             sources = excluded.sources, rating = excluded.rating",
        )
        .bind(self.message_id.clone())
        .bind(self.thread_id.clone())
        .bind(self.created_at)
        .bind(self.question.clone())
        .bind(self.run_id.clone())
        .bind(self.status.clone())
        .bind(self.answer_id.clone())
        .bind(self.covered)
        .bind(self.coverage)
        .bind(self.why.clone())
        .bind(self.sources.clone())
    }
}
