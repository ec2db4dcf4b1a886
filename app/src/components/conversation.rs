use std::collections::HashSet;

use leptos::{prelude::*, task::spawn_local};

use crate::api::{ConversationItem, ItemKind, SHOWN_ITEMS, Source, ThreadView, escape_html};
use crate::components::live::stream_answers;
use crate::components::rating::Rate;
use crate::components::site::{RetentionNotice, SiteName, use_site};
use crate::components::{
    composer::Composer,
    dom,
    follower::{Phase, RunRef, follow_runs},
    layout::focus_composer,
    state::use_chat_state,
};
use crate::server_fns::{
    cancel_run, create_thread, delete_thread, get_thread_view, retry_run, send_message,
    title_thread,
};

/// The conversation of one thread (or the empty state when `thread_id` is `None`), with the
/// composer. Sending stores the message, starts a run and follows it (see [`follow_runs`])
/// until it ends. `on_created` gets the id of the thread the first message created;
/// Longest question a `?q=` link can put into the composer.
const MAX_PREFILL_CHARS: usize = 2_000;

/// `initial_question` fills the composer once the page is interactive (`?q=`); `compact` is the
/// widget's layout.
#[component]
pub fn Conversation(
    thread_id: Signal<Option<String>>,
    on_created: Callback<String>,
    #[prop(optional)] initial_question: Option<String>,
    #[prop(optional)] compact: bool,
) -> impl IntoView {
    let state = use_chat_state();
    let phase = RwSignal::new(Phase::Idle);
    let version = RwSignal::new(0u32);
    let reload = move || {
        let _ = version.try_update(|v| *v += 1);
    };
    // The question just sent, shown before the server has it.
    let local = RwSignal::new(Vec::<ConversationItem>::new());
    // The answer being written, as the run's event stream brings it (safe HTML).
    let live_html = RwSignal::new(None::<String>);
    stream_answers(phase, live_html);

    // The thread this view made for its first message (the empty state has none). The view
    // follows it even before (or without) the route change to `/t/{id}`.
    let created = RwSignal::new(None::<String>);
    let current_id = Signal::derive(move || thread_id.get().or_else(|| created.get()));
    // How many of the newest items are shown; "Load earlier messages" adds more.
    let newest = RwSignal::new(SHOWN_ITEMS);
    let thread = super::resource(
        move || (current_id.get(), version.get(), newest.get()),
        |(id, _, newest)| async move {
            match id {
                Some(id) => get_thread_view(id, newest).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let load_earlier = Callback::new(move |()| newest.update(|n| *n += SHOWN_ITEMS));

    // Switching from one thread to another drops what belonged to the previous one. A route
    // param that only now arrives (None → Some) is no switch: resetting then would stop
    // following a run the new view has just picked up.
    Effect::new(move |prev: Option<Option<String>>| {
        let id = thread_id.get();
        if let Some(Some(previous)) = prev
            && Some(&previous) != id.as_ref()
        {
            local.set(Vec::new());
            phase.set(Phase::Idle);
            state.stop_awaiting();
            newest.set(SHOWN_ITEMS);
        }
        id
    });

    // A thread that loads with a run still going (reload, navigation) is followed too; a view
    // loaded after the message was stored includes it, so the local copy goes.
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

    follow_runs(phase, reload, move || {
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
    });

    // The newest message stays in view unless the person has scrolled up to read: then a
    // "Jump to latest" button says there is more below.
    let at_end = RwSignal::new(true);
    let unseen = RwSignal::new(false);
    Effect::new(move |_| {
        thread.track();
        local.track();
        phase.track();
        if at_end.get_untracked() {
            dom::scroll_to_end(".messages");
        } else {
            unseen.set(true);
        }
    });
    let jump_to_latest = move |_| {
        at_end.set(true);
        unseen.set(false);
        dom::scroll_to_end(".messages");
        focus_composer();
    };

    // The answer the person waits for is revealed and read out when it appears.
    let on_new = Callback::new(move |item_id: String| {
        request_animation_frame_or_now(move || {
            if let Some(text) = dom::text_of(&format!("item-{item_id}")) {
                state.announce(item_id, text);
            }
        });
    });
    // A question is under way from here on: the view keeps to the end, and the answer that
    // comes is the one to reveal.
    let start = move || {
        at_end.set(true);
        unseen.set(false);
        let shown = match thread.get_untracked() {
            Some(Ok(Some(view))) => view.items.into_iter().map(|i| i.id).collect(),
            _ => HashSet::new(),
        };
        state.await_answer(shown);
        phase.set(Phase::Sending);
    };

    // Focus goes to the composer when the conversation opens or switches threads.
    Effect::new(move |_| {
        thread_id.track();
        focus_composer();
    });

    let busy = Signal::derive(move || phase.with(Phase::is_busy));

    let send = Callback::new(move |text: String| {
        if busy.get_untracked() {
            return;
        }
        let first_message = match thread.get_untracked() {
            Some(Ok(Some(view))) => view.items.is_empty(),
            _ => true,
        };
        let existing = current_id.get_untracked();
        start();
        local.update(|l| {
            l.push(ConversationItem::local(
                format!("local-{}", l.len()),
                ItemKind::User,
                format!("<p class=\"plain\">{}</p>", escape_html(&text)),
            ))
        });
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
                        reload();
                    } else {
                        let _ = phase.try_set(Phase::Following(RunRef {
                            thread: tid.clone(),
                            run: sent.run.id,
                        }));
                    }
                    if existing.is_none() {
                        let _ = created.try_set(Some(tid.clone()));
                        on_created.run(tid);
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
    });

    // "Retry" under a failed answer asks the same question again.
    let retry = Callback::new(move |_: ()| {
        let Some(tid) = current_id.get_untracked() else {
            return;
        };
        if busy.get_untracked() {
            return;
        }
        start();
        spawn_local(async move {
            let next = match retry_run(tid.clone()).await {
                Ok(run) if !run.is_terminal() => Phase::Following(RunRef {
                    thread: tid,
                    run: run.id,
                }),
                Ok(_) => Phase::Idle,
                Err(e) => Phase::Failed(e.message().to_string()),
            };
            let _ = phase.try_set(next);
            reload();
        });
    });

    // "Stop" ends the run being followed.
    let stop = Callback::new(move |_: ()| {
        let Some(run) = phase.with_untracked(|p| p.run().cloned()) else {
            return;
        };
        spawn_local(async move {
            if cancel_run(run.thread.clone(), run.run.clone())
                .await
                .is_ok()
                && phase.try_with_untracked(|p| p.run() == Some(&run)) == Some(true)
            {
                let _ = phase.try_set(Phase::Idle);
                reload();
            }
        });
    });

    // `?q=…` puts its question into the composer, ready to send, and never sends it: a link
    // on another site must not ask (and spend) in the visitor's name.
    if let Some(question) = initial_question.filter(|q| !q.trim().is_empty()) {
        let filled = StoredValue::new(false);
        Effect::new(move |_| {
            if !filled.get_value() {
                filled.set_value(true);
                let question: String = question.chars().take(MAX_PREFILL_CHARS).collect();
                state.draft.set(question);
                dom::focus_by_id("composer-input", false);
            }
        });
    }

    let class = if compact {
        "conversation compact"
    } else {
        "conversation"
    };
    view! {
        <section class=class>
            <p class="disclaimer">
                <strong>"Experimental."</strong>
                " Answers come from this site's docs and can be wrong: check the sources. "
                "Conversations are stored on this assistant's server, linked to this browser "
                "by a cookie."
            </p>
            <div
                class="messages"
                role="region"
                aria-label="Conversation"
                tabindex="0"
                on:scroll=move |_ev| {
                    #[cfg(feature = "hydrate")]
                    {
                        use wasm_bindgen::JsCast;
                        if let Some(el) = _ev
                            .target()
                            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                        {
                            let end = dom::is_at_end(&el);
                            at_end.set(end);
                            if end {
                                unseen.set(false);
                            }
                        }
                    }
                }
                on:click=move |_ev| {
                    #[cfg(feature = "hydrate")]
                    dom::copy_code_on_click(&_ev);
                }
            >
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match thread.await {
                            Ok(Some(view)) => {
                                view! { <LoadedItems view on_new on_retry=retry on_earlier=load_earlier /> }
                                    .into_any()
                            }
                            Ok(None) => ().into_any(),
                            Err(e) if e.is_not_found() => view! { <GoneNotice /> }.into_any(),
                            Err(e) => {
                                view! { <p class="notice error">{e.to_string()}</p> }.into_any()
                            }
                        }
                    })}
                </Transition>
                <For
                    each=move || local.get()
                    key=|item| item.id.clone()
                    children=move |item| view! { <Bubble item reveal=false on_retry=retry /> }
                />
                {move || {
                    phase
                        .with(|p| p.failure().map(error_item))
                        .map(|item| view! { <Bubble item reveal=false on_retry=retry /> })
                }}
                {move || match live_html.get() {
                    Some(html) => view! { <Writing html /> }.into_any(),
                    None => view! { <Show when=move || busy.get()><Thinking /></Show> }.into_any(),
                }}
            </div>
            <Show when=move || unseen.get()>
                <button type="button" class="jump" on:click=jump_to_latest>
                    "Jump to latest ↓"
                </button>
            </Show>
            <Show when=move || {
                current_id.get().is_none() && local.with(|l| l.is_empty()) && !busy.get()
                    && phase.with(|p| p.failure().is_none())
            }>
                <EmptyState on_pick=send compact />
            </Show>
            <Show when=move || phase.with(|p| p.run().is_some())>
                <button type="button" class="stop" on:click=move |_| stop.run(())>
                    "Stop"
                </button>
            </Show>
            <RetentionNotice />
            <Composer busy on_send=send />
        </section>
    }
}

/// The answer as far as it is written. Screen readers are told it is busy, and hear the answer
/// once, when it is complete (the page's answer log announces it).
#[component]
fn Writing(html: String) -> impl IntoView {
    view! {
        <article class="bubble assistant writing" data-kind="Writing" aria-busy="true">
            <span class="visually-hidden">"Assistant, writing: "</span>
            <div class="content" inner_html=html></div>
        </article>
    }
}

/// The answer being written, before its first words.
#[component]
fn Thinking() -> impl IntoView {
    view! {
        <div class="bubble assistant thinking" aria-label="Thinking">
            <span class="dots" aria-hidden="true">
                <i></i>
                <i></i>
                <i></i>
            </span>
            <span class="visually-hidden">"Thinking…"</span>
        </div>
    }
}

#[component]
fn GoneNotice() -> impl IntoView {
    view! {
        <p class="notice">
            "This thread does not exist or was deleted. " <a href="/">"Start a new thread"</a>
        </p>
    }
}

/// Runs `f` after the next frame (the DOM then has the new items); at once on the server.
fn request_animation_frame_or_now(f: impl FnOnce() + 'static) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(f);
    #[cfg(not(feature = "hydrate"))]
    f();
}

/// Numbers the errors made in the browser, so two of them never share a key (not even two
/// with the same text).
static LOCAL_ERRORS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn error_item(message: &str) -> ConversationItem {
    let n = LOCAL_ERRORS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    ConversationItem::local(
        format!("local-error-{n}"),
        ItemKind::Error,
        format!("<p>{}</p>", escape_html(message)),
    )
}

/// The stored conversation. The answer (or error) the person is waiting for is revealed and
/// passed to `on_new` to be read out.
#[component]
fn LoadedItems(
    view: ThreadView,
    on_new: Callback<String>,
    on_retry: Callback<()>,
    on_earlier: Callback<()>,
) -> impl IntoView {
    let state = use_chat_state();
    let earlier = (view.earlier > 0).then(|| {
        let label = match view.earlier {
            1 => "Load 1 earlier message".to_string(),
            n => format!("Load earlier messages ({n} more)"),
        };
        view! {
            <button type="button" class="load-earlier" on:click=move |_| on_earlier.run(())>
                {label}
            </button>
        }
    });
    let items = view
        .items
        .into_iter()
        .map(|item| {
            let reveal = item.kind != ItemKind::User && state.is_awaited_answer(&item.id);
            if reveal {
                on_new.run(item.id.clone());
            }
            view! { <Bubble item reveal on_retry /> }
        })
        .collect_view();
    view! {
        {earlier}
        {items}
    }
}

#[component]
fn Bubble(item: ConversationItem, reveal: bool, on_retry: Callback<()>) -> impl IntoView {
    let class = match item.kind {
        ItemKind::User => "bubble user",
        ItemKind::Assistant => "bubble assistant",
        ItemKind::Error => "bubble error",
    };
    let label = match item.kind {
        ItemKind::User => "You",
        ItemKind::Assistant => "Assistant",
        ItemKind::Error => "Error",
    };
    let class = if reveal {
        format!("{class} reveal")
    } else {
        class.to_string()
    };
    let sources = (!item.sources.is_empty()).then(|| view! { <Sources sources=item.sources /> });
    let retry = item.retry.then(|| {
        view! {
            <button type="button" class="retry" on:click=move |_| on_retry.run(())>
                "Retry"
            </button>
        }
    });
    let id = format!("item-{}", item.id);
    let rate = item
        .feedback
        .map(|feedback| view! { <Rate message_id=item.id feedback /> });
    let notice = item.not_covered.then(|| {
        view! {
            <p class="not-covered" role="note">
                "The docs don't cover this question."
            </p>
        }
    });
    view! {
        <article class=class data-kind=label id=id>
            <span class="visually-hidden">{label} ": "</span>
            <div class="content" inner_html=item.html></div>
            {notice}
            {sources}
            {rate}
            {retry}
        </article>
    }
}

/// The docs pages an answer's searches returned.
#[component]
fn Sources(sources: Vec<Source>) -> impl IntoView {
    view! {
        <nav class="sources" aria-label="Sources">
            <span class="sources-label">"Sources"</span>
            <ul>
                {sources
                    .into_iter()
                    .map(|s| {
                        view! {
                            <li>
                                <a href=s.url target="_blank" rel="noopener noreferrer">
                                    {s.title}
                                </a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}

#[component]
fn EmptyState(on_pick: Callback<String>, compact: bool) -> impl IntoView {
    let site = use_site();
    let class = if compact {
        "empty-state compact"
    } else {
        "empty-state"
    };
    view! {
        <div class=class>
            <h1>"Ask the docs"</h1>
            <p>
                <SiteName />
                " answers questions from this site's documentation and links "
                "the pages it used. Answers can be wrong: check the linked pages."
            </p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let examples = site.await.map(|s| s.examples).unwrap_or_default();
                    (!examples.is_empty())
                        .then(|| {
                            view! {
                                <ul class="examples" aria-label="Example questions">
                                    {examples
                                        .into_iter()
                                        .map(|q| {
                                            let pick = q.clone();
                                            view! {
                                                <li>
                                                    <button
                                                        type="button"
                                                        class="example"
                                                        on:click=move |_| on_pick.run(pick.clone())
                                                    >
                                                        {q}
                                                    </button>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            }
                        })
                })}
            </Suspense>
        </div>
    }
}
