use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::conversation::Conversation;

/// `/t/{id}`: one thread's conversation.
#[component]
pub fn ThreadPage() -> impl IntoView {
    let params = use_params_map();
    let thread_id = Memo::new(move |_| params.read().get("id"));
    // The thread exists already: nothing is created here.
    let on_created = Callback::new(|_: String| {});
    view! { <Conversation thread_id=Signal::derive(move || thread_id.get()) on_created /> }
}
