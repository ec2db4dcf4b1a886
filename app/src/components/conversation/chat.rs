//! The state of one conversation and what the person can do in it: the stored thread, the
//! question just sent, the run being followed and the answer it is writing, and where the
//! view is scrolled. Plain signals in a `Copy` struct, so every child component and callback
//! shares them.
use std::collections::HashSet;

use leptos::{prelude::*, task::spawn_local};

use crate::api::escape_html;
use crate::api::{AppError, ConversationItem, ItemKind, SHOWN_ITEMS, ThreadView, WireJson};
use crate::components::live::stream_answers;
use crate::components::{
    dom,
    follower::{Phase, RunRef, follow_runs},
    layout::focus_composer,
    state::{ChatState, use_chat_state},
};
use crate::server_fns::{
    cancel_run, create_thread, delete_thread, get_thread_view, retry_run, send_message,
    title_thread,
};

/// The thread as loaded (`None` for the empty state).
pub type ThreadResource = Resource<Result<Option<ThreadView>, AppError>, WireJson>;

#[derive(Clone, Copy)]
pub struct Chat {
    state: ChatState,
    pub phase: RwSignal<Phase>,
    version: RwSignal<u32>,
    /// The question just sent, shown before the server has it.
    pub local: RwSignal<Vec<ConversationItem>>,
    /// The answer being written, as the run's event stream brings it (safe HTML).
    pub live_html: RwSignal<Option<String>>,
    /// The thread this view made for its first message (the empty state has none). The view
    /// follows it even before (or without) the route change to `/t/{id}`.
    created: RwSignal<Option<String>>,
    pub current_id: Signal<Option<String>>,
    /// How many of the newest items are shown; "Load earlier messages" adds more.
    newest: RwSignal<usize>,
    pub thread: ThreadResource,
    /// Whether the view is scrolled to the newest message, and whether newer ones arrived
    /// while it was not.
    pub at_end: RwSignal<bool>,
    pub unseen: RwSignal<bool>,
    on_created: Callback<String>,
}

impl Chat {
    pub fn new(thread_id: Signal<Option<String>>, on_created: Callback<String>) -> Self {
        let created = RwSignal::new(None::<String>);
        let current_id = Signal::derive(move || thread_id.get().or_else(|| created.get()));
        let version = RwSignal::new(0u32);
        let newest = RwSignal::new(SHOWN_ITEMS);
        let thread = super::super::resource(
            move || (current_id.get(), version.get(), newest.get()),
            |(id, _, newest)| async move {
                match id {
                    Some(id) => get_thread_view(id, newest).await.map(Some),
                    None => Ok(None),
                }
            },
        );
        let chat = Self {
            state: use_chat_state(),
            phase: RwSignal::new(Phase::Idle),
            version,
            local: RwSignal::new(Vec::new()),
            live_html: RwSignal::new(None),
            created,
            current_id,
            newest,
            thread,
            at_end: RwSignal::new(true),
            unseen: RwSignal::new(false),
            on_created,
        };
        stream_answers(chat.phase, chat.live_html);
        chat.reset_on_switch(thread_id);
        chat.follow_loaded_runs();
        chat.keep_to_the_end();
        // Focus goes to the composer when the conversation opens or switches threads.
        Effect::new(move |_| {
            thread_id.track();
            focus_composer();
        });
        chat
    }

    /// Switching from one thread to another drops what belonged to the previous one. A route
    /// param that only now arrives (None → Some) is no switch: resetting then would stop
    /// following a run the new view has just picked up.
    fn reset_on_switch(self, thread_id: Signal<Option<String>>) {
        Effect::new(move |prev: Option<Option<String>>| {
            let id = thread_id.get();
            if let Some(Some(previous)) = prev
                && Some(&previous) != id.as_ref()
            {
                self.local.set(Vec::new());
                self.phase.set(Phase::Idle);
                self.state.stop_awaiting();
                self.newest.set(SHOWN_ITEMS);
            }
            id
        });
    }

    /// A thread that loads with a run still going (reload, navigation) is followed too; a view
    /// loaded after the message was stored includes it, so the local copy goes.
    fn follow_loaded_runs(self) {
        let Self {
            phase,
            local,
            live_html,
            thread,
            current_id,
            ..
        } = self;
        Effect::new(move |_| {
            let Some(Ok(Some(view))) = thread.get() else {
                return;
            };
            if let Some(run) = view.active_run {
                let next = RunRef {
                    thread: view.id.clone(),
                    run,
                };
                if phase.with_untracked(|p| p.run() != Some(&next)) {
                    phase.set(Phase::Following(next));
                }
            }
            if phase.get_untracked() != Phase::Sending {
                local.set(Vec::new());
            }
            // The stored answer is shown: the words that streamed in make way for it.
            if phase.with_untracked(|p| p.run().is_none()) {
                live_html.set(None);
            }
        });
        follow_runs(
            phase,
            move || self.reload(),
            move || {
                let unanswered = match thread.try_get_untracked().flatten() {
                    Some(Ok(Some(view))) => {
                        view.active_run.is_some()
                            || view.items.last().is_some_and(|i| i.kind == ItemKind::User)
                    }
                    Some(Ok(None)) => current_id.try_get_untracked().flatten().is_some(),
                    _ => false,
                };
                let waiting = local.try_with_untracked(|l| !l.is_empty()).unwrap_or(false);
                unanswered || (waiting && current_id.try_get_untracked().flatten().is_some())
            },
        );
    }

    /// The newest message stays in view unless the person has scrolled up to read: then a
    /// "Jump to latest" button says there is more below.
    fn keep_to_the_end(self) {
        Effect::new(move |_| {
            self.thread.track();
            self.local.track();
            self.phase.track();
            if self.at_end.get_untracked() {
                dom::scroll_to_end(".messages");
            } else {
                self.unseen.set(true);
            }
        });
    }

    fn reload(self) {
        let _ = self.version.try_update(|v| *v += 1);
    }

    pub fn busy(self) -> bool {
        self.phase.with(Phase::is_busy)
    }

    pub fn load_earlier(self) {
        self.newest.update(|n| *n += SHOWN_ITEMS);
    }

    /// Nothing asked yet: the empty state with its examples shows.
    pub fn is_empty(self) -> bool {
        self.current_id.get().is_none()
            && self.local.with(|l| l.is_empty())
            && !self.busy()
            && self.phase.with(|p| p.failure().is_none())
    }

    pub fn jump_to_latest(self) {
        self.at_end.set(true);
        self.unseen.set(false);
        dom::scroll_to_end(".messages");
        focus_composer();
    }

    /// The answer the person waits for is revealed and read out when it appears.
    pub fn announce(self, item_id: String) {
        let state = self.state;
        request_animation_frame_or_now(move || {
            if let Some(text) = dom::text_of(&format!("item-{item_id}")) {
                state.announce(item_id, text);
            }
        });
    }

    /// A question is under way from here on: the view keeps to the end, and the answer that
    /// comes is the one to reveal.
    fn start(self) {
        self.at_end.set(true);
        self.unseen.set(false);
        let shown = match self.thread.get_untracked() {
            Some(Ok(Some(view))) => view.items.into_iter().map(|i| i.id).collect(),
            _ => HashSet::new(),
        };
        self.state.await_answer(shown);
        self.phase.set(Phase::Sending);
    }

    /// Sends a question: into the current thread, or a new one made for it (removed again when
    /// the question is refused). The first question's thread also gets a title, in parallel.
    pub fn send(self, text: String) {
        if self.phase.with_untracked(Phase::is_busy) {
            return;
        }
        let first_message = match self.thread.get_untracked() {
            Some(Ok(Some(view))) => view.items.is_empty(),
            _ => true,
        };
        let existing = self.current_id.get_untracked();
        self.start();
        self.local.update(|l| {
            l.push(ConversationItem::local(
                format!("local-{}", l.len()),
                ItemKind::User,
                format!("<p class=\"plain\">{}</p>", escape_html(&text)),
            ))
        });
        let Self { phase, state, .. } = self;
        spawn_local(async move {
            let fail = move |message: &str| {
                let _ = phase.try_set(Phase::Failed(message.to_string()));
            };
            let tid = match existing.clone() {
                Some(id) => id,
                None => match create_thread().await {
                    Ok(t) => t.id,
                    Err(e) => return fail(e.message()),
                },
            };
            match send_message(tid.clone(), text.clone()).await {
                Ok(sent) => {
                    state.threads_changed();
                    if first_message {
                        // The title is asked for in parallel with the run, once the message is
                        // accepted: a refused one's thread is removed again, and titling it
                        // would race the removal.
                        let tid = tid.clone();
                        spawn_local(async move {
                            if title_thread(tid, text).await.is_ok() {
                                state.threads_changed();
                            }
                        });
                    }
                    if sent.run.is_terminal() {
                        let _ = phase.try_set(Phase::Idle);
                        self.reload();
                    } else {
                        let _ = phase.try_set(Phase::Following(RunRef {
                            thread: tid.clone(),
                            run: sent.run.id,
                        }));
                    }
                    if existing.is_none() {
                        let _ = self.created.try_set(Some(tid.clone()));
                        self.on_created.run(tid);
                    }
                }
                Err(e) => {
                    fail(e.message());
                    if existing.is_none() {
                        // The thread made for this message stays empty: remove it again.
                        let _ = delete_thread(tid).await;
                        state.threads_changed();
                    }
                }
            }
        });
    }

    /// "Retry" under a failed answer asks the same question again.
    pub fn retry(self) {
        let Some(tid) = self.current_id.get_untracked() else {
            return;
        };
        if self.phase.with_untracked(Phase::is_busy) {
            return;
        }
        self.start();
        spawn_local(async move {
            let next = match retry_run(tid.clone()).await {
                Ok(run) if !run.is_terminal() => Phase::Following(RunRef {
                    thread: tid,
                    run: run.id,
                }),
                Ok(_) => Phase::Idle,
                Err(e) => Phase::Failed(e.message().to_string()),
            };
            let _ = self.phase.try_set(next);
            self.reload();
        });
    }

    /// "Stop" ends the run being followed.
    pub fn stop(self) {
        let Some(run) = self.phase.with_untracked(|p| p.run().cloned()) else {
            return;
        };
        spawn_local(async move {
            if cancel_run(run.thread.clone(), run.run.clone())
                .await
                .is_ok()
                && self.phase.try_with_untracked(|p| p.run() == Some(&run)) == Some(true)
            {
                let _ = self.phase.try_set(Phase::Idle);
                self.reload();
            }
        });
    }
}

/// Runs `f` after the next frame (the DOM then has the new items); at once on the server.
fn request_animation_frame_or_now(f: impl FnOnce() + 'static) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(f);
    #[cfg(not(feature = "hydrate"))]
    f();
}
