use leptos::{prelude::*, task::spawn_local};
use leptos_router::hooks::use_navigate;

use crate::api::{AppError, ConversationItem, ItemKind, ThreadView};
use crate::components::{
    composer::Composer,
    layout::focus_composer,
    state::{escape_html, sleep_ms, use_chat_state},
};
use crate::server_fns::{
    cancel_run, create_thread, delete_thread, get_run_state, get_thread_view, send_message,
    title_thread,
};

/// Questions offered on the empty state.
const EXAMPLES: [&str; 3] = [
    "How do I set up Paste Assistant on my machine?",
    "Which environment variables configure the server?",
    "How do I deploy the assistant with Postgres?",
];

/// A run the browser is following: (thread id, run id).
type ActiveRun = Option<(String, String)>;

/// The conversation of one thread (or the empty state when `thread_id` is `None`), with the
/// composer. Sending stores the message, starts a run and polls it every second until it ends.
#[component]
pub fn Conversation(thread_id: Signal<Option<String>>) -> impl IntoView {
    let state = use_chat_state();
    let navigate = use_navigate();
    let version = RwSignal::new(0u32);
    // Items shown before the server has them (the message just sent, a send error).
    let local = RwSignal::new(Vec::<ConversationItem>::new());
    let sending = RwSignal::new(false);
    let active = RwSignal::new(ActiveRun::None);

    // The thread this view made for its first message (the empty state has none). The view
    // follows it even before (or without) the route change to `/t/{id}`.
    let created = RwSignal::new(None::<String>);
    let current_id = Signal::derive(move || thread_id.get().or_else(|| created.get()));
    let thread = Resource::new(
        move || (current_id.get(), version.get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_thread_view(id).await.map(Some),
                None => Ok(None),
            }
        },
    );

    // Switching from one thread to another drops what belonged to the previous one. A route
    // param that only now arrives (None → Some) is no switch: resetting then would stop
    // following a run the new view has just picked up.
    Effect::new(move |prev: Option<Option<String>>| {
        let id = thread_id.get();
        if let Some(Some(previous)) = prev
            && Some(&previous) != id.as_ref()
        {
            local.set(Vec::new());
            sending.set(false);
            active.set(None);
        }
        id
    });

    // A thread that loads with a run still going (reload, navigation) is followed too.
    Effect::new(move |_| {
        if let Some(Ok(Some(view))) = thread.get()
            && let Some(run) = view.active_run
        {
            let next = Some((view.id.clone(), run));
            if active.get_untracked() != next {
                active.set(next);
            }
        }
    });

    // One loop for the component's life: follow the active run until it reaches
    // a terminal status, then reload the conversation. It also reloads whenever what is shown
    // is unfinished without a run being followed (a question with no answer yet), so the view
    // always converges to the server's state whatever order the effects above ran in. The
    // component may be gone when a call returns, so signals are only tried.
    Effect::new(move |_| {
        spawn_local(async move {
            let mut failures = 0;
            // Ticks of 250 ms: a run is first checked within a tick of being followed (fast
            // offline answers show at once), then once a second.
            let mut last: Option<(String, String)> = None;
            let mut ticks = 0;
            loop {
                sleep_ms(250).await;
                let Some(following) = active.try_get_untracked() else {
                    return; // disposed
                };
                ticks += 1;
                let new_run = following.is_some() && following != last;
                if !new_run && ticks < 4 {
                    continue;
                }
                ticks = 0;
                last = following.clone();
                if let Some((tid, rid)) = following.clone() {
                    let ended = match get_run_state(tid, rid).await {
                        Ok(run) => run.is_terminal(),
                        Err(AppError::NotFound(_)) => true,
                        Err(e) => {
                            failures += 1;
                            if failures >= 5 {
                                let _ = local.try_update(|l| l.push(error_item(e.message())));
                            }
                            failures >= 5
                        }
                    };
                    if ended && active.try_get_untracked().flatten() == following {
                        failures = 0;
                        let _ = active.try_set(None);
                        let _ = sending.try_set(false);
                        let _ = version.try_update(|v| *v += 1);
                    }
                    continue;
                }
                if sending.try_get_untracked() != Some(false) {
                    continue;
                }
                let unfinished = match thread.try_get_untracked().flatten() {
                    Some(Ok(Some(view))) => {
                        view.active_run.is_some()
                            || view.items.last().is_some_and(|i| i.kind == ItemKind::User)
                    }
                    Some(Ok(None)) => current_id.try_get_untracked().flatten().is_some(),
                    _ => false,
                };
                let waiting = local
                    .try_with_untracked(|l| l.iter().any(|i| i.kind == ItemKind::User))
                    .unwrap_or(false);
                if unfinished || (waiting && current_id.try_get_untracked().flatten().is_some()) {
                    let _ = version.try_update(|v| *v += 1);
                }
            }
        });
    });

    // The newest message stays in view.
    Effect::new(move |_| {
        thread.track();
        local.track();
        active.track();
        sending.track();
        scroll_log_to_end();
    });

    // Focus goes to the composer when the conversation opens or switches threads.
    Effect::new(move |_| {
        thread_id.track();
        focus_composer();
    });

    // A view loaded after the message was stored includes it: the optimistic copy goes.
    Effect::new(move |_| {
        if let Some(Ok(Some(_))) = thread.get()
            && !sending.get_untracked()
        {
            local.update(|l| l.retain(|i| i.kind == ItemKind::Error));
        }
    });

    let busy = Signal::derive(move || sending.get() || active.get().is_some());

    let send = Callback::new(move |text: String| {
        if busy.get_untracked() {
            return;
        }
        let first_message = match thread.get_untracked() {
            Some(Ok(Some(view))) => view.items.is_empty(),
            _ => true,
        };
        let existing = current_id.get_untracked();
        local.update(|l| {
            l.retain(|i| i.kind != ItemKind::Error);
            l.push(ConversationItem {
                id: format!("local-{}", l.len()),
                kind: ItemKind::User,
                html: format!("<p class=\"plain\">{}</p>", escape_html(&text)),
            })
        });
        sending.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            let show_error = move |message: &str| {
                let _ = local.try_update(|l| l.push(error_item(message)));
                let _ = sending.try_set(false);
            };
            let tid = match existing.clone() {
                Some(id) => id,
                None => match create_thread().await {
                    Ok(t) => t.id,
                    Err(e) => return show_error(e.message()),
                },
            };
            if first_message {
                // The title is asked for in parallel with the run.
                let (tid, text) = (tid.clone(), text.clone());
                spawn_local(async move {
                    if title_thread(tid, text).await.is_ok() {
                        state.threads_changed();
                    }
                });
            }
            match send_message(tid.clone(), text).await {
                Ok(sent) => {
                    state.threads_changed();
                    if sent.run.is_terminal() {
                        let _ = version.try_update(|v| *v += 1);
                    } else {
                        let _ = active.try_set(Some((tid.clone(), sent.run.id)));
                    }
                    let _ = sending.try_set(false);
                    if existing.is_none() {
                        let _ = created.try_set(Some(tid.clone()));
                        navigate(&format!("/t/{tid}"), Default::default());
                    }
                }
                Err(e) => {
                    show_error(e.message());
                    if existing.is_none() {
                        // The thread made for this message stays empty: remove it again.
                        let _ = delete_thread(tid).await;
                        state.threads_changed();
                    }
                }
            }
        });
    });

    view! {
        <section class="conversation">
            <div class="messages" role="log" aria-live="polite" aria-label="Messages">
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match thread.await {
                            Ok(Some(view)) => view! { <LoadedItems view /> }.into_any(),
                            Ok(None) => ().into_any(),
                            Err(AppError::NotFound(_)) => {
                                view! {
                                    <p class="notice">
                                        "This thread does not exist or was deleted. "
                                        <a href="/">"Start a new thread"</a>
                                    </p>
                                }
                                    .into_any()
                            }
                            Err(e) => {
                                view! { <p class="notice error">{e.to_string()}</p> }.into_any()
                            }
                        }
                    })}
                </Transition>
                <For
                    each=move || local.get()
                    key=|item| item.id.clone()
                    children=|item| view! { <Bubble item /> }
                />
                <Show when=move || busy.get()>
                    <div class="bubble assistant thinking" aria-label="Thinking">
                        <span class="dots" aria-hidden="true">
                            <i></i>
                            <i></i>
                            <i></i>
                        </span>
                        <span class="visually-hidden">"Thinking…"</span>
                    </div>
                </Show>
            </div>
            <Show when=move || {
                current_id.get().is_none() && local.with(|l| l.is_empty()) && !busy.get()
            }>
                <EmptyState on_pick=send />
            </Show>
            <Show when=move || active.get().is_some()>
                <button
                    type="button"
                    class="stop"
                    on:click=move |_| {
                        if let Some((tid, rid)) = active.get_untracked() {
                            spawn_local(async move {
                                if cancel_run(tid.clone(), rid.clone()).await.is_ok()
                                    && active.try_get_untracked().flatten() == Some((tid, rid))
                                {
                                    let _ = active.try_set(None);
                                    let _ = version.try_update(|v| *v += 1);
                                }
                            });
                        }
                    }
                >
                    "Stop"
                </button>
            </Show>
            <Composer busy on_send=send />
        </section>
    }
}

/// Scrolls the message log to its end on the next frame (after the DOM has the new items).
fn scroll_log_to_end() {
    #[cfg(feature = "hydrate")]
    request_animation_frame(|| {
        if let Some(log) = document().query_selector(".messages").ok().flatten() {
            log.set_scroll_top(log.scroll_height());
        }
    });
}

fn error_item(message: &str) -> ConversationItem {
    ConversationItem {
        id: format!("error-{}", message.len()),
        kind: ItemKind::Error,
        html: format!("<p>{}</p>", escape_html(message)),
    }
}

#[component]
fn LoadedItems(view: ThreadView) -> impl IntoView {
    view.items
        .into_iter()
        .map(|item| view! { <Bubble item /> })
        .collect_view()
}

#[component]
fn Bubble(item: ConversationItem) -> impl IntoView {
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
    view! {
        <article class=class data-kind=label>
            <span class="visually-hidden">{label} ": "</span>
            <div class="content" inner_html=item.html></div>
        </article>
    }
}

#[component]
fn EmptyState(on_pick: Callback<String>) -> impl IntoView {
    view! {
        <div class="empty-state">
            <h1>"Ask the docs"</h1>
            <p>
                "Paste Assistant answers questions from this site's documentation and links "
                "the pages it used. Answers can be wrong: check the linked pages."
            </p>
            <ul class="examples" aria-label="Example questions">
                {EXAMPLES
                    .into_iter()
                    .map(|q| {
                        view! {
                            <li>
                                <button
                                    type="button"
                                    class="example"
                                    on:click=move |_| on_pick.run(q.to_string())
                                >
                                    {q}
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </div>
    }
}
