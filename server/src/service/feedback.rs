//! Readers rate answers: "up" (helpful) or "down" (not helpful, with an optional reason), and
//! a comment of their own. Only the assistant messages of the caller's own threads.
use super::{Assistant, ServiceError, ServiceResult, bad};
use crate::ids::{MessageId, ThreadId, now_secs};
use crate::store::{FeedbackRow, message_status};

/// Longest comment, in characters.
pub const COMMENT_MAX: usize = 1_000;
/// The reasons a reader can pick after "Not helpful".
pub const REASONS: [&str; 3] = ["wrong", "incomplete", "off_topic"];

/// A rating as a reader sends it.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rating {
    pub rating: Option<String>,
    pub reason: Option<String>,
    pub comment: Option<String>,
}

/// What rating an answer came to.
#[derive(Debug)]
pub enum Rated {
    /// The rating as stored.
    Stored(FeedbackRow),
    /// The rating was removed (`false`: there was none).
    Removed(bool),
}

impl Assistant {
    /// Rates the caller's answer `message_id` in thread `thread_id` (in place of any earlier
    /// rating), or with `None` removes its rating.
    pub async fn rate_answer(
        &self,
        session: &str,
        thread_id: &ThreadId,
        message_id: &MessageId,
        rating: Option<Rating>,
    ) -> ServiceResult<Rated> {
        let message = self.answer(session, thread_id, message_id).await?;
        let Some(rating) = rating else {
            return Ok(Rated::Removed(
                self.store.delete_feedback(&message.id).await?,
            ));
        };
        let value = match rating.rating.as_deref() {
            Some(r @ ("up" | "down")) => r.to_string(),
            Some(_) | None => return Err(bad("`rating` must be \"up\" or \"down\"")),
        };
        let reason = match rating.reason.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(r) if value == "up" => {
                return Err(bad(&format!(
                    "a reason ({r:?}) goes with a \"down\" rating only"
                )));
            }
            Some(r) if REASONS.contains(&r) => Some(r.to_string()),
            Some(_) => {
                return Err(bad(&format!(
                    "`reason` must be one of {}",
                    REASONS.map(|r| format!("\"{r}\"")).join(", ")
                )));
            }
        };
        let comment = rating
            .comment
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
        if comment
            .as_ref()
            .is_some_and(|c| c.chars().count() > COMMENT_MAX)
        {
            return Err(bad(&format!(
                "`comment` is at most {COMMENT_MAX} characters"
            )));
        }
        if message.status == message_status::IN_PROGRESS {
            return Err(ServiceError::Conflict(
                "The answer is still being written: rate it once it is complete.".into(),
            ));
        }
        let now = now_secs();
        let row = FeedbackRow {
            message_id: message.id,
            thread_id: message.thread_id,
            rating: value,
            reason,
            comment,
            created_at: now,
            updated_at: now,
        };
        Ok(Rated::Stored(self.store.set_feedback(&row).await?))
    }

    /// The caller's assistant message, or 404 (a question is as missing as another session's
    /// answer).
    async fn answer(
        &self,
        session: &str,
        thread_id: &ThreadId,
        message_id: &MessageId,
    ) -> ServiceResult<crate::store::MessageRow> {
        let thread = self.thread(session, thread_id).await?;
        self.store
            .message_by_id(message_id.as_str())
            .await?
            .filter(|m| m.thread_id == thread.id && m.role == "assistant")
            .ok_or_else(|| {
                ServiceError::NotFound(format!(
                    "No answer found with id '{message_id}' in thread '{thread_id}'."
                ))
            })
    }
}
