use leptos::{ev, prelude::*};
use leptos_router::hooks::use_query_map;

use crate::api::{AppError, ThreadSummary, WireJson};
use crate::components::{
    conversation::Conversation,
    dom,
    layout::focus_composer,
    state::{Announcer, use_chat_state},
};
use crate::server_fns::list_threads;

/// Where the widget remembers the thread it showed last (per embedding site: browsers
/// partition an iframe's storage by the top-level site).
const LAST_THREAD_KEY: &str = "paste-assistant:embed-thread";

/// `/embed`: the widget's page inside the iframe `widget.js` adds to a docs site. A compact
/// view of the same components: a thread picker, the conversation and the composer. It keeps
/// its thread in the page (the iframe stays while the panel is closed) and across visits.
/// `?accent=#rrggbb` recolours it to match the host site.
#[component]
pub fn EmbedPage() -> impl IntoView {
    let state = use_chat_state();
    let accent = use_query_map()
        .get_untracked()
        .get("accent")
        .filter(|a| is_hex_colour(a));
    // The thread the picker shows, and the one whose conversation is open; they differ only
    // while a conversation started here follows the thread it created.
    let selected = RwSignal::new(None::<String>);
    let shown = RwSignal::new(None::<String>);
    let threads =
        crate::components::resource(move || state.threads_version.get(), |_| list_threads());

    // On a later visit the conversation comes back: the one remembered in this browser's
    // storage for the embedding site, else the session's newest thread. Browsers that block
    // storage in cross-site frames still send the partitioned session cookie, so the newest
    // thread is found either way. "" remembers that a new conversation was chosen.
    let decided = StoredValue::new(false);
    Effect::new(move |_| {
        let Some(Ok(list)) = threads.get() else {
            return;
        };
        if decided.get_value() {
            return;
        }
        decided.set_value(true);
        let pick = match dom::load(LAST_THREAD_KEY) {
            Some(id) if id.is_empty() => None,
            Some(id) if list.iter().any(|t| t.id == id) => Some(id),
            _ => list.first().map(|t| t.id.clone()),
        };
        if pick.is_some() {
            selected.set(pick.clone());
            shown.set(pick);
        }
    });
    listen_to_host();

    let select = move |id: Option<String>| {
        decided.set_value(true);
        dom::save(LAST_THREAD_KEY, Some(id.as_deref().unwrap_or("")));
        selected.set(id.clone());
        shown.set(id);
        focus_composer();
    };
    let on_created = Callback::new(move |id: String| {
        dom::save(LAST_THREAD_KEY, Some(&id));
        selected.set(Some(id));
        state.threads_changed();
    });
    let style = accent.map(|a| format!("--accent: {a}; --focus: {a};"));

    view! {
        <div class="embed" style=style>
            <header class="embed-bar">
                <label class="visually-hidden" for="thread-picker">
                    "Thread"
                </label>
                <ThreadPicker threads selected on_select=Callback::new(select) />
                <button
                    type="button"
                    class="embed-new"
                    on:click=move |_| select(None)
                    disabled=move || selected.get().is_none()
                >
                    "New"
                </button>
            </header>
            {move || {
                // A new conversation view per thread: its state belongs to that thread.
                let id = shown.get();
                view! {
                    <Conversation thread_id=Signal::derive(move || id.clone()) on_created compact=true />
                }
            }}
            <Announcer />
        </div>
    }
}

/// Escape asks the host page to close the panel; opening it again focuses the composer.
fn listen_to_host() {
    let keys = window_event_listener(ev::keydown, |ev| {
        if ev.key() == "Escape" {
            dom::ask_parent_to_close();
        }
    });
    let messages = window_event_listener(ev::message, |ev| {
        if ev.data().as_string().as_deref() == Some("paste-assistant:focus") {
            focus_composer();
        }
    });
    on_cleanup(move || {
        keys.remove();
        messages.remove();
    });
}

/// The threads of this browser's session to pick from, and "New conversation".
#[component]
fn ThreadPicker(
    threads: Resource<Result<Vec<ThreadSummary>, AppError>, WireJson>,
    selected: RwSignal<Option<String>>,
    on_select: Callback<Option<String>>,
) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let list: Vec<ThreadSummary> = threads.await.unwrap_or_default();
                view! {
                    <select
                        id="thread-picker"
                        class="thread-picker"
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            on_select.run((!value.is_empty()).then_some(value));
                        }
                    >
                        <option value="" selected=move || selected.get().is_none()>
                            "New conversation"
                        </option>
                        {list
                            .into_iter()
                            .map(|t| {
                                let id = t.id.clone();
                                view! {
                                    <option
                                        value=t.id
                                        selected=move || selected.get().as_deref() == Some(&id)
                                    >
                                        {t.title}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                }
            })}
        </Transition>
    }
}

/// `#abc`, `#aabbcc` or `#aabbccdd`: nothing else reaches the page's style.
fn is_hex_colour(value: &str) -> bool {
    value.strip_prefix('#').is_some_and(|hex| {
        matches!(hex.len(), 3 | 6 | 8) && hex.chars().all(|c| c.is_ascii_hexdigit())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_hex_colours_are_accents() {
        for good in ["#0263e0", "#abc", "#AABBCCDD"] {
            assert!(super::is_hex_colour(good), "{good}");
        }
        for bad in [
            "red",
            "#12",
            "#0263e0; background: url(x)",
            "0263e0",
            "#ggg",
        ] {
            assert!(!super::is_hex_colour(bad), "{bad}");
        }
    }
}
