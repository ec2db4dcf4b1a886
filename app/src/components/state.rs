use std::collections::HashSet;

use leptos::{prelude::*, task::spawn_local};

use crate::server_fns::delete_thread;

/// How long a deleted thread can be brought back.
pub const UNDO_MS: u32 = 6000;

/// A thread the person deleted that is only hidden until the undo time has passed.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingDelete {
    pub id: String,
    pub title: String,
    /// Tells this deletion from a later one of the same thread.
    pub token: u64,
}

/// A finished answer for screen readers.
#[derive(Clone, Debug, PartialEq)]
pub struct Announcement {
    pub id: String,
    pub text: String,
}

/// App-wide state shared through context.
#[derive(Clone, Copy)]
pub struct ChatState {
    /// Bumped whenever the thread list changes, so the sidebar refetches.
    pub threads_version: RwSignal<u32>,
    /// The sidebar drawer on narrow screens.
    pub drawer_open: RwSignal<bool>,
    /// The thread whose deletion can still be undone.
    pub pending_delete: RwSignal<Option<PendingDelete>>,
    next_token: StoredValue<u64>,
    /// While the person waits for an answer: the items the conversation showed when they
    /// asked. An answer or error not among them is new: it is revealed and announced.
    awaiting: StoredValue<Option<HashSet<String>>>,
    /// Finished answers for the `role="log"` region (the last few).
    pub announcements: RwSignal<Vec<Announcement>>,
    /// What the person is typing in the composer.
    pub draft: RwSignal<String>,
}

impl ChatState {
    pub fn new() -> Self {
        Self {
            threads_version: RwSignal::new(0),
            drawer_open: RwSignal::new(false),
            pending_delete: RwSignal::new(None),
            next_token: StoredValue::new(0),
            awaiting: StoredValue::new(None),
            announcements: RwSignal::new(Vec::new()),
            draft: RwSignal::new(String::new()),
        }
    }

    /// The person asked (or retried) while the conversation showed `shown`.
    pub fn await_answer(&self, shown: HashSet<String>) {
        self.awaiting.set_value(Some(shown));
    }

    /// Stops waiting (another thread was opened).
    pub fn stop_awaiting(&self) {
        self.awaiting.set_value(None);
    }

    /// Whether this item is the awaited answer; the wait ends with it.
    pub fn is_awaited_answer(&self, id: &str) -> bool {
        let awaited = self
            .awaiting
            .with_value(|a| a.as_ref().is_some_and(|shown| !shown.contains(id)));
        if awaited {
            self.awaiting.set_value(None);
        }
        awaited
    }

    pub fn announce(&self, id: String, text: String) {
        let _ = self.announcements.try_update(|a| {
            if !a.iter().any(|x| x.id == id) {
                a.push(Announcement { id, text });
                if a.len() > 3 {
                    a.remove(0);
                }
            }
        });
    }

    pub fn threads_changed(&self) {
        self.threads_version.update(|v| *v += 1);
    }

    /// Hides the thread at once and deletes it for good after [`UNDO_MS`] unless
    /// [`ChatState::undo_delete`] comes first. A second deletion commits the first at once.
    pub fn delete_later(&self, id: String, title: String) {
        if let Some(previous) = self.pending_delete.get_untracked() {
            self.commit_delete(previous);
        }
        let token = self.next_token.get_value() + 1;
        self.next_token.set_value(token);
        let pending = PendingDelete { id, title, token };
        self.pending_delete.set(Some(pending.clone()));
        let state = *self;
        spawn_local(async move {
            sleep_ms(UNDO_MS).await;
            if state.pending_delete.try_get_untracked().flatten().as_ref() == Some(&pending) {
                state.commit_delete(pending);
            }
        });
    }

    pub fn undo_delete(&self) {
        self.pending_delete.set(None);
    }

    fn commit_delete(&self, pending: PendingDelete) {
        let state = *self;
        spawn_local(async move {
            let _ = delete_thread(pending.id.clone()).await;
            if state.pending_delete.try_get_untracked().flatten() == Some(pending) {
                let _ = state.pending_delete.try_set(None);
            }
            let _ = state.threads_version.try_update(|v| *v += 1);
        });
    }

    /// Whether the thread is deleted and waiting out its undo time.
    pub fn is_hidden(&self, id: &str) -> bool {
        self.pending_delete
            .with(|p| p.as_ref().is_some_and(|p| p.id == id))
    }
}

impl Default for ChatState {
    fn default() -> Self {
        Self::new()
    }
}

pub fn use_chat_state() -> ChatState {
    expect_context::<ChatState>()
}

/// Waits in the browser; a no-op on the server, where effects never run.
pub async fn sleep_ms(ms: u32) {
    #[cfg(feature = "hydrate")]
    gloo_timers::future::TimeoutFuture::new(ms).await;
    #[cfg(not(feature = "hydrate"))]
    let _ = ms;
}

/// The live region that reads finished answers out, and nothing else.
#[component]
pub fn Announcer() -> impl IntoView {
    let state = use_chat_state();
    view! {
        <div class="visually-hidden" role="log" aria-label="Answers">
            <For
                each=move || state.announcements.get()
                key=|a| a.id.clone()
                children=|a| view! { <p>{a.text}</p> }
            />
        </div>
    }
}
