//! Leases: which instance executes which run, taken over when an instance stops renewing.
use sqlx::AssertSqlSafe;

use super::{RunRow, Store, StoreResult, status_list};
use app::api::RunStatus;

/// Runs a lease renewal names in one statement (SQLite allows 32,766 bound values, Postgres
/// 65,535; a few hundred keeps each statement short on the one writer).
const RENEW_AT_ONCE: usize = 500;

impl Store {
    /// Takes up to `n` of the oldest queued runs that no live instance holds, in one statement:
    /// `in_progress` with a lease until `lease_until`, oldest first. Of several instances asking
    /// at once each gets other runs (Postgres skips rows another transaction has locked; SQLite
    /// has one writer). One statement for many runs matters on SQLite, where every write waits
    /// for the one writer: claiming runs one by one let them start seconds after their
    /// questions when thousands came at once (docs/benchmarks.md "Load and scale").
    pub async fn claim_queued(
        &self,
        now: i64,
        lease_until: i64,
        n: usize,
    ) -> StoreResult<Vec<RunRow>> {
        let set = format!(
            "UPDATE runs SET status = '{in_progress}', lease_until = $1, \
             started_at = COALESCE(started_at, $2)",
            in_progress = RunStatus::InProgress,
        );
        let oldest = format!(
            "SELECT id FROM runs WHERE status = '{queued}' \
             AND (lease_until IS NULL OR lease_until < $2) ORDER BY created_at, id LIMIT $3",
            queued = RunStatus::Queued,
        );
        let sql = if self.postgres {
            // A CTE, which Postgres evaluates once: as `id IN (SELECT … FOR UPDATE SKIP
            // LOCKED)` the planner may run the subquery again and take more than `n` rows.
            format!(
                "WITH picked AS ({oldest} FOR UPDATE SKIP LOCKED) {set} FROM picked \
                 WHERE runs.id = picked.id AND runs.status = '{queued}' RETURNING runs.*",
                queued = RunStatus::Queued,
            )
        } else {
            format!(
                "{set} WHERE id IN ({oldest}) AND status = '{queued}' RETURNING *",
                queued = RunStatus::Queued,
            )
        };
        let mut runs: Vec<RunRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(lease_until)
            .bind(now)
            .bind(n as i64)
            .fetch_all(&self.writer)
            .await?;
        // RETURNING keeps no order: the oldest question starts first.
        runs.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(runs)
    }

    /// Takes back an active run whose lease ran out (or any active run with `ignore_lease`, for
    /// a single instance starting up): `queued` without a lease, for the next free slot of any
    /// instance. Returns whether this caller moved it.
    pub async fn reclaim(&self, run_id: &str, now: i64, ignore_lease: bool) -> StoreResult<bool> {
        let lease_rule = if ignore_lease {
            ""
        } else {
            " AND (lease_until IS NULL OR lease_until < $2)"
        };
        let sql = format!(
            "UPDATE runs SET status = '{}', required_action = NULL, lease_until = NULL \
             WHERE id = $1 AND status IN {}{lease_rule}",
            RunStatus::Queued,
            status_list(RunStatus::is_runnable)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(run_id);
        if !ignore_lease {
            query = query.bind(now);
        }
        Ok(query.execute(&self.writer).await?.rows_affected() == 1)
    }

    /// Gives an active run up (shutdown): `queued` without a lease, for anyone to take.
    pub async fn release(&self, run_id: &str) -> StoreResult<bool> {
        let sql = format!(
            "UPDATE runs SET status = '{}', required_action = NULL, lease_until = NULL \
             WHERE id = $1 AND status IN {}",
            RunStatus::Queued,
            status_list(RunStatus::is_runnable)
        );
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(run_id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Extends the leases of the runs this process executes, in statements of at most
    /// [`RENEW_AT_ONCE`] runs: one heartbeat for the instance rather than a write per run (at
    /// 10,000 runs and a 30-second lease that was 1,000 writes a second on SQLite's one writer).
    pub async fn renew_leases(&self, run_ids: &[String], lease_until: i64) -> StoreResult<()> {
        for chunk in run_ids.chunks(RENEW_AT_ONCE) {
            let marks: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
            let sql = format!(
                "UPDATE runs SET lease_until = $1 WHERE id IN ({})",
                marks.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(lease_until);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            query.execute(&self.writer).await?;
        }
        Ok(())
    }
}
