use leptos::prelude::*;

use crate::components::conversation::Conversation;

/// `/`: the empty state; the first message creates the thread.
#[component]
pub fn HomePage() -> impl IntoView {
    view! { <Conversation thread_id=Signal::derive(|| None) /> }
}
