//! Runs: their life cycle (every status change is one conditional update) and the day's
//! token spending they count against.
use sqlx::AssertSqlSafe;

use super::{Change, MessageRow, RunRow, StepRow, Store, StoreResult, status_list};
use crate::ids::now_secs;
use app::api::RunStatus;

impl Store {
    pub async fn run(&self, thread_id: &str, run_id: &str) -> StoreResult<Option<RunRow>> {
        self.owned("runs", "thread_id", run_id, thread_id).await
    }

    pub async fn run_by_id(&self, run_id: &str) -> StoreResult<Option<RunRow>> {
        Ok(sqlx::query_as("SELECT * FROM runs WHERE id = $1")
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Every run of a thread, oldest first.
    pub async fn runs_of_thread(&self, thread_id: &str) -> StoreResult<Vec<RunRow>> {
        self.of_thread("runs", "id", thread_id).await
    }

    /// Runs that are not terminal, for recovery at start.
    pub async fn active_runs(&self) -> StoreResult<Vec<RunRow>> {
        let sql = format!(
            "SELECT * FROM runs WHERE status IN {} ORDER BY id",
            status_list(RunStatus::is_active)
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?)
    }

    /// Moves a run from one of `from` to `to`, setting the named timestamp column to now and
    /// `last_error`/`required_action` as given. Returns whether the run was in `from`: a
    /// transition that lost a race changes nothing.
    pub async fn transition(
        &self,
        run_id: &str,
        from: &[RunStatus],
        to: RunStatus,
        change: Change<'_>,
    ) -> StoreResult<bool> {
        let from_list = from
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut sets = vec![
            "status = $1".to_string(),
            "required_action = $2".to_string(),
        ];
        sets.push("last_error = COALESCE($3, last_error)".into());
        sets.push("usage = COALESCE($4, usage)".into());
        sets.push("lease_until = $5".into());
        if let Some(column) = change.stamp {
            // A number we made, not input: inlined so every bound parameter is referenced.
            sets.push(format!("{column} = COALESCE({column}, {})", now_secs()));
        }
        let sql = format!(
            "UPDATE runs SET {} WHERE id = $6 AND status IN ({from_list})",
            sets.join(", ")
        );
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(to.as_str())
            .bind(change.required_action)
            .bind(change.last_error)
            .bind(change.usage)
            .bind(change.lease_until)
            .bind(run_id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Runs not yet ended over all of a session's threads.
    pub async fn active_runs_of_session(&self, session: &str) -> StoreResult<i64> {
        self.active_runs_where(
            "runs JOIN threads ON runs.thread_id = threads.id WHERE threads.session_id = $1",
            session,
        )
        .await
    }

    /// Runs not yet ended that requests from `addr` started, over all sessions.
    pub async fn active_runs_of_addr(&self, addr: &str) -> StoreResult<i64> {
        self.active_runs_where("runs WHERE client_addr = $1", addr)
            .await
    }

    /// Counts the active runs of `from_where` (a constant naming `$1`), with `$1` = `value`.
    async fn active_runs_where(&self, from_where: &str, value: &str) -> StoreResult<i64> {
        let sql = format!(
            "SELECT COUNT(*) FROM {from_where} AND runs.status IN {}",
            status_list(RunStatus::is_active)
        );
        let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(sql))
            .bind(value)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Model tokens spent on `day` (days since 1970, UTC) by `addr` and by everyone.
    pub async fn tokens_spent(&self, day: i64, addr: Option<&str>) -> StoreResult<(i64, i64)> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT scope, tokens FROM token_usage WHERE day = $1 AND (scope = '*' OR scope = $2)",
        )
        .bind(day)
        .bind(addr.unwrap_or("*"))
        .fetch_all(&self.pool)
        .await?;
        let of = |scope: &str| rows.iter().find(|(s, _)| s == scope).map_or(0, |(_, n)| *n);
        Ok((addr.map_or(0, of), of("*")))
    }

    /// Adds `tokens` to `addr`'s count and everyone's for `day`.
    pub async fn add_tokens(&self, day: i64, addr: Option<&str>, tokens: i64) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        for scope in addr.into_iter().chain(["*"]) {
            sqlx::query(
                "INSERT INTO token_usage (day, scope, tokens) VALUES ($1, $2, $3) \
                 ON CONFLICT (day, scope) DO UPDATE SET tokens = token_usage.tokens + $3",
            )
            .bind(day)
            .bind(scope)
            .bind(tokens)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// How many runs there are in each status (metrics).
    pub async fn runs_by_status(&self) -> StoreResult<Vec<(String, i64)>> {
        Ok(
            sqlx::query_as("SELECT status, COUNT(*) FROM runs GROUP BY status ORDER BY status")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Completes a run: stores the answer and its step, then marks the run completed, all in
    /// one transaction, and only if the run is still in progress.
    pub async fn complete_run(
        &self,
        run_id: &str,
        message: &MessageRow,
        step: &StepRow,
        usage: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(
            "UPDATE runs SET status = $4, completed_at = $1, usage = $2, \
             required_action = NULL, lease_until = NULL WHERE id = $3 AND status = $5",
        )
        .bind(now_secs())
        .bind(usage)
        .bind(run_id)
        .bind(RunStatus::Completed.as_str())
        .bind(RunStatus::InProgress.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        message.upsert().execute(&mut *tx).await?;
        step.insert().execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(true)
    }
}
