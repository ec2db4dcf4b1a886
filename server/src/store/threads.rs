//! Threads: a session's conversations, their metadata and their Slack thread.
use sqlx::AssertSqlSafe;

use super::ThreadRow;
use super::{Page, Store, StoreResult};

impl Store {
    pub async fn insert_thread(&self, row: &ThreadRow) -> StoreResult<()> {
        row.insert().execute(&self.writer).await?;
        Ok(())
    }

    /// The thread if it exists and belongs to `session`.
    pub async fn thread(&self, session: &str, id: &str) -> StoreResult<Option<ThreadRow>> {
        self.owned("threads", "session_id", id, session).await
    }

    /// A session's threads, newest first.
    pub async fn threads(&self, session: &str, page: &Page) -> StoreResult<Vec<ThreadRow>> {
        self.page_of("threads", "session_id", session, page).await
    }

    pub async fn set_thread_metadata(&self, id: &str, metadata: &str) -> StoreResult<()> {
        self.set_thread_column("metadata", id, metadata).await
    }

    /// Writes one column of a thread (`column` a constant of this module).
    async fn set_thread_column(&self, column: &str, id: &str, value: &str) -> StoreResult<()> {
        let sql = format!("UPDATE threads SET {column} = $1 WHERE id = $2");
        sqlx::query(AssertSqlSafe(sql))
            .bind(value)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Deletes a thread with its messages, runs, steps and ratings, all or nothing.
    pub async fn delete_thread(&self, id: &str) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        // `cited_pages` go with their `questions` row (ON DELETE CASCADE).
        for table in ["feedback", "questions", "run_steps", "runs", "messages"] {
            let sql = format!("DELETE FROM {table} WHERE thread_id = $1");
            sqlx::query(AssertSqlSafe(sql))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let done = sqlx::query("DELETE FROM threads WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Keeps the `ts` of a thread's Slack announcement.
    pub async fn set_slack_ts(&self, thread_id: &str, ts: &str) -> StoreResult<()> {
        self.set_thread_column("slack_ts", thread_id, ts).await
    }

    /// The `ts` of a thread's Slack announcement, once Slack has answered it.
    pub async fn slack_ts(&self, thread_id: &str) -> StoreResult<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT slack_ts FROM threads WHERE id = $1")
                .bind(thread_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(ts,)| ts))
    }
}
