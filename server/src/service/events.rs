//! A run's event stream, as Assistants v2 streaming names its events: the life-cycle events
//! the engine recorded (`run_events`), with `thread.message.delta` events made from the
//! answer's text between `thread.message.created` and `thread.message.completed`, then `done`.
//!
//! Every event's id is a [`Cursor`]: how many recorded events and how many bytes of the answer
//! being written (the one its last `thread.message.created` began) the reader has by then. Both only grow, so ids increase, and a reader that reconnects with
//! `Last-Event-ID` gets exactly what follows, from any instance: the events from the database,
//! the text from the executing instance's memory when it is this one, else from the message as
//! saved (at most 250 ms behind).
use std::collections::VecDeque;
use std::time::Duration;

use futures_util::Stream;
use serde_json::{Value, json};

use super::{Assistant, ServiceError, ServiceResult};
use crate::ids::{RunId, ThreadId};

/// How often a stream looks at the database when nothing told it of a change (a run executed
/// by another instance).
const POLL: Duration = Duration::from_millis(200);
/// A stream ends this long after its run's time limit, whatever happens.
const GRACE: Duration = Duration::from_secs(30);

/// Where a reader of a run's events is: the last recorded event it has and how many bytes of
/// the answer's text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    pub seq: i64,
    pub offset: usize,
}

impl Cursor {
    /// `Last-Event-ID` as this stream writes ids (`<seq>-<offset>`).
    pub fn parse(id: &str) -> ServiceResult<Self> {
        let bad = || {
            ServiceError::BadRequest(format!(
                "`Last-Event-ID` {:?} is not an id of this stream",
                id.chars().take(40).collect::<String>()
            ))
        };
        let (seq, offset) = id.trim().split_once('-').ok_or_else(bad)?;
        Ok(Self {
            seq: seq.parse().map_err(|_| bad())?,
            offset: offset.parse().map_err(|_| bad())?,
        })
    }

    pub fn id(&self) -> String {
        format!("{}-{}", self.seq, self.offset)
    }
}

/// One server-sent event.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedEvent {
    pub id: String,
    pub event: String,
    pub data: String,
}

struct Feed {
    assistant: Assistant,
    run_id: String,
    cursor: Cursor,
    /// The answer's id while it is being written (between created and completed).
    message: Option<String>,
    queue: VecDeque<FeedEvent>,
    /// The reader already has the run's terminal event (or the run has no event log).
    ended: bool,
    finished: bool,
    changes: tokio::sync::watch::Receiver<u64>,
    deadline: tokio::time::Instant,
    /// For this app's own pages: the answer so far as safe HTML (`thread.message.html`)
    /// instead of text deltas, so the browser carries no Markdown parser.
    html: bool,
    /// When the last HTML event went out (they are at most every [`HTML_EVERY`]).
    last_html: Option<tokio::time::Instant>,
    /// Text held back by that limit, to go out when it allows.
    held: bool,
    /// Each piece of the answer while this instance writes it.
    live: Option<tokio::sync::watch::Receiver<u64>>,
    /// Whether the next gathering reads the database: not when only a piece of the answer
    /// (or held-back text) woke the stream, as that comes from memory. Every piece of every
    /// answer made each of 1,000 streams read the run's events before: thousands of queries
    /// a second with nothing new (issue 15's load test).
    look: bool,
}

/// Shortest time between two HTML renderings of the answer so far: a browser repaints at most
/// every ~16 ms, and each rendering is the whole answer so far.
const HTML_EVERY: Duration = Duration::from_millis(30);

const TERMINAL: [&str; 5] = [
    "thread.run.completed",
    "thread.run.failed",
    "thread.run.cancelled",
    "thread.run.expired",
    "thread.run.incomplete",
];

impl Assistant {
    /// The caller's run's events after `from` (everything when `None`), as they happen; the
    /// stream ends with `done` once the run has ended (at once for a run that had).
    pub async fn run_events(
        &self,
        session: &str,
        thread_id: &ThreadId,
        run_id: &RunId,
        from: Option<Cursor>,
        html: bool,
    ) -> ServiceResult<impl Stream<Item = FeedEvent> + Send + 'static> {
        let run = self.run(session, thread_id, run_id).await?;
        let cursor = from.unwrap_or_default();
        // Whether the reader was inside the answer: its `thread.message.created` is behind it.
        let mut message = None;
        let recorded = self.store.events_after(&run.id, 0).await?;
        // A run of before the event log (or one whose events were lost) has none: it is told
        // as ended once it has.
        let mut ended = recorded.is_empty();
        for (seq, event, data) in recorded {
            if seq > cursor.seq {
                break;
            }
            match event.as_str() {
                "thread.message.created" => message = message_id(&data),
                "thread.message.completed" | "thread.message.incomplete" => message = None,
                terminal if TERMINAL.contains(&terminal) => ended = true,
                _ => {}
            }
        }
        let left = Duration::from_secs((run.expires_at - crate::ids::now_secs()).max(0) as u64);
        let changes = self.engine.changes(&run.id);
        let feed = Feed {
            assistant: self.clone(),
            run_id: run.id,
            cursor,
            message,
            queue: VecDeque::new(),
            ended,
            finished: false,
            changes,
            deadline: tokio::time::Instant::now() + left + GRACE,
            html,
            last_html: None,
            held: false,
            live: None,
            look: true,
        };
        Ok(futures_util::stream::unfold(feed, |mut feed| async move {
            feed.next().await.map(|event| (event, feed))
        }))
    }
}

fn message_id(data: &str) -> Option<String> {
    serde_json::from_str::<Value>(data)
        .ok()?
        .get("id")?
        .as_str()
        .map(str::to_string)
}

impl Feed {
    async fn next(&mut self) -> Option<FeedEvent> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Some(event);
            }
            if self.finished {
                return None;
            }
            if let Err(e) = self.gather().await {
                tracing::warn!(run_id = %self.run_id, error = %e, "a run's event stream could not read the database");
            }
            if !self.queue.is_empty() || self.finished {
                continue;
            }
            self.wait().await;
        }
    }

    fn push(&mut self, event: &str, data: String) {
        self.queue.push_back(FeedEvent {
            id: self.cursor.id(),
            event: event.to_string(),
            data,
        });
    }

    /// A delta of the answer's text beyond what the reader has (`last`: the whole answer is in).
    fn delta_to(&mut self, text: &str, last: bool) {
        let Some(id) = self.message.clone() else {
            return;
        };
        let from = self.cursor.offset;
        if text.len() <= from || !text.is_char_boundary(from) {
            return;
        }
        if self.html {
            let now = tokio::time::Instant::now();
            if !last && self.last_html.is_some_and(|t| now - t < HTML_EVERY) {
                self.held = true;
                return;
            }
            self.held = false;
            self.last_html = Some(now);
            self.cursor.offset = text.len();
            let data = json!({
                "id": id, "object": "thread.message.html",
                "html": crate::markdown::render(text),
            });
            self.push("thread.message.html", data.to_string());
            return;
        }
        self.cursor.offset = text.len();
        let data = json!({
            "id": id, "object": "thread.message.delta",
            "delta": {"content": [{"index": 0, "type": "text", "text": {"value": &text[from..], "annotations": []}}]}
        });
        self.push("thread.message.delta", data.to_string());
    }

    async fn gather(&mut self) -> ServiceResult<()> {
        let store = self.assistant.store.clone();
        // Woken by a piece only: the text comes from memory (`look` is set again for next time).
        if !std::mem::replace(&mut self.look, true)
            && self.message.is_some()
            && let Some(text) = self.assistant.engine.live_text(&self.run_id)
        {
            self.delta_to(&text, false);
            return Ok(());
        }
        let events = store.events_after(&self.run_id, self.cursor.seq).await?;
        let none_new = events.is_empty();
        for (seq, event, data) in events {
            if event == "thread.message.completed" || event == "thread.message.incomplete" {
                // The rest of the text first: the ended message has it all.
                let text = serde_json::from_str::<Value>(&data).ok().and_then(|m| {
                    m["content"][0]["text"]["value"]
                        .as_str()
                        .map(str::to_string)
                });
                if let Some(text) = text {
                    self.delta_to(&text, true);
                }
                self.message = None;
            }
            self.cursor.seq = seq;
            if event == "thread.message.created" {
                // Offsets are into this message's text (a resumed run writes a new one).
                self.message = message_id(&data);
                self.cursor.offset = 0;
            }
            self.push(&event, data);
            if TERMINAL.contains(&event.as_str()) {
                self.done();
                return Ok(());
            }
        }
        if self.message.is_some() {
            if self.live.is_none() {
                self.live = self.assistant.engine.live_watch(&self.run_id);
            }
            let text = match self.assistant.engine.live_text(&self.run_id) {
                Some(text) => Some(text),
                None => store.answer_of_run(&self.run_id).await?.map(|m| m.content),
            };
            if let Some(text) = text {
                self.delta_to(&text, false);
            }
        } else if none_new {
            // One look at the run: resumed after its end (nothing more will come), or deleted
            // meanwhile. A run whose end is stored but whose last events are still being
            // written is waited for.
            let over = match store.run_by_id(&self.run_id).await? {
                None => true,
                Some(run) => self.ended && run.status.is_terminal(),
            };
            if over {
                self.done();
            }
        }
        Ok(())
    }

    fn done(&mut self) {
        // Past the last event, so its id is new and greater too.
        self.cursor.seq += 1;
        self.push("done", "[DONE]".into());
        self.finished = true;
    }

    /// Until this instance says the run changed (a new piece of the answer it writes, a save,
    /// an event), held-back text may go, or a poll's time passed.
    async fn wait(&mut self) {
        // While this instance writes the answer, every change wakes `mine` or `piece`: the
        // database is looked at seldom (1,000 streams each looking every 200 ms were 5,000
        // queries a second: issue 15's load test).
        let poll = if self.live.is_some() { POLL * 10 } else { POLL };
        let mine = async {
            if self.changes.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        let piece = async {
            match self.live.as_mut() {
                Some(live) => live.changed().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        let held_until = self.last_html.filter(|_| self.held).map(|t| t + HTML_EVERY);
        let held = async {
            match held_until {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = mine => {}
            open = piece => {
                // Closed: the run ended here; the event log tells the rest.
                if open {
                    self.look = false;
                } else {
                    self.live = None;
                }
            }
            _ = held => self.look = false,
            _ = tokio::time::sleep(poll) => {}
            _ = tokio::time::sleep_until(self.deadline) => {
                self.done();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_the_ids_they_write() {
        let c = Cursor {
            seq: 7,
            offset: 123,
        };
        assert_eq!(Cursor::parse(&c.id()).unwrap(), c);
        for bad in ["", "7", "a-1", "7-", "-1-2", "1-x"] {
            assert!(Cursor::parse(bad).is_err(), "{bad}");
        }
    }
}
