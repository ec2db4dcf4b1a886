//! The answer a run is writing, stored as it is written: the model's text pieces go into a
//! buffer, the first one is saved at once as an `in_progress` message and later ones at most
//! every [`SAVE_EVERY`], so a poll shows the answer growing, a restart loses at most the last
//! fraction of a second, and any instance can read it.
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;

use crate::ids::now_secs;
use crate::store::{MessageRow, RunRow, Store, message_status};

/// Longest time new text waits before it is saved.
pub const SAVE_EVERY: Duration = Duration::from_millis(250);

pub struct Draft {
    /// The message row: its id stays for the run (also across a restart).
    message: Mutex<MessageRow>,
    /// The text changed since the last save.
    dirty: Mutex<bool>,
    changed: Notify,
}

impl Draft {
    /// The answer of `run`: the one a previous executor left `in_progress`, or a new one.
    pub async fn of(store: &Store, run: &RunRow) -> Self {
        let message = match store.partial_answer(&run.id).await {
            Ok(Some(mut left)) => {
                // The model writes the whole answer again.
                left.content.clear();
                left
            }
            Ok(None) | Err(_) => {
                let mut m = MessageRow::new(
                    &run.thread_id,
                    "assistant",
                    String::new(),
                    Some(&run.id),
                    now_secs(),
                );
                m.status = message_status::IN_PROGRESS.into();
                m.completed_at = None;
                m
            }
        };
        Self {
            message: Mutex::new(message),
            dirty: Mutex::new(false),
            changed: Notify::new(),
        }
    }

    /// Appends a piece the model wrote.
    pub fn push(&self, piece: &str) {
        self.lock().content.push_str(piece);
        *self.dirty.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.changed.notify_one();
    }

    /// Forgets the text of a round that ended in tool calls (some models write a few words
    /// before calling a tool); the answer starts again with the next round.
    pub fn restart(&self) {
        let had_text = !std::mem::take(&mut self.lock().content).is_empty();
        if had_text {
            *self.dirty.lock().unwrap_or_else(|e| e.into_inner()) = true;
            self.changed.notify_one();
        }
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

    /// Saves new text as it comes, at most every [`SAVE_EVERY`]; never returns (it is raced
    /// against the model call it follows).
    pub async fn keep_saving(&self, store: &Store) -> std::convert::Infallible {
        loop {
            self.changed.notified().await;
            self.save(store).await;
            tokio::time::sleep(SAVE_EVERY).await;
        }
    }
}
