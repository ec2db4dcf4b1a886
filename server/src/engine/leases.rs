//! Leases and recovery: the heartbeat that keeps this process's runs, the sweep that takes over
//! runs whose instance stopped, and handing runs back at shutdown.
use std::time::Duration;

use super::Engine;
use crate::ids::now_secs;
use crate::store::StoreError;
use app::api::RunStatus;

/// Longest wait at shutdown for the runs executing here to stop before they are handed back.
const HAND_BACK_WAIT: Duration = Duration::from_secs(10);

impl Engine {
    /// Renews the leases of every run this process executes, in one task for the instance
    /// (a few statements rather than one per run), until the process stops.
    pub fn spawn_heartbeat(&self) {
        let engine = self.clone();
        tokio::spawn(async move {
            let every = Duration::from_millis(engine.lease_secs().max(1) as u64 * 1000 / 3);
            loop {
                tokio::time::sleep(every).await;
                if engine.stopping() {
                    return;
                }
                let ids = engine.running_ids();
                if ids.is_empty() {
                    continue;
                }
                let until = now_secs() + engine.lease_secs();
                if let Err(e) = engine.inner.store.renew_leases(&ids, until).await {
                    tracing::warn!(runs = ids.len(), error = %e, "could not renew the runs' leases");
                }
            }
        });
    }

    /// Runs left behind by a previous process: overdue ones end `expired`, the others are
    /// queued again and executed. With SQLite (one instance by design) every active run is
    /// reclaimed at once; otherwise only those whose lease has run out.
    pub async fn recover(&self, single_instance: bool) -> Result<usize, StoreError> {
        let store = &self.inner.store;
        let now = now_secs();
        let mut resumed = 0;
        for run in store.active_runs().await? {
            if run.expires_at <= now {
                let message =
                    "The run did not finish within its time limit (the server restarted).";
                self.end(&run.id, RunStatus::Expired, Some(("server_error", message)))
                    .await;
                continue;
            }
            let lease_over = run.lease_until.is_none_or(|l| l < now);
            if !(single_instance || lease_over) {
                continue;
            }
            if run.status == RunStatus::Cancelling {
                self.end(&run.id, RunStatus::Cancelled, None).await;
                continue;
            }
            if run.status == RunStatus::Queued && run.lease_until.is_none() {
                // Waiting for a slot: the dispatchers take it in its turn.
                continue;
            }
            // One guarded UPDATE: of several instances sweeping at once, one moves the run
            // back to the queue; a dispatcher then claims it exactly once.
            if store.reclaim(&run.id, now, single_instance).await? {
                store.close_open_steps(&run.id, RunStatus::Failed).await?;
                tracing::info!(run_id = %run.id, "resuming a run left by a previous process");
                self.wake();
                resumed += 1;
            }
        }
        Ok(resumed)
    }

    /// At shutdown: the runs this process executes go back to `queued` with no lease, so
    /// another instance (or the next start) takes them over at once instead of after the lease.
    pub async fn hand_back(&self) -> usize {
        self.inner
            .stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        // No new run starts here: the dispatcher stops at its next slot.
        self.inner.slots.close();
        // First stop executing them here, and wait until every task has let go: a model call
        // that answered just now would otherwise write its answer after another instance had
        // claimed the run, and that instance would write one too (seen in the Postgres pass).
        // A task stopped mid-write rolls its transaction back; one that finished has completed
        // its run, which then is no longer in progress to hand back. Words already written are
        // saved, and kept as an incomplete answer by the instance that takes the run over.
        let ids = self.running_ids();
        for id in &ids {
            self.signal_cancel(id);
        }
        let mut executing = self.inner.executing.subscribe();
        if tokio::time::timeout(HAND_BACK_WAIT, executing.wait_for(|n| *n == 0))
            .await
            .is_err()
        {
            tracing::warn!("runs still executing at shutdown; handing them back anyway");
        }
        let mut handed = 0;
        for id in ids {
            match self.inner.store.release(&id).await {
                Ok(true) => handed += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(run_id = %id, error = %e, "could not hand a run back"),
            }
        }
        handed
    }

    /// Every few seconds: ends overdue runs and reclaims runs whose executor's lease ran out.
    pub fn spawn_sweeper(&self) {
        let engine = self.clone();
        // Often enough that a run is taken over soon after its lease ends.
        let every = Duration::from_millis((self.lease_secs() as u64 * 1000 / 2).clamp(500, 5000));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if engine.stopping() {
                    return;
                }
                if let Err(e) = engine.recover(false).await {
                    tracing::warn!(error = %e, "could not sweep runs");
                }
            }
        });
    }
}
