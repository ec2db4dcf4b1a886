//! Run steps: the tool calls and message creations a run is made of.
use sqlx::AssertSqlSafe;

use super::{Page, StepRow, Store, StoreResult};
use crate::ids::now_secs;
use app::api::RunStatus;

impl Store {
    pub async fn insert_step(&self, step: &StepRow) -> StoreResult<()> {
        step.insert().execute(&self.writer).await?;
        Ok(())
    }

    /// Records a step's outcome: its status, details and usage.
    pub async fn finish_step(&self, step: &StepRow) -> StoreResult<()> {
        step.finish().execute(&self.writer).await?;
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
        self.of_thread("run_steps", "id", thread_id).await
    }

    pub async fn steps(&self, run_id: &str, page: &Page) -> StoreResult<Vec<StepRow>> {
        self.page_of("run_steps", "run_id", run_id, page).await
    }
}
