use leptos::prelude::*;
use leptos_router::{
    NavigateOptions,
    hooks::{use_navigate, use_query_map},
};

use crate::components::conversation::Conversation;

/// `/`: the empty state; the first message creates the thread. `/?q=…` puts `q` into the
/// composer for the person to send.
#[component]
pub fn HomePage() -> impl IntoView {
    let navigate = use_navigate();
    let question = use_query_map().get_untracked().get("q");
    // A question from the URL is not asked again by going back.
    let replace = question.is_some();
    let on_created = Callback::new(move |id: String| {
        navigate(
            &format!("/t/{id}"),
            NavigateOptions {
                replace,
                ..Default::default()
            },
        )
    });
    match question {
        Some(q) => view! {
            <Conversation thread_id=Signal::derive(|| None) on_created initial_question=q />
        }
        .into_any(),
        None => view! { <Conversation thread_id=Signal::derive(|| None) on_created /> }.into_any(),
    }
}
