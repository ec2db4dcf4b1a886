//! A client of the runs' event streams (`text/event-stream`), as a test reads them.
use std::time::Duration;

/// One server-sent event as a client reads it.
#[derive(Debug, Clone)]
pub struct Sse {
    pub id: String,
    pub event: String,
    pub data: String,
}

/// Reads server-sent events from `response` into `tx` as they arrive.
pub fn read_events(response: reqwest::Response) -> tokio::sync::mpsc::UnboundedReceiver<Sse> {
    use futures_util::StreamExt;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut body = response.bytes_stream();
        let mut buffer = String::new();
        while let Some(Ok(bytes)) = body.next().await {
            buffer.push_str(&String::from_utf8_lossy(&bytes));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                let mut event = Sse {
                    id: String::new(),
                    event: String::new(),
                    data: String::new(),
                };
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        event.id = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event.event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        event.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if !event.event.is_empty() && tx.send(event).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// Opens run `rid`'s event stream on the server at `base`, after `last` when given.
pub async fn open_at(
    client: &reqwest::Client,
    base: &str,
    tid: &str,
    rid: &str,
    last: Option<&str>,
) -> reqwest::Response {
    let mut request = client
        .get(format!(
            "{base}/api/paste-assistant-thread/{tid}/run/{rid}/events"
        ))
        .header("accept-encoding", "gzip, br");
    if let Some(id) = last {
        request = request.header("last-event-id", id);
    }
    request.send().await.unwrap()
}

/// Every event up to `done` (at most 20 s).
pub async fn all_events(mut rx: tokio::sync::mpsc::UnboundedReceiver<Sse>) -> Vec<Sse> {
    let mut events = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_secs(20), rx.recv()).await {
        let done = e.event == "done";
        events.push(e);
        if done {
            break;
        }
    }
    events
}

pub fn cursor(id: &str) -> (i64, usize) {
    let (seq, offset) = id.split_once('-').unwrap();
    (seq.parse().unwrap(), offset.parse().unwrap())
}

/// The text of the `thread.message.delta` events in `events`.
pub fn delta_text(events: &[Sse]) -> String {
    events
        .iter()
        .filter(|e| e.event == "thread.message.delta")
        .map(|e| {
            let v: serde_json::Value = serde_json::from_str(&e.data).unwrap();
            v["delta"]["content"][0]["text"]["value"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}
