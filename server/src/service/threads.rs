//! Threads and their messages: created, listed, renamed by metadata, read whole, deleted.
use serde_json::{Map, Value};

use super::METADATA_MAX_KEY;
use super::{
    Assistant, DEFAULT_TITLE, ServiceError, ServiceResult, bad, check_cursor, check_metadata,
    shorten,
};
use crate::ids::{Kind, ThreadId, now_secs};
use crate::store::{MessageRow, Page, RunRow, StepRow, ThreadRow};

impl Assistant {
    pub async fn create_thread(
        &self,
        session: &str,
        addr: Option<&str>,
        metadata: Option<Value>,
    ) -> ServiceResult<ThreadRow> {
        let mut map = match metadata {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(bad("`metadata` must be an object of string values")),
        };
        map.retain(|_, v| v.as_str() != Some(""));
        check_metadata(&map)?;
        map.entry("threadTitle")
            .or_insert_with(|| Value::String(DEFAULT_TITLE.into()));
        check_metadata(&map)?;
        let row = ThreadRow {
            id: ThreadId::new().into_string(),
            session_id: session.to_string(),
            created_at: now_secs(),
            metadata: Value::Object(map).to_string(),
            slack_ts: None,
        };
        self.store.insert_thread(&row).await?;
        if let Some(slack) = &self.slack {
            slack.thread_created(&row.id, addr);
        }
        Ok(row)
    }

    /// The caller's thread, or 404 (another session's thread is as missing as a deleted one).
    pub async fn thread(&self, session: &str, thread_id: &ThreadId) -> ServiceResult<ThreadRow> {
        self.store
            .thread(session, thread_id.as_str())
            .await?
            .ok_or_else(|| {
                ServiceError::NotFound(format!("No thread found with id '{thread_id}'."))
            })
    }

    pub async fn list_threads(&self, session: &str, page: &Page) -> ServiceResult<Vec<ThreadRow>> {
        check_cursor(Kind::Thread, page)?;
        Ok(self.store.threads(session, page).await?)
    }

    /// Merges `metadata` into the thread's; a key set to `""` is removed.
    pub async fn update_thread(
        &self,
        session: &str,
        thread_id: &ThreadId,
        metadata: Option<Value>,
    ) -> ServiceResult<ThreadRow> {
        let mut thread = self.thread(session, thread_id).await?;
        let patch = match metadata {
            Some(Value::Object(m)) => m,
            None | Some(Value::Null) => Map::new(),
            Some(_) => return Err(bad("`metadata` must be an object of string values")),
        };
        let mut current: Map<String, Value> =
            serde_json::from_str(&thread.metadata).unwrap_or_default();
        for (key, value) in &patch {
            if key.chars().count() > METADATA_MAX_KEY {
                return Err(bad(&format!(
                    "metadata keys are at most {METADATA_MAX_KEY} characters"
                )));
            }
            match value.as_str() {
                Some("") => {
                    current.remove(key);
                }
                Some(_) => {
                    current.insert(key.clone(), value.clone());
                }
                None => {
                    return Err(bad(&format!(
                        "metadata value of `{}` must be a string",
                        shorten(key)
                    )));
                }
            }
        }
        check_metadata(&current)?;
        thread.metadata = Value::Object(current).to_string();
        self.store
            .set_thread_metadata(&thread.id, &thread.metadata)
            .await?;
        Ok(thread)
    }

    /// The caller's thread with all its messages, runs and run steps, oldest first (the
    /// page's view).
    pub async fn conversation(
        &self,
        session: &str,
        thread_id: &ThreadId,
    ) -> ServiceResult<Conversation> {
        let thread = self.thread(session, thread_id).await?;
        let messages = self.store.all_messages(&thread.id).await?;
        let runs = self.store.runs_of_thread(&thread.id).await?;
        let steps = self.store.steps_of_thread(&thread.id).await?;
        Ok(Conversation {
            thread,
            messages,
            runs,
            steps,
        })
    }

    pub async fn delete_thread(&self, session: &str, thread_id: &ThreadId) -> ServiceResult<()> {
        let thread = self.thread(session, thread_id).await?;
        self.store.delete_thread(&thread.id).await?;
        Ok(())
    }

    pub async fn list_messages(
        &self,
        session: &str,
        thread_id: &ThreadId,
        page: &Page,
    ) -> ServiceResult<Vec<MessageRow>> {
        let thread = self.thread(session, thread_id).await?;
        check_cursor(Kind::Message, page)?;
        Ok(self.store.messages(&thread.id, page).await?)
    }
}

/// Everything stored about one thread, oldest first.
pub struct Conversation {
    pub thread: ThreadRow,
    pub messages: Vec<MessageRow>,
    pub runs: Vec<RunRow>,
    pub steps: Vec<StepRow>,
}

/// The thread's last question when nothing but cut-off answers follow it.
pub fn unanswered_question(messages: &[MessageRow]) -> Option<&MessageRow> {
    let at = messages.iter().rposition(|m| m.role == "user")?;
    messages[at + 1..]
        .iter()
        .all(|m| !m.is_complete())
        .then(|| &messages[at])
}
