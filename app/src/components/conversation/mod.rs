//! The conversation of one thread (or the empty state when `thread_id` is `None`), with the
//! composer: its state and actions are [`chat::Chat`]'s, the items are `items`'s.
mod chat;
mod items;

use leptos::prelude::*;

use crate::components::composer::Composer;
use crate::components::dom;
use crate::components::site::RetentionNotice;
use chat::Chat;
use items::{Bubble, EmptyState, GoneNotice, LoadedItems, Thinking, Writing, error_item};

/// Longest question a `?q=` link can put into the composer.
const MAX_PREFILL_CHARS: usize = 2_000;

/// Sending stores the message, starts a run and follows it (see
/// [`crate::components::follower::follow_runs`]) until it ends. `on_created` gets the id of the
/// thread the first message created; `initial_question` fills the composer once the page is
/// interactive (`?q=`); `compact` is the widget's layout.
#[component]
pub fn Conversation(
    thread_id: Signal<Option<String>>,
    on_created: Callback<String>,
    #[prop(optional)] initial_question: Option<String>,
    #[prop(optional)] compact: bool,
) -> impl IntoView {
    let chat = Chat::new(thread_id, on_created);
    if let Some(question) = initial_question.filter(|q| !q.trim().is_empty()) {
        prefill(question);
    }
    let busy = Signal::derive(move || chat.busy());
    let send = Callback::new(move |text: String| chat.send(text));
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
            <MessageList chat />
            <Show when=move || chat.unseen.get()>
                <button type="button" class="jump" on:click=move |_| chat.jump_to_latest()>
                    "Jump to latest ↓"
                </button>
            </Show>
            <Show when=move || chat.is_empty()>
                <EmptyState on_pick=send compact />
            </Show>
            <Show when=move || chat.phase.with(|p| p.run().is_some())>
                <button type="button" class="stop" on:click=move |_| chat.stop()>
                    "Stop"
                </button>
            </Show>
            <RetentionNotice />
            <Composer busy on_send=send />
        </section>
    }
}

/// `?q=…` puts its question into the composer, ready to send, and never sends it: a link on
/// another site must not ask (and spend) in the visitor's name.
fn prefill(question: String) {
    let state = crate::components::state::use_chat_state();
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

/// The scrolling list: the stored items, the question just sent, an error, and the answer being
/// written (or the dots before its first words).
#[component]
fn MessageList(chat: Chat) -> impl IntoView {
    let on_new = Callback::new(move |item_id: String| chat.announce(item_id));
    let on_retry = Callback::new(move |()| chat.retry());
    let on_earlier = Callback::new(move |()| chat.load_earlier());
    let thread = chat.thread;
    view! {
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
                        chat.at_end.set(end);
                        if end {
                            chat.unseen.set(false);
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
                            view! { <LoadedItems view on_new on_retry on_earlier /> }.into_any()
                        }
                        Ok(None) => ().into_any(),
                        Err(e) if e.is_not_found() => view! { <GoneNotice /> }.into_any(),
                        Err(e) => view! { <p class="notice error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <For
                each=move || chat.local.get()
                key=|item| item.id.clone()
                children=move |item| view! { <Bubble item reveal=false on_retry /> }
            />
            {move || {
                chat.phase
                    .with(|p| p.failure().map(error_item))
                    .map(|item| view! { <Bubble item reveal=false on_retry /> })
            }}
            {move || match chat.live_html.get() {
                Some(html) => view! { <Writing html /> }.into_any(),
                None => view! { <Show when=move || chat.busy()><Thinking /></Show> }.into_any(),
            }}
        </div>
    }
}
