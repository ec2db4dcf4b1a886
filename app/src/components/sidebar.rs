use leptos::{prelude::*, task::spawn_local};
use leptos_router::hooks::{use_location, use_navigate};

use crate::api::ThreadSummary;
use crate::components::{dom, state::use_chat_state};
use crate::server_fns::{list_threads, rename_thread};
use crate::util::format_date;

/// The caller's threads, newest first, each with rename and delete buttons.
#[component]
pub fn Sidebar() -> impl IntoView {
    let state = use_chat_state();
    let threads = super::resource(move || state.threads_version.get(), |_| list_threads());
    view! {
        <nav class="threads" aria-label="Threads">
            <Transition fallback=|| view! { <p class="muted">"Loading threads…"</p> }>
                {move || Suspend::new(async move {
                    match threads.await {
                        Ok(list) => {
                            let list: Vec<ThreadSummary> = list
                                .into_iter()
                                .filter(|t| !state.is_hidden(&t.id))
                                .collect();
                            if list.is_empty() {
                                view! { <p class="muted">"No threads yet."</p> }.into_any()
                            } else {
                                view! {
                                    <ul>
                                        {list
                                            .into_iter()
                                            .map(|t| view! { <ThreadItem thread=t /> })
                                            .collect_view()}
                                    </ul>
                                }
                                    .into_any()
                            }
                        }
                        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </nav>
    }
}

#[component]
fn ThreadItem(thread: ThreadSummary) -> impl IntoView {
    let state = use_chat_state();
    let location = use_location();
    let navigate = use_navigate();
    let href = format!("/t/{}", thread.id);
    let current = {
        let href = href.clone();
        Memo::new(move |_| location.pathname.get() == href)
    };
    let id = StoredValue::new(thread.id.clone());
    let title = RwSignal::new(thread.title.clone());
    let editing = RwSignal::new(false);
    let rename_error = RwSignal::new(None::<String>);
    let link_id = format!("thread-link-{}", thread.id);

    let remove = {
        let href = href.clone();
        move || {
            if location.pathname.get_untracked() == href {
                navigate("/", Default::default());
            }
            state.delete_later(id.get_value(), title.get_untracked());
            dom::focus_by_id("new-thread", false);
        }
    };
    let remove_by_key = remove.clone();
    let start_rename = move || {
        rename_error.set(None);
        editing.set(true);
        dom::focus_by_id("rename-input", true);
    };
    let focus_link = {
        let link_id = link_id.clone();
        Callback::new(move |()| dom::focus_by_id(link_id.clone(), false))
    };
    let save = Callback::new(move |text: String| {
        if editing.get_untracked() {
            editing.set(false);
            rename(id.get_value(), text, title, rename_error);
        }
    });

    view! {
        <li class="thread-item" class:current=move || current.get()>
            <Show
                when=move || editing.get()
                fallback=move || {
                    let remove_by_key = remove_by_key.clone();
                    view! {
                        <a
                            id=link_id.clone()
                            href=href.clone()
                            aria-current=move || if current.get() { Some("page") } else { None }
                            on:click=move |_| state.drawer_open.set(false)
                            on:keydown=move |ev| match ev.key().as_str() {
                                "Backspace" | "Delete" => {
                                    ev.prevent_default();
                                    remove_by_key();
                                }
                                "F2" => {
                                    ev.prevent_default();
                                    start_rename();
                                }
                                _ => {}
                            }
                        >
                            <span class="thread-title">{move || title.get()}</span>
                            <LocalDate unix=thread.created_at />
                        </a>
                    }
                }
            >
                <RenameInput
                    title
                    on_save=save
                    on_cancel=Callback::new(move |()| editing.set(false))
                    on_done=focus_link
                />
            </Show>
            <IconButton
                class="rename-thread"
                label="Rename thread"
                hint="Rename thread (F2)"
                glyph="✎"
                on_click=move || start_rename()
            />
            <IconButton
                class="delete-thread"
                label="Delete thread"
                hint="Delete thread"
                glyph="×"
                on_click=move || remove()
            />
            {move || {
                rename_error.get().map(|e| view! { <p class="rename-error" role="alert">{e}</p> })
            }}
        </li>
    }
}

/// Saves a thread's new title (spaces collapsed; an empty or unchanged one is no change), shown
/// at once and put back when the server refuses it.
fn rename(
    id: String,
    text: String,
    title: RwSignal<String>,
    rename_error: RwSignal<Option<String>>,
) {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let previous = title.get_untracked();
    if text.is_empty() || text == previous {
        return;
    }
    title.set(text.clone());
    spawn_local(async move {
        match rename_thread(id, text).await {
            Ok(saved) => {
                let _ = title.try_set(saved.title);
            }
            Err(e) => {
                let _ = title.try_set(previous);
                let _ = rename_error.try_set(Some(e.message().to_string()));
            }
        }
    });
}

/// The title being edited: Enter saves, Escape cancels, leaving the field saves.
#[component]
fn RenameInput(
    title: RwSignal<String>,
    on_save: Callback<String>,
    on_cancel: Callback<()>,
    on_done: Callback<()>,
) -> impl IntoView {
    view! {
        <input
            id="rename-input"
            class="rename-input"
            aria-label="Thread title"
            maxlength="120"
            prop:value=move || title.get_untracked()
            on:keydown=move |ev| match ev.key().as_str() {
                "Enter" => {
                    ev.prevent_default();
                    on_save.run(event_target_value(&ev));
                    on_done.run(());
                }
                "Escape" => {
                    ev.prevent_default();
                    ev.stop_propagation();
                    on_cancel.run(());
                    on_done.run(());
                }
                _ => {}
            }
            on:blur=move |ev| on_save.run(event_target_value(&ev))
        />
    }
}

/// A date shown as `YYYY-MM-DD` by the server, then in the person's locale once the page runs.
/// A one-glyph button whose accessible name is `label` and whose tooltip is `hint`.
#[component]
fn IconButton(
    class: &'static str,
    label: &'static str,
    hint: &'static str,
    glyph: &'static str,
    on_click: impl Fn() + 'static,
) -> impl IntoView {
    view! {
        <button
            type="button"
            class=format!("icon-button {class}")
            aria-label=label
            title=hint
            on:click=move |_| on_click()
        >
            {glyph}
        </button>
    }
}

#[component]
pub fn LocalDate(unix: i64) -> impl IntoView {
    let iso = format_date(unix);
    let text = RwSignal::new(iso.clone());
    Effect::new(move |_| {
        if let Some(local) = dom::locale_date(unix) {
            text.set(local);
        }
    });
    view! {
        <time class="thread-date" datetime=iso>
            {move || text.get()}
        </time>
    }
}
