//! What this instance tells the event streams it serves: run changes, events, and the text of
//! answers being written (saved to the store as they grow).
use std::{sync::Arc, time::Duration};

use tokio::sync::Notify;

use super::{Engine, draft};
use std::collections::HashMap;

impl Engine {
    /// The change counters of the runs this instance's event streams follow.
    pub(super) fn followed(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, tokio::sync::watch::Sender<u64>>> {
        self.inner
            .followed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Changes when `run_id` changes here (for this instance's event streams).
    pub fn changes(&self, run_id: &str) -> tokio::sync::watch::Receiver<u64> {
        let mut followed = self.followed();
        if let Some(sender) = followed.get(run_id) {
            return sender.subscribe();
        }
        // Runs nobody follows any more go when the map has grown (a run that changes again
        // removes its own entry sooner).
        if followed.len() >= 1024 && followed.len().is_power_of_two() {
            followed.retain(|_, sender| sender.receiver_count() > 0);
        }
        let sender = tokio::sync::watch::Sender::new(0);
        let receiver = sender.subscribe();
        followed.insert(run_id.to_string(), sender);
        receiver
    }

    /// Changes when any run changes here.
    pub fn any_change(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.any_change.subscribe()
    }

    /// The text of the answer `run_id` is writing here, newer than what is saved.
    pub fn live_text(&self, run_id: &str) -> Option<String> {
        let drafts = self.inner.drafts.lock().unwrap_or_else(|e| e.into_inner());
        drafts.get(run_id).map(|d| d.text())
    }

    /// Changes with every piece of `run_id`'s answer while this instance writes it.
    pub fn live_watch(&self, run_id: &str) -> Option<tokio::sync::watch::Receiver<u64>> {
        let drafts = self.inner.drafts.lock().unwrap_or_else(|e| e.into_inner());
        drafts.get(run_id).map(|d| d.watch())
    }

    pub(super) fn changed(&self, run_id: &str) {
        {
            let mut followed = self.followed();
            if let Some(sender) = followed.get(run_id) {
                if sender.receiver_count() == 0 {
                    followed.remove(run_id);
                } else {
                    sender.send_modify(|n| *n = n.wrapping_add(1));
                }
            }
        }
        self.touched();
    }

    /// Something changed here that only those waiting on any change need to know (the tests).
    pub(super) fn touched(&self) {
        self.inner
            .any_change
            .send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Appends an event with `data` to the run's stream.
    pub async fn emit(&self, run_id: &str, event: &str, data: &serde_json::Value) {
        if let Err(e) = self
            .inner
            .store
            .append_event(run_id, event, &data.to_string())
            .await
        {
            tracing::warn!(run_id, event, error = %e, "could not record a run event");
        }
        self.changed(run_id);
    }

    /// Appends `thread.run.step.<what>` with the step as it is now.
    pub(super) async fn emit_step(&self, step: &crate::store::StepRow, what: &str) {
        let event = format!("thread.run.step.{what}");
        self.emit(&step.run_id, &event, &crate::objects::step(step))
            .await;
    }

    /// Appends `thread.run.<what>` with the run as it is now.
    pub async fn emit_run(&self, run_id: &str, what: &str) {
        match self.inner.store.run_by_id(run_id).await {
            Ok(Some(run)) => {
                let event = format!("thread.run.{what}");
                self.emit(run_id, &event, &crate::objects::run(&run)).await;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(run_id, error = %e, "could not read a run for its event"),
        }
    }

    /// Ends the answer `run_id` was writing, if any, as `incomplete` with what it has, and
    /// tells the stream (`thread.message.incomplete`, whose message has all the text).
    pub(super) async fn end_answer(&self, run_id: &str, reason: &str) {
        match self.inner.store.end_partial_answer(run_id, reason).await {
            Ok(Some(message)) => {
                let object = crate::objects::message(&message);
                self.emit(run_id, "thread.message.incomplete", &object)
                    .await;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(run_id, error = %e, "could not end a run's unfinished answer"),
        }
    }

    /// Tells the stream of the answer being written (once): its step, then the message.
    pub(super) async fn announce(&self, draft: &draft::Draft) {
        if draft
            .announced
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return;
        }
        let step = draft.begin_step();
        let run_id = step.run_id.clone();
        self.emit_step(&step, "created").await;
        let mut message = draft.snapshot();
        message.content.clear();
        self.emit(
            &run_id,
            "thread.message.created",
            &crate::objects::message(&message),
        )
        .await;
    }

    /// Saves the answer's new text as it comes, at most every [`draft::SAVE_EVERY`], and tells
    /// the streams, until `stop`. A task of its own, so that a save or an announcement it has
    /// begun is never cut in half when the model call it follows ends (or is dropped).
    pub(super) fn keep_saving(&self, draft: &Arc<draft::Draft>) -> SaverGuard {
        let stop = Arc::new(Notify::new());
        let (engine, draft, stopped) = (self.clone(), draft.clone(), stop.clone());
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = draft.changed() => {}
                    _ = stopped.notified() => return,
                }
                engine.announce(&draft).await;
                draft.save(&engine.inner.store).await;
                // Saved: a reader of the stored message may look now. This instance's
                // streams have each piece from memory already (the draft's watch), so they
                // are not woken to read the database again.
                engine.touched();
                tokio::select! {
                    _ = tokio::time::sleep(engine.save_interval()) => {}
                    _ = stopped.notified() => return,
                }
            }
        });
        SaverGuard {
            stop,
            task: Some(task),
        }
    }

    /// How long a writing run waits between saves: [`draft::SAVE_EVERY`], or longer while so
    /// many runs execute that their saves would pass [`draft::SAVES_PER_SECOND`] together.
    pub(super) fn save_interval(&self) -> Duration {
        let executing = *self.inner.executing.borrow();
        draft::SAVE_EVERY.max(Duration::from_secs_f64(
            executing as f64 / draft::SAVES_PER_SECOND as f64,
        ))
    }
}

/// Stops a run's saver when the model call ends, or when the run is dropped mid-call.
pub(super) struct SaverGuard {
    stop: Arc<Notify>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SaverGuard {
    /// Lets the saver finish what it is doing, and waits for it.
    pub(super) async fn finish(mut self) {
        self.stop.notify_one();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SaverGuard {
    fn drop(&mut self) {
        self.stop.notify_one();
    }
}
