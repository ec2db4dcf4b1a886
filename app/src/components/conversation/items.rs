//! The items of a conversation: questions, answers with their sources, rating and notices,
//! errors, the answer being written, and the empty state.
use leptos::prelude::*;

use crate::api::{ConversationItem, ItemKind, Source, ThreadView, escape_html};
use crate::components::rating::Rate;
use crate::components::site::{SiteName, use_site};
use crate::components::state::use_chat_state;

/// The answer as far as it is written. Screen readers are told it is busy, and hear the answer
/// once, when it is complete (the page's answer log announces it).
#[component]
pub(super) fn Writing(html: String) -> impl IntoView {
    view! {
        <article class="bubble assistant writing" data-kind="Writing" aria-busy="true">
            <span class="visually-hidden">"Assistant, writing: "</span>
            <div class="content" inner_html=html></div>
        </article>
    }
}

/// The answer being written, before its first words.
#[component]
pub(super) fn Thinking() -> impl IntoView {
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
pub(super) fn GoneNotice() -> impl IntoView {
    view! {
        <p class="notice">
            "This thread does not exist or was deleted. " <a href="/">"Start a new thread"</a>
        </p>
    }
}

/// Numbers the errors made in the browser, so two of them never share a key (not even two
/// with the same text).
static LOCAL_ERRORS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

pub(super) fn error_item(message: &str) -> ConversationItem {
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
pub(super) fn LoadedItems(
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
pub(super) fn Bubble(
    item: ConversationItem,
    reveal: bool,
    on_retry: Callback<()>,
) -> impl IntoView {
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
pub(super) fn Sources(sources: Vec<Source>) -> impl IntoView {
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
pub(super) fn EmptyState(on_pick: Callback<String>, compact: bool) -> impl IntoView {
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
