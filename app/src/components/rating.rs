//! "Helpful" / "Not helpful" under an answer. A choice is saved at once and can be changed or
//! taken back (pressing it again); after "Not helpful" the reader may say what was wrong.
use leptos::prelude::*;

use crate::api::{AppError, Feedback, REASONS, Rating};
use crate::server_fns::rate_answer;

/// What a click asks the server to store: the rating, and with "Not helpful" a reason and
/// the reader's words.
#[derive(Clone)]
struct Ask {
    rating: Option<Rating>,
    reason: Option<String>,
    comment: Option<String>,
}

#[component]
pub fn Rate(message_id: String, feedback: Feedback) -> impl IntoView {
    let rating = RwSignal::new(feedback.rating);
    // The reason form is open (after "Not helpful"), then thanked once sent.
    let asking = RwSignal::new(false);
    let thanked = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let reason = RwSignal::new(None::<&'static str>);
    let comment = RwSignal::new(String::new());
    let thread_id = feedback.thread_id;
    let save = Action::new(move |ask: &Ask| {
        let (thread_id, message_id, ask) = (thread_id.clone(), message_id.clone(), ask.clone());
        async move { rate_answer(thread_id, message_id, ask.rating, ask.reason, ask.comment).await }
    });
    // The screen shows the choice at once; a refusal puts the stored one back and says why.
    let before = StoredValue::new(feedback.rating);
    Effect::new(move |_| match save.value().get() {
        Some(Ok(stored)) => {
            before.set_value(stored);
            failure.set(None);
        }
        Some(Err(AppError { message, .. })) => {
            rating.set(before.get_value());
            asking.set(false);
            thanked.set(false);
            failure.set(Some(format!("Your rating was not saved: {message}")));
        }
        None => {}
    });
    let choose = move |pick: Rating| {
        let now = (rating.get_untracked() != Some(pick)).then_some(pick);
        rating.set(now);
        asking.set(now == Some(Rating::Down));
        thanked.set(false);
        save.dispatch(Ask {
            rating: now,
            reason: None,
            comment: None,
        });
    };
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let words = comment.get_untracked().trim().to_string();
        save.dispatch(Ask {
            rating: Some(Rating::Down),
            reason: reason.get_untracked().map(str::to_string),
            comment: (!words.is_empty()).then_some(words),
        });
        asking.set(false);
        thanked.set(true);
    };
    let button = move |r: Rating| {
        let (class, mark, label) = match r {
            Rating::Up => ("rate-up", "▲ ", "Helpful"),
            Rating::Down => ("rate-down", "▼ ", "Not helpful"),
        };
        view! {
            <button
                type="button"
                class=class
                aria-pressed=move || (rating.get() == Some(r)).to_string()
                on:click=move |_| choose(r)
            >
                <span aria-hidden="true">{mark}</span>
                {label}
            </button>
        }
    };
    view! {
        <div class="rate" role="group" aria-label="Rate this answer">
            <div class="rate-buttons">{button(Rating::Up)} {button(Rating::Down)}</div>
            <Show when=move || asking.get()>
                <form class="rate-reason" on:submit=send>
                    <fieldset>
                        <legend>"What was wrong? (optional)"</legend>
                        {REASONS
                            .iter()
                            .map(|&(value, label)| {
                                view! {
                                    <label class="rate-choice">
                                        <input
                                            type="radio"
                                            name="reason"
                                            value=value
                                            on:change=move |_| reason.set(Some(value))
                                        />
                                        {label}
                                    </label>
                                }
                            })
                            .collect_view()}
                    </fieldset>
                    <label class="rate-comment">
                        "Anything else?"
                        <textarea
                            maxlength="1000"
                            rows="2"
                            prop:value=move || comment.get()
                            on:input=move |ev| comment.set(event_target_value(&ev))
                        ></textarea>
                    </label>
                    <button type="submit">"Send feedback"</button>
                </form>
            </Show>
            <p class="rate-status" role="status">
                {move || thanked.get().then_some("Thanks, the docs team will see this.")}
                {move || failure.get()}
            </p>
        </div>
    }
}
