//! `RETENTION_DAYS`: threads with no new message for longer are deleted with their messages,
//! runs, steps, ratings and the team's records of them, by a sweep at start and then every
//! hour. Safe on several instances: each thread goes in one transaction of its own, and one
//! already gone is simply not there for the next sweeper.
use std::time::Duration;

use super::{Assistant, ServiceResult};
use crate::ids::now_secs;

/// Threads looked at (and deleted) per query.
const BATCH: i64 = 500;
/// How often the sweep runs after the first one.
const EVERY: Duration = Duration::from_secs(3600);

impl Assistant {
    /// Deletes the threads whose last message (or, with none, whose start) is more than
    /// `RETENTION_DAYS` before `now`; how many went. Nothing while retention is off.
    pub async fn sweep_retention(&self, now: i64) -> ServiceResult<usize> {
        let days = i64::from(self.config.retention_days);
        if days == 0 {
            return Ok(0);
        }
        let cutoff = now - days * 86_400;
        let mut deleted = 0;
        loop {
            let stale = self.store.stale_threads(cutoff, BATCH).await?;
            for id in &stale {
                if self.store.delete_thread(id).await? {
                    deleted += 1;
                }
            }
            if (stale.len() as i64) < BATCH {
                return Ok(deleted);
            }
        }
    }

    /// Sweeps now and every hour, while retention is on.
    pub fn spawn_retention(&self) {
        if self.config.retention_days == 0 {
            return;
        }
        let assistant = self.clone();
        tokio::spawn(async move {
            loop {
                match assistant.sweep_retention(now_secs()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(threads = n, "deleted threads past RETENTION_DAYS"),
                    Err(e) => {
                        tracing::warn!(error = %e, "the retention sweep failed; it runs again in an hour")
                    }
                }
                tokio::time::sleep(EVERY).await;
            }
        });
    }
}
