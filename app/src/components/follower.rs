//! What a conversation is doing (its [`Phase`]) and the loop that follows a run until it ends.
use leptos::{prelude::*, task::spawn_local};

use crate::components::state::sleep_ms;
use crate::server_fns::get_run_state;

/// A run the browser follows.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRef {
    pub thread: String,
    pub run: String,
}

/// The one state of a conversation view.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// Nothing under way: the composer takes a question.
    Idle,
    /// The message is being stored and its run started.
    Sending,
    /// A run is being followed until it ends.
    Following(RunRef),
    /// The last thing asked for failed: the message is shown, the composer takes a question.
    Failed(String),
}

impl Phase {
    /// Whether a question is under way (the composer waits, "Thinking" shows).
    pub fn is_busy(&self) -> bool {
        matches!(self, Phase::Sending | Phase::Following(_))
    }

    pub fn run(&self) -> Option<&RunRef> {
        match self {
            Phase::Following(run) => Some(run),
            _ => None,
        }
    }

    pub fn failure(&self) -> Option<&str> {
        match self {
            Phase::Failed(message) => Some(message),
            _ => None,
        }
    }
}

/// Polls before a run counts as lost: one check a second, so about five seconds.
const FAILURES_BEFORE_GIVING_UP: u32 = 5;

/// One loop for the view's life, in ticks of 250 ms. A run being followed is checked within a
/// tick of being followed (fast offline answers show at once), then once a second; when it
/// ends (or is gone, or cannot be checked five times running) the phase moves on and `reload`
/// is called. When nothing is under way, `unfinished` is asked once a second and `reload`
/// called while it says yes (a question shown without its answer), so the view always
/// converges to the server's state. The view may be gone when a call returns, so signals are
/// only tried. It runs in the browser only (an effect), never during server rendering.
pub fn follow_runs(
    phase: RwSignal<Phase>,
    reload: impl Fn() + Copy + 'static,
    unfinished: impl Fn() -> bool + Copy + 'static,
) {
    Effect::new(move |_| spawn_local(follow(phase, reload, unfinished)));
}

async fn follow(phase: RwSignal<Phase>, reload: impl Fn(), unfinished: impl Fn() -> bool) {
    {
        let mut failures = 0;
        let mut last: Option<RunRef> = None;
        let mut ticks = 0;
        loop {
            sleep_ms(250).await;
            let Some(now) = phase.try_get_untracked() else {
                return; // disposed
            };
            ticks += 1;
            let following = now.run().cloned();
            let new_run = following.is_some() && following != last;
            if !new_run && ticks < 4 {
                continue;
            }
            ticks = 0;
            last = following.clone();
            let Some(run) = following else {
                if !now.is_busy() && unfinished() {
                    reload();
                }
                continue;
            };
            // `Some(next phase)` once the run is over for this view.
            let over = match get_run_state(run.thread.clone(), run.run.clone()).await {
                Ok(state) => state.is_terminal().then_some(Phase::Idle),
                Err(e) if e.is_not_found() => Some(Phase::Idle),
                Err(e) => {
                    failures += 1;
                    (failures >= FAILURES_BEFORE_GIVING_UP)
                        .then(|| Phase::Failed(e.message().to_string()))
                }
            };
            if let Some(next) = over
                && phase.try_get_untracked().as_ref().and_then(Phase::run) == Some(&run)
            {
                failures = 0;
                let _ = phase.try_set(next);
                reload();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sending_and_following_are_busy() {
        let run = RunRef {
            thread: "thread_a".into(),
            run: "run_b".into(),
        };
        assert!(!Phase::Idle.is_busy());
        assert!(Phase::Sending.is_busy());
        assert!(Phase::Following(run.clone()).is_busy());
        assert!(!Phase::Failed("x".into()).is_busy());
        assert_eq!(Phase::Following(run.clone()).run(), Some(&run));
        assert_eq!(Phase::Failed("x".into()).failure(), Some("x"));
        assert_eq!(Phase::Idle.failure(), None);
    }
}
