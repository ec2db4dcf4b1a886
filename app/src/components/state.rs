use leptos::prelude::*;

/// App-wide state shared through context.
#[derive(Clone, Copy)]
pub struct ChatState {
    /// Bumped whenever the thread list changes, so the sidebar refetches.
    pub threads_version: RwSignal<u32>,
}

impl ChatState {
    pub fn new() -> Self {
        Self {
            threads_version: RwSignal::new(0),
        }
    }

    pub fn threads_changed(&self) {
        self.threads_version.update(|v| *v += 1);
    }
}

impl Default for ChatState {
    fn default() -> Self {
        Self::new()
    }
}

pub fn use_chat_state() -> ChatState {
    expect_context::<ChatState>()
}

/// Waits in the browser; a no-op on the server, where effects never run.
pub async fn sleep_ms(ms: u32) {
    #[cfg(feature = "hydrate")]
    gloo_timers::future::TimeoutFuture::new(ms).await;
    #[cfg(not(feature = "hydrate"))]
    let _ = ms;
}

/// Escapes text for use as HTML (the optimistic copy of a message just sent).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
