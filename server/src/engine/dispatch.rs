//! The dispatcher: claims queued runs while this process has slots, and executes each in a task
//! of its own.
use std::{sync::Arc, time::Duration};

use tokio::sync::Notify;

use super::run::Stop;
use super::{Engine, draft};
use crate::ids::now_secs;
use crate::store::RunRow;
use app::api::RunStatus;

/// How often an idle dispatcher looks for runs queued by other instances or handed back.
pub(super) const DISPATCH_POLL: Duration = Duration::from_secs(1);

/// Queued runs the dispatcher claims in one statement, when as many slots are free.
pub(super) const CLAIM_AT_ONCE: usize = 32;

impl Engine {
    /// Starts queued runs, oldest first, while there are free slots (`MAX_RUNNING_RUNS`). A
    /// queued run is a row, not a task: it costs nothing until a slot takes it, and any
    /// instance's dispatcher may take it, so none waits on a busy instance while another has
    /// room.
    pub fn spawn_dispatcher(&self) {
        let engine = self.clone();
        tokio::spawn(async move { engine.dispatch().await });
    }

    pub(super) async fn dispatch(&self) {
        let store = &self.inner.store;
        loop {
            let Ok(first) = self.inner.slots.clone().acquire_owned().await else {
                return;
            };
            if self.stopping() {
                return;
            }
            // As many free slots as one claim may fill: runs that came together start together.
            let mut slots = vec![first];
            while slots.len() < CLAIM_AT_ONCE {
                match self.inner.slots.clone().try_acquire_owned() {
                    Ok(slot) => slots.push(slot),
                    Err(_) => break,
                }
            }
            let now = now_secs();
            let claimed = match store
                .claim_queued(now, now + self.lease_secs(), slots.len())
                .await
            {
                Ok(runs) => runs,
                Err(e) => {
                    tracing::warn!(error = %e, "could not look for queued runs");
                    Vec::new()
                }
            };
            let full = claimed.len() >= slots.len();
            for run in claimed {
                let Some(slot) = slots.pop() else {
                    // More than asked for (no store returns that; the Postgres tests once
                    // caught a query that did): hand it back rather than leave it claimed and
                    // unstarted until its lease ran out.
                    if let Err(e) = store.release(&run.id).await {
                        tracing::warn!(run_id = run.id, error = %e, "could not hand a run back");
                    }
                    continue;
                };
                let engine = self.clone();
                tokio::spawn(async move {
                    engine.emit_run(&run.id, "in_progress").await;
                    engine.execute(run).await;
                    drop(slot);
                });
            }
            drop(slots);
            if full {
                // Every free slot took a run: more may be waiting.
                continue;
            }
            tokio::select! {
                _ = self.inner.queued.notified() => {}
                _ = tokio::time::sleep(DISPATCH_POLL) => {}
            }
        }
    }

    /// The runs this process executes now.
    pub(super) fn running_ids(&self) -> Vec<String> {
        let running = self.inner.running.lock().unwrap_or_else(|e| e.into_inner());
        running.keys().cloned().collect()
    }

    /// Drives a claimed run to a terminal status within its time limit.
    pub(super) async fn execute(&self, mut run: RunRow) {
        // Moved into the conversation rather than copied: the run's row stays in memory as
        // long as the run executes (a copy of the instructions each, at 10,000 runs waiting).
        let instructions = std::mem::take(&mut run.instructions);
        let run_id = run.id.as_str();
        let left = Duration::from_secs((run.expires_at - now_secs()).max(0) as u64);
        let cancel = Arc::new(Notify::new());
        self.track(run_id, Some(cancel.clone()));
        // An answer a previous executor left half-written (a restart) stays as it is,
        // `incomplete`, and the run writes a new one: the model will not write the same words
        // again, and readers of the stream have the old ones. OpenAI's reasons have no
        // "restarted"; `run_failed` is the nearest (that attempt failed).
        self.end_answer(run_id, "run_failed").await;
        let draft = Arc::new(draft::Draft::of(&run));
        self.inner
            .drafts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(run.id.clone(), draft.clone());
        // Dropping `drive` (time limit, cancel) drops its in-flight model call too.
        let outcome = tokio::select! {
            outcome = self.drive(&run, instructions, &draft) => outcome,
            _ = tokio::time::sleep(left) => Err(Stop::Expired),
            _ = cancel.notified() => Err(Stop::Cancelled),
        };
        if matches!(
            outcome,
            Err(Stop::Expired | Stop::Cancelled | Stop::Failed { .. })
        ) && !draft.text().is_empty()
        {
            // What was written before the end is kept (`end` marks it incomplete).
            self.announce(&draft).await;
            draft.save(&self.inner.store).await;
        }
        match outcome {
            Ok(()) | Err(Stop::Superseded) => {}
            Err(Stop::Cancelled) => self.end(run_id, RunStatus::Cancelled, None).await,
            Err(Stop::Expired) => {
                let message = format!(
                    "The run did not finish within the time limit of {} seconds.",
                    self.inner.settings.run_time_limit.as_secs()
                );
                let error = Some(("server_error", message.as_str()));
                self.end(run_id, RunStatus::Expired, error).await;
            }
            Err(Stop::Failed { code, message }) => {
                self.end(run_id, RunStatus::Failed, Some((code, &message)))
                    .await;
            }
        }
        // Only now: until its end is written (or given up), the run is still this process's.
        self.inner
            .drafts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(run_id);
        self.track(run_id, None);
    }

    /// Records that this process executes `run_id` (with its cancel signal) or no longer does.
    pub(super) fn track(&self, run_id: &str, cancel: Option<Arc<Notify>>) {
        let mut running = self.inner.running.lock().unwrap_or_else(|e| e.into_inner());
        match cancel {
            Some(cancel) => running.insert(run_id.to_string(), cancel),
            None => running.remove(run_id),
        };
        self.inner.executing.send_replace(running.len());
    }
}
