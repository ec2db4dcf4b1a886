//! Messages: questions, and answers written as they stream.

use super::{MessageRow, Page, RunRow, Store, StoreResult};
use super::{StoreError, message_status};
use crate::ids::now_secs;

impl Store {
    pub async fn messages(&self, thread_id: &str, page: &Page) -> StoreResult<Vec<MessageRow>> {
        self.page_of("messages", "thread_id", thread_id, page).await
    }

    /// Every message of a thread, oldest first (what the model sees).
    pub async fn all_messages(&self, thread_id: &str) -> StoreResult<Vec<MessageRow>> {
        self.of_thread("messages", "id", thread_id).await
    }

    /// Stores a user message (none for a retry) and the run it starts in one transaction.
    /// Fails with [`StoreError::ActiveRun`] (and stores nothing) when the thread has an
    /// active run.
    pub async fn insert_message_and_run(
        &self,
        message: Option<&MessageRow>,
        run: &RunRow,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        if let Some(message) = message {
            message.upsert().execute(&mut *tx).await?;
        }
        let inserted = run.insert().execute(&mut *tx).await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                // Roll back now rather than when the pool reuses the connection: an open
                // write transaction would hold SQLite's write lock meanwhile.
                tx.rollback().await?;
                return Err(StoreError::ActiveRun);
            }
            Err(e) => {
                tx.rollback().await?;
                return Err(e.into());
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// How many messages (questions and answers) the thread holds.
    pub async fn message_count(&self, thread_id: &str) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM messages WHERE thread_id = $1")
            .bind(thread_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Saves the answer a run is writing (`in_progress`, the text so far). An answer that has
    /// ended (completed or incomplete) is never written over.
    pub async fn save_partial_answer(&self, message: &MessageRow) -> StoreResult<()> {
        message.upsert().execute(&self.writer).await?;
        Ok(())
    }

    /// Ends the answer a run was writing as `incomplete`, keeping what was written; `reason`
    /// is OpenAI's (`run_cancelled`, `run_failed`, `run_expired`). Returns the answer it ended.
    pub async fn end_partial_answer(
        &self,
        run_id: &str,
        reason: &str,
    ) -> StoreResult<Option<MessageRow>> {
        let details = serde_json::json!({ "reason": reason }).to_string();
        // RETURNING: SQLite 3.35+ (bundled by sqlx) and Postgres both have it.
        Ok(sqlx::query_as(
            "UPDATE messages SET status = $1, incomplete_details = $2, incomplete_at = $3 \
             WHERE run_id = $4 AND status = $5 RETURNING *",
        )
        .bind(message_status::INCOMPLETE)
        .bind(details)
        .bind(now_secs())
        .bind(run_id)
        .bind(message_status::IN_PROGRESS)
        .fetch_optional(&self.writer)
        .await?)
    }
}
