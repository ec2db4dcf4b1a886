//! Run steps: the tool calls and message creations a run is made of.
use sqlx::AssertSqlSafe;

use super::{Page, StepRow, Store, StoreResult};
use crate::ids::now_secs;
use app::api::RunStatus;

impl Store {
    pub async fn insert_step(&self, step: &StepRow) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await?;
        insert_step(&mut conn, step).await
    }

    /// Records a step's outcome: its status, details and usage.
    pub async fn finish_step(&self, step: &StepRow) -> StoreResult<()> {
        sqlx::query(
            "UPDATE run_steps SET status = $1, step_details = $2, last_error = $3, \
             completed_at = $4, failed_at = $5, usage = $6 WHERE id = $7",
        )
        .bind(step.status.as_str())
        .bind(&step.step_details)
        .bind(&step.last_error)
        .bind(step.completed_at)
        .bind(step.failed_at)
        .bind(&step.usage)
        .bind(&step.id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Marks the steps of a run that never finished with the run's terminal status.
    pub async fn close_open_steps(&self, run_id: &str, status: RunStatus) -> StoreResult<()> {
        let column = match status {
            RunStatus::Expired => "expired_at",
            RunStatus::Cancelled => "cancelled_at",
            _ => "failed_at",
        };
        let sql = format!(
            "UPDATE run_steps SET status = $1, {column} = $2 WHERE run_id = $3 AND status = '{}'",
            RunStatus::InProgress
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(status.as_str())
            .bind(now_secs())
            .bind(run_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Every run step of a thread, oldest first (the sources under its answers).
    pub async fn steps_of_thread(&self, thread_id: &str) -> StoreResult<Vec<StepRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM run_steps WHERE thread_id = $1 ORDER BY id")
                .bind(thread_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn steps(&self, run_id: &str, page: &Page) -> StoreResult<Vec<StepRow>> {
        self.page_of("run_steps", "run_id", run_id, page).await
    }
}

pub(super) async fn insert_step(conn: &mut sqlx::AnyConnection, s: &StepRow) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO run_steps (id, run_id, thread_id, created_at, type, status, step_details, \
         last_error, completed_at, failed_at, usage) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&s.id)
    .bind(&s.run_id)
    .bind(&s.thread_id)
    .bind(s.created_at)
    .bind(&s.step_type)
    .bind(s.status.as_str())
    .bind(&s.step_details)
    .bind(&s.last_error)
    .bind(s.completed_at)
    .bind(s.failed_at)
    .bind(&s.usage)
    .execute(conn)
    .await?;
    Ok(())
}
