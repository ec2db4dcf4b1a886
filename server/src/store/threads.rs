//! Threads: a session's conversations, their metadata and their Slack thread.
use sqlx::AssertSqlSafe;

use super::ThreadRow;
use super::{Page, Store, StoreResult};

impl Store {
    pub async fn insert_thread(&self, row: &ThreadRow) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO threads (id, session_id, created_at, metadata, slack_ts) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&row.id)
        .bind(&row.session_id)
        .bind(row.created_at)
        .bind(&row.metadata)
        .bind(&row.slack_ts)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The thread if it exists and belongs to `session`.
    pub async fn thread(&self, session: &str, id: &str) -> StoreResult<Option<ThreadRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM threads WHERE id = $1 AND session_id = $2")
                .bind(id)
                .bind(session)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// A session's threads, newest first.
    pub async fn threads(&self, session: &str, page: &Page) -> StoreResult<Vec<ThreadRow>> {
        self.page_of("threads", "session_id", session, page).await
    }

    pub async fn set_thread_metadata(&self, id: &str, metadata: &str) -> StoreResult<()> {
        sqlx::query("UPDATE threads SET metadata = $1 WHERE id = $2")
            .bind(metadata)
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
        sqlx::query("UPDATE threads SET slack_ts = $1 WHERE id = $2")
            .bind(ts)
            .bind(thread_id)
            .execute(&self.writer)
            .await?;
        Ok(())
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
