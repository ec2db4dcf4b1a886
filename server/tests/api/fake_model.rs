//! A local OpenAI-compatible chat completions server whose answers a test scripts: replies,
//! error statuses, delays, malformed bodies and slowly dripped bytes. It records every request.
use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Step {
    /// Searches the docs for the user's question, then answers from the tool output.
    Auto,
    Json {
        status: u16,
        body: Value,
        headers: Vec<(&'static str, String)>,
    },
    Raw {
        status: u16,
        body: String,
    },
    Delay(Duration, Box<Step>),
    /// Waits until the test releases it, then answers with the inner step.
    Held(Arc<tokio::sync::Notify>, Box<Step>),
    /// A 200 whose body arrives a few bytes at a time.
    Drip {
        interval: Duration,
    },
    /// A streamed answer (`text/event-stream`), part by part.
    Stream(Vec<Part>),
}

/// One part of a streamed answer.
#[derive(Clone, Debug)]
pub enum Part {
    /// `data: <text>` and a blank line.
    Data(String),
    /// Waits until the test releases it.
    Wait(Arc<tokio::sync::Notify>),
    /// Waits this long.
    Pause(Duration),
}

/// A chunk of streamed answer text.
pub fn text_chunk(text: &str) -> Part {
    Part::Data(
        json!({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
            .to_string(),
    )
}

/// The end of a streamed answer: the finish reason, usage in a chunk of its own, `[DONE]`.
pub fn stream_end() -> Vec<Part> {
    vec![
        Part::Data(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}).to_string()),
        Part::Data(json!({"choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}).to_string()),
        Part::Data("[DONE]".into()),
    ]
}

/// A streamed answer that writes `before`, waits until the returned signal is given
/// (`notify_one`), then writes `after` and ends.
pub fn held_stream(before: &[&str], after: &[&str]) -> (Step, Arc<tokio::sync::Notify>) {
    let release = Arc::new(tokio::sync::Notify::new());
    let mut parts: Vec<Part> = before.iter().map(|p| text_chunk(p)).collect();
    parts.push(Part::Wait(release.clone()));
    parts.extend(after.iter().map(|p| text_chunk(p)));
    parts.extend(stream_end());
    (Step::Stream(parts), release)
}

/// A whole streamed answer written in `pieces`.
pub fn streamed(pieces: &[&str]) -> Step {
    let mut parts: Vec<Part> = pieces.iter().map(|p| text_chunk(p)).collect();
    parts.extend(stream_end());
    Step::Stream(parts)
}

pub fn answer(text: &str) -> Step {
    Step::Json {
        status: 200,
        body: completion(json!({"role": "assistant", "content": text}), "stop"),
        headers: vec![],
    }
}

/// Tool calls in OpenAI's shape: (id, name, arguments).
pub fn tool_calls(calls: &[(&str, &str, &str)]) -> Step {
    let calls: Vec<Value> = calls
        .iter()
        .map(|(id, name, args)| json!({"id": id, "type": "function", "function": {"name": name, "arguments": args}}))
        .collect();
    Step::Json {
        status: 200,
        body: completion(
            json!({"role": "assistant", "content": null, "tool_calls": calls}),
            "tool_calls",
        ),
        headers: vec![],
    }
}

pub fn status(status: u16, body: Value) -> Step {
    Step::Json {
        status,
        body,
        headers: vec![],
    }
}

fn completion(message: Value, finish: &str) -> Value {
    json!({
        "id": "chatcmpl-fake", "object": "chat.completion", "created": 1_760_000_000, "model": "fake-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    })
}

#[derive(Default)]
struct Shared {
    script: crate::helpers::Script<Step>,
    requests: Mutex<Vec<Recorded>>,
    /// Signalled on every request, for tests that wait for one.
    arrived: tokio::sync::Notify,
}

#[derive(Clone, Debug)]
pub struct Recorded {
    pub at: Instant,
    pub body: Value,
    pub authorization: Option<String>,
    /// The HTTP version the request came in (the server's `OPENAI_HTTP2`).
    pub version: axum::http::Version,
    /// Its `Content-Length` (self-hosted servers want one rather than a chunked body).
    pub content_length: Option<u64>,
}

#[derive(Clone)]
pub struct FakeModel {
    /// The API root to use as `OPENAI_BASE_URL`.
    pub base_url: String,
    shared: Arc<Shared>,
}

impl FakeModel {
    /// A server that answers every request with `Step::Auto` unless scripted otherwise.
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/v1/chat/completions", post(handle))
            .with_state(shared.clone());
        let base_url = crate::helpers::serve_local(app).await + "/v1";
        Self { base_url, shared }
    }

    /// Answers the next requests with these steps, in order.
    pub fn script(&self, steps: impl IntoIterator<Item = Step>) {
        self.shared.script.extend(steps);
    }

    /// Holds the next request until the returned signal is given (`notify_one`), then
    /// answers it as `Step::Auto` would.
    pub fn hold_next(&self) -> Arc<tokio::sync::Notify> {
        let release = Arc::new(tokio::sync::Notify::new());
        self.script([Step::Held(release.clone(), Box::new(Step::Auto))]);
        release
    }

    /// What to answer once the script is used up (default `Step::Auto`).
    pub fn set_fallback(&self, step: Step) {
        self.shared.script.set_fallback(step);
    }

    /// Waits until at least `n` requests have arrived (at most 20 s, else the test fails).
    pub async fn wait_for_requests(&self, n: usize) {
        let arrived = async {
            loop {
                // Registered before the count is read, so a request in between is not missed.
                let next = self.shared.arrived.notified();
                if self.requests().len() >= n {
                    return;
                }
                next.await;
            }
        };
        if tokio::time::timeout(Duration::from_secs(20), arrived)
            .await
            .is_err()
        {
            panic!(
                "the fake model got {} of {n} requests",
                self.requests().len()
            );
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    version: axum::http::Version,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    shared.requests.lock().unwrap().push(Recorded {
        at: Instant::now(),
        body: body.clone(),
        authorization,
        version,
        content_length: headers
            .get("content-length")
            .and_then(|v| v.to_str().ok()?.parse().ok()),
    });
    shared.arrived.notify_waiters();
    let step = shared.script.next_or(Step::Auto);
    respond(step, &body).await
}

fn respond(
    step: Step,
    request: &Value,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send + '_>> {
    Box::pin(async move {
        match step {
            Step::Auto => respond(auto(request), request).await,
            Step::Json {
                status,
                body,
                headers,
            } => {
                let mut r = (StatusCode::from_u16(status).unwrap(), Json(body)).into_response();
                for (k, v) in headers {
                    r.headers_mut().insert(k, v.parse().unwrap());
                }
                r
            }
            Step::Raw { status, body } => {
                (StatusCode::from_u16(status).unwrap(), body).into_response()
            }
            Step::Delay(d, next) => {
                tokio::time::sleep(d).await;
                respond(*next, request).await
            }
            Step::Held(release, next) => {
                release.notified().await;
                respond(*next, request).await
            }
            Step::Stream(parts) => {
                let body = futures_util::stream::iter(parts).then(|part| async move {
                    match part {
                        Part::Data(data) => Ok::<_, std::io::Error>(format!("data: {data}\n\n")),
                        Part::Wait(release) => {
                            release.notified().await;
                            Ok(String::new())
                        }
                        Part::Pause(d) => {
                            tokio::time::sleep(d).await;
                            Ok(String::new())
                        }
                    }
                });
                Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(Body::from_stream(body))
                    .unwrap()
            }
            Step::Drip { interval } => {
                let text =
                    completion(json!({"role": "assistant", "content": "slow"}), "stop").to_string();
                let chunks: Vec<Result<String, std::io::Error>> = text
                    .as_bytes()
                    .chunks(4)
                    .map(|c| Ok(String::from_utf8_lossy(c).to_string()))
                    .collect();
                let stream = futures_util::stream::iter(chunks).then(move |c| async move {
                    tokio::time::sleep(interval).await;
                    c
                });
                Response::builder()
                    .header("content-type", "application/json")
                    .body(Body::from_stream(stream))
                    .unwrap()
            }
        }
    })
}

use futures_util::StreamExt;

/// A model that answers from the search results the run put in its instructions (or, given
/// none, searches first and then answers from what the tool returned).
fn auto(request: &Value) -> Step {
    let messages = request["messages"].as_array().cloned().unwrap_or_default();
    let last = messages.last().cloned().unwrap_or_default();
    let has_tools = request.get("tools").is_some();
    let searched = results_in_instructions(&messages);
    if !has_tools && searched.is_none() {
        return answer("Fake title");
    }
    let output = if last["role"] == "tool" {
        serde_json::from_str(last["content"].as_str().unwrap_or("{}")).ok()
    } else {
        searched
    };
    if let Some(output) = output {
        let url = output["results"][0]["url"]
            .as_str()
            .unwrap_or("/docs/none")
            .to_string();
        return answer(&format!("From the docs: see [the page]({url})."));
    }
    let question = last["content"].as_str().unwrap_or("").to_string();
    let n = messages.len();
    tool_calls(&[(
        &format!("call_auto{n}"),
        "get_relevant_docs",
        &json!({"query": question}).to_string(),
    )])
}

/// The docs search output the run put in its instructions (the line after the results'
/// header), if any.
pub fn results_in_instructions(messages: &[Value]) -> Option<Value> {
    let system = messages.first()?["content"].as_str()?;
    let (output, _) = server::models::prompt::results_in_text(system)?;
    serde_json::from_str(output).ok()
}

/// A server that accepts connections and closes them at once (a connection reset).
pub async fn resetting_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    url
}
