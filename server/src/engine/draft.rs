//! The answer a run is writing, stored as it is written: the model's text pieces go into a
//! buffer, the first one is saved at once as an `in_progress` message and later ones at most
//! every [`SAVE_EVERY`], so a poll shows the answer growing, a restart loses at most the last
//! fraction of a second, and any instance can read it.
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;

use crate::ids::now_secs;
use crate::store::{MessageRow, RunRow, StepRow, Store, message_status};
use app::api::RunStatus;

/// Longest time new text waits before it is saved (while few runs write at once).
pub const SAVE_EVERY: Duration = Duration::from_millis(250);

/// Saves of answers being written, per second, all runs of an instance together: with more
/// runs writing than that allows at [`SAVE_EVERY`] each, each saves less often. At 1,500
/// streamed answers at once, saving each every 250 ms was 6,000 writes a second, more than
/// SQLite's one writer keeps up with beside the rest (issue 15's load test: posting a message
/// took seconds). Readers on the executing instance get every piece from memory either way;
/// polls and other instances see the text up to that interval late.
pub const SAVES_PER_SECOND: usize = 400;

pub struct Draft {
    /// The message row.
    message: Mutex<MessageRow>,
    /// The run step that creates the message (`message_creation`), stored when it is whole.
    step: Mutex<StepRow>,
    /// The text changed since the last save.
    dirty: Mutex<bool>,
    /// A round ended in tool calls after some text: the next text starts a new paragraph.
    separate: Mutex<bool>,
    /// Whether the stream was told of the message (`thread.message.created`).
    pub announced: std::sync::atomic::AtomicBool,
    changed: Notify,
    /// How many pieces were written: this instance's stream readers wait on it, so each piece
    /// reaches them at once (readers on other instances go by the saves).
    written: tokio::sync::watch::Sender<u64>,
}

impl Draft {
    /// A new answer of `run` (one a previous executor left half-written was set aside by
    /// the engine).
    pub fn of(run: &RunRow) -> Self {
        let mut message = MessageRow::new(
            &run.thread_id,
            "assistant",
            String::new(),
            Some(&run.id),
            now_secs(),
        );
        message.status = message_status::IN_PROGRESS.into();
        message.completed_at = None;
        let details = serde_json::json!({
            "type": "message_creation", "message_creation": {"message_id": message.id}
        });
        let step = StepRow::new(
            run,
            "message_creation",
            RunStatus::InProgress,
            details.to_string(),
            now_secs(),
        );
        Self {
            message: Mutex::new(message),
            step: Mutex::new(step),
            dirty: Mutex::new(false),
            separate: Mutex::new(false),
            announced: Default::default(),
            changed: Notify::new(),
            written: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Appends a piece the model wrote. The text only ever grows (readers of the stream take
    /// what is new by offset).
    pub fn push(&self, piece: &str) {
        if piece.is_empty() {
            return;
        }
        {
            let mut message = self.lock();
            if std::mem::take(&mut *self.separate.lock().unwrap_or_else(|e| e.into_inner())) {
                message.content.push_str("\n\n");
            }
            message.content.push_str(piece);
        }
        *self.dirty.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.changed.notify_one();
        self.written.send_modify(|n| *n += 1);
    }

    /// Changes with every piece written; closed when the draft is dropped (the run ended here).
    pub fn watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.written.subscribe()
    }

    /// A round ended in tool calls. Text the model wrote before calling them (some models say
    /// what they are about to look up) stays, and the next round's text starts a new paragraph.
    pub fn end_round(&self) {
        let message = self.lock();
        if !message.content.is_empty() && !message.content.ends_with('\n') {
            *self.separate.lock().unwrap_or_else(|e| e.into_inner()) = true;
        }
    }

    /// Sets the answer's metadata (before its first save: metadata is written with the row).
    pub fn set_metadata(&self, metadata: String) {
        self.lock().metadata = metadata;
    }

    /// The `message_creation` step.
    pub fn step(&self) -> StepRow {
        self.step.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The step begins now: its id and time are of this moment, so it sorts after the tool
    /// rounds that came before the answer.
    pub fn begin_step(&self) -> StepRow {
        let mut step = self.step.lock().unwrap_or_else(|e| e.into_inner());
        step.id = crate::ids::StepId::new().into_string();
        step.created_at = now_secs();
        step.clone()
    }

    /// The text so far.
    pub fn text(&self) -> String {
        self.lock().content.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MessageRow> {
        self.message.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The message as it stands.
    pub fn snapshot(&self) -> MessageRow {
        self.lock().clone()
    }

    /// Saves the text so far when it changed since the last save.
    pub async fn save(&self, store: &Store) {
        let dirty = std::mem::take(&mut *self.dirty.lock().unwrap_or_else(|e| e.into_inner()));
        if !dirty {
            return;
        }
        let message = self.snapshot();
        if let Err(e) = store.save_partial_answer(&message).await {
            tracing::warn!(message_id = %message.id, error = %e, "could not save an answer being written");
        }
    }

    /// Waits for new text.
    pub async fn changed(&self) {
        self.changed.notified().await;
    }
}
