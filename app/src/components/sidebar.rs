use leptos::{prelude::*, task::spawn_local};
use leptos_router::hooks::{use_location, use_navigate};

use crate::api::ThreadSummary;
use crate::components::state::use_chat_state;
use crate::server_fns::{delete_thread, list_threads};
use crate::util::format_date;

/// The caller's threads, newest first, each with a delete button.
#[component]
pub fn Sidebar() -> impl IntoView {
    let state = use_chat_state();
    let threads = Resource::new(move || state.threads_version.get(), |_| list_threads());
    view! {
        <nav class="threads" aria-label="Threads">
            <Transition fallback=|| view! { <p class="muted">"Loading threads…"</p> }>
                {move || Suspend::new(async move {
                    match threads.await {
                        Ok(list) if list.is_empty() => {
                            view! { <p class="muted">"No threads yet."</p> }.into_any()
                        }
                        Ok(list) => {
                            view! {
                                <ul aria-label="Threads">
                                    {list
                                        .into_iter()
                                        .map(|t| view! { <ThreadItem thread=t /> })
                                        .collect_view()}
                                </ul>
                            }
                                .into_any()
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
    let remove = {
        let id = thread.id.clone();
        let href = href.clone();
        move || {
            let id = id.clone();
            let href = href.clone();
            let navigate = navigate.clone();
            spawn_local(async move {
                if delete_thread(id).await.is_ok() {
                    if location.pathname.get_untracked() == href {
                        navigate("/", Default::default());
                    }
                    state.threads_changed();
                }
            });
        }
    };
    let remove_by_key = remove.clone();
    let date = format_date(thread.created_at);
    view! {
        <li class="thread-item" class:current=move || current.get()>
            <a
                href=href
                aria-current=move || if current.get() { Some("page") } else { None }
                on:keydown=move |ev| {
                    if ev.key() == "Backspace" || ev.key() == "Delete" {
                        ev.prevent_default();
                        remove_by_key();
                    }
                }
            >
                <span class="thread-title">{thread.title}</span>
                <time class="thread-date">{date}</time>
            </a>
            <button
                type="button"
                class="delete-thread"
                aria-label="Delete thread"
                title="Delete thread"
                on:click=move |_| remove()
            >
                "×"
            </button>
        </li>
    }
}
