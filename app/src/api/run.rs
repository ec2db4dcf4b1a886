//! A run's status as the wire and the pages carry it.
use serde::{Deserialize, Serialize};

/// A run's place in API.md's life cycle: `queued → in_progress → (requires_action →
/// in_progress)* → completed`, or `failed`, `cancelling → cancelled`, `expired`, `incomplete`.
/// On the wire and in the database it is the same lower-case string as OpenAI's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    InProgress,
    RequiresAction,
    Cancelling,
    Cancelled,
    Failed,
    Completed,
    Incomplete,
    Expired,
}

impl RunStatus {
    pub const ALL: [RunStatus; 9] = [
        RunStatus::Queued,
        RunStatus::InProgress,
        RunStatus::RequiresAction,
        RunStatus::Cancelling,
        RunStatus::Cancelled,
        RunStatus::Failed,
        RunStatus::Completed,
        RunStatus::Incomplete,
        RunStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::InProgress => "in_progress",
            RunStatus::RequiresAction => "requires_action",
            RunStatus::Cancelling => "cancelling",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Failed => "failed",
            RunStatus::Completed => "completed",
            RunStatus::Incomplete => "incomplete",
            RunStatus::Expired => "expired",
        }
    }

    /// Final: the run will never change again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RunStatus::Completed
                | RunStatus::Failed
                | RunStatus::Cancelled
                | RunStatus::Expired
                | RunStatus::Incomplete
        )
    }

    /// Not final yet: someone is (or will be) working on it.
    pub fn is_active(self) -> bool {
        !self.is_terminal()
    }

    /// Active and not being cancelled: an executor may claim it, or hand it back.
    pub fn is_runnable(self) -> bool {
        matches!(
            self,
            RunStatus::Queued | RunStatus::InProgress | RunStatus::RequiresAction
        )
    }

    /// Ended without an answer: the conversation shows why and offers a retry.
    pub fn is_unanswered_end(self) -> bool {
        self.is_terminal() && self != RunStatus::Completed
    }

    /// The statuses for which `keep` holds, in life-cycle order.
    pub fn all_where(keep: fn(RunStatus) -> bool) -> impl Iterator<Item = RunStatus> {
        RunStatus::ALL.into_iter().filter(move |s| keep(*s))
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text that is not one of the run statuses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownRunStatus(pub String);

impl std::fmt::Display for UnknownRunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` is not a run status", self.0)
    }
}

impl std::error::Error for UnknownRunStatus {}

impl std::str::FromStr for RunStatus {
    type Err = UnknownRunStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownRunStatus(s.to_string()))
    }
}

/// How a database row's text becomes a status (sqlx's `try_from`).
impl TryFrom<String> for RunStatus {
    type Error = UnknownRunStatus;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// What the browser needs to follow a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub id: String,
    pub status: RunStatus,
    pub error: Option<String>,
}

impl RunState {
    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }
}
