use leptos::prelude::*;

use crate::components::state::use_chat_state;

/// The message box: Enter sends, Shift+Enter starts a new line. Sending is off while `busy`.
/// The draft lives in the app's state, so it survives the page change from `/` to the new
/// thread's `/t/{id}` that the first message causes.
#[component]
pub fn Composer(busy: Signal<bool>, on_send: Callback<String>) -> impl IntoView {
    let draft = use_chat_state().draft;
    let submit = move || {
        let text = draft.get_untracked();
        if busy.get_untracked() || text.trim().is_empty() {
            return;
        }
        draft.set(String::new());
        on_send.run(text);
    };
    view! {
        <form
            class="composer"
            on:submit=move |ev| {
                ev.prevent_default();
                submit();
            }
        >
            <textarea
                id="composer-input"
                aria-label="Message"
                placeholder="Ask a question about the docs…"
                rows="2"
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
                on:keydown=move |ev| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        submit();
                    }
                }
            ></textarea>
            <button
                type="submit"
                class="send"
                disabled=move || busy.get() || draft.with(|d| d.trim().is_empty())
            >
                "Send"
            </button>
        </form>
    }
}
