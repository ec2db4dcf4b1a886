//! Slack notices (API.md): a new thread posts "New Paste Assistant thread created: <id>" to the
//! channel and keeps the returned `ts`; each user message is posted as a reply in that Slack
//! thread. Everything happens in background tasks with bounded retries: Slack being down, slow
//! or answering `ok: false` is logged and never delays or fails the person's request.
use std::time::Duration;

use serde_json::{Value, json};

use crate::config::Secret;
use crate::store::Store;

/// Attempts per notice (the first and four retries, waits 0.5 s, 1 s, 2 s, 4 s between).
pub const ATTEMPTS: u32 = 5;
/// 0.5, 1, 2, 4 s between the attempts; a `Retry-After` up to 30 s is honoured.
const BACKOFF: crate::backoff::Backoff = crate::backoff::Backoff {
    base: Duration::from_millis(500),
    jitter: false,
    max_retry_after: Duration::from_secs(30),
};
/// Longest wait for one Slack API call.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Most characters of a person's message posted (Slack's own limit for `text` is far above;
/// a notice is for reading at a glance).
pub const MAX_TEXT_CHARS: usize = 3_000;

/// A person's text as Slack shows it literally: `&`, `<` and `>` escaped (Slack's rule), so
/// `<!channel>` or `<https://evil|Reset password>` arrive as text, not as a mention or a
/// disguised link; cut at [`MAX_TEXT_CHARS`].
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_TEXT_CHARS + 16));
    for (i, c) in text.chars().enumerate() {
        if i == MAX_TEXT_CHARS {
            out.push('…');
            break;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

#[derive(Clone)]
pub struct Slack {
    client: reqwest::Client,
    api_url: String,
    token: Secret,
    channel: String,
    store: Store,
    /// Notices per client address per minute (`SLACK_NOTICES_ADDR_PER_MIN`): past it they are
    /// dropped, so a flood of threads cannot flood the channel.
    per_addr: Option<std::sync::Arc<crate::limiter::Keyed<String>>>,
}

/// Why one attempt failed; every failure is worth another try (network, timeout, 429/5xx,
/// `ok: false`, thread not announced yet), with the wait Slack asked for, if any.
#[derive(Debug)]
struct Failure(String, Option<Duration>);

impl Slack {
    pub fn new(
        api_url: &str,
        token: Secret,
        channel: String,
        store: Store,
        notices_per_addr_per_min: u32,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder().timeout(TIMEOUT).build()?;
        Ok(Self {
            client,
            api_url: api_url.trim_end_matches('/').to_string(),
            token,
            channel,
            store,
            per_addr: crate::limiter::Keyed::per_minute(notices_per_addr_per_min)
                .map(std::sync::Arc::new),
        })
    }

    /// Whether a notice for a request from `addr` may go out now.
    fn allowed(&self, what: &str, addr: Option<&str>) -> bool {
        let (Some(limit), Some(addr)) = (&self.per_addr, addr) else {
            return true;
        };
        let allowed = limit.hit(&addr.to_string()).is_ok();
        if !allowed {
            tracing::info!(
                what,
                addr,
                "Slack notice dropped: too many from this address"
            );
        }
        allowed
    }

    /// Announces a new thread and stores the `ts` Slack gives it (in the background).
    pub fn thread_created(&self, thread_id: &str, addr: Option<&str>) {
        if !self.allowed("thread", addr) {
            return;
        }
        let (slack, thread_id) = (self.clone(), thread_id.to_string());
        tokio::spawn(async move {
            let text = format!("New Paste Assistant thread created: {thread_id}");
            let posted = slack
                .with_retries("thread", &thread_id, || slack.post(&text, None))
                .await;
            if let Some(ts) = posted
                && let Err(e) = slack.store.set_slack_ts(&thread_id, &ts).await
            {
                tracing::warn!(thread_id, error = %e, "could not store the Slack ts of a thread");
            }
        });
    }

    /// Posts a user's message as a reply in its thread's Slack thread (in the background). It
    /// waits, within its retries, for the thread's announcement to have a `ts`.
    pub fn message_posted(&self, thread_id: &str, text: &str, addr: Option<&str>) {
        if !self.allowed("message", addr) {
            return;
        }
        let (slack, thread_id, text) = (self.clone(), thread_id.to_string(), escape(text));
        tokio::spawn(async move {
            slack
                .with_retries("message", &thread_id, || async {
                    let ts = match slack.store.slack_ts(&thread_id).await {
                        Ok(Some(ts)) => ts,
                        Ok(None) => {
                            return Err(Failure(
                                "the thread's announcement has no ts yet".into(),
                                None,
                            ));
                        }
                        Err(e) => return Err(Failure(format!("database: {e}"), None)),
                    };
                    slack.post(&text, Some(&ts)).await
                })
                .await;
        });
    }

    async fn with_retries<F, Fut>(
        &self,
        what: &str,
        thread_id: &str,
        mut attempt: F,
    ) -> Option<String>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<String, Failure>>,
    {
        for n in 1..=ATTEMPTS {
            match attempt().await {
                Ok(ts) => return Some(ts),
                Err(Failure(reason, retry_after)) => {
                    if n == ATTEMPTS {
                        tracing::error!(what, thread_id, %reason, attempts = n, "Slack notice given up");
                        return None;
                    }
                    tracing::warn!(what, thread_id, %reason, attempt = n, "Slack notice failed; retrying");
                    tokio::time::sleep(BACKOFF.delay(n, retry_after)).await;
                }
            }
        }
        None
    }

    /// One `chat.postMessage`; the message's `ts` on success.
    async fn post(&self, text: &str, thread_ts: Option<&str>) -> Result<String, Failure> {
        // No previews: a person's link must not make Slack fetch it and show its page.
        let mut body = json!({
            "channel": self.channel, "text": text, "unfurl_links": false, "unfurl_media": false,
        });
        if let Some(ts) = thread_ts {
            body["thread_ts"] = json!(ts);
        }
        let response = self
            .client
            .post(format!("{}/chat.postMessage", self.api_url))
            .bearer_auth(self.token.expose())
            .json(&body)
            .send()
            .await
            .map_err(|e| Failure(format!("request failed: {}", e.without_url()), None))?;
        let status = response.status();
        let retry_after = crate::outbound::retry_after(response.headers());
        if !status.is_success() {
            return Err(Failure(format!("HTTP {status}"), retry_after));
        }
        // `chat.postMessage` answers a few hundred bytes.
        let body = crate::outbound::read_capped(response, 256 * 1024)
            .await
            .map_err(|e| Failure(format!("unreadable answer: {e}"), None))?;
        let answer: Value = serde_json::from_slice(&body)
            .map_err(|e| Failure(format!("unreadable answer: {e}"), None))?;
        if answer["ok"] != json!(true) {
            let error = answer["error"].as_str().unwrap_or("no error given");
            return Err(Failure(format!("ok: false ({error})"), None));
        }
        answer["ts"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| Failure("the answer has no ts".into(), None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_persons_text_cannot_mention_or_disguise_links() {
        assert_eq!(
            escape("<!channel> see <https://evil|Reset password> & more"),
            "&lt;!channel&gt; see &lt;https://evil|Reset password&gt; &amp; more"
        );
        let long = escape(&"é".repeat(5_000));
        assert_eq!(long.chars().count(), MAX_TEXT_CHARS + 1);
        assert!(long.ends_with('…'));
        assert_eq!(
            escape(&"a".repeat(MAX_TEXT_CHARS)),
            "a".repeat(MAX_TEXT_CHARS)
        );
    }
}
