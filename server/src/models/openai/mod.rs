//! An OpenAI-compatible chat completions client (OpenAI, Ollama, vLLM, llama.cpp, LM Studio).
//!
//! Hand-written with `reqwest` and `serde_json::Value` rather than a typed client crate: the
//! self-hosted servers differ from OpenAI in exactly the places typed crates are strict (tool
//! call ids missing or numeric, `arguments` as an object, `content` absent or `""`, errors as a
//! string, error bodies on HTTP 200), so the response is read field by field with the
//! tolerant-client rules of `shared/reference/openai-compatible-shapes.md`.
#[cfg(test)]
mod tests;
mod wire;

use std::time::Duration;

use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::{Client, StatusCode};

use crate::config::{Http2, Secret};
use crate::models::{
    ChatMessage, ChatModel, Completion, ModelError, ModelFuture, Reply, TextSink, ToolSpec,
};
use wire::{
    MAX_BODY_BYTES, parse_completion, read_capped, refuses_tools, request_body, snippet,
    status_error, transport_error,
};

/// What one call asks for.
struct Ask<'a> {
    messages: &'a [ChatMessage],
    tools: &'a [ToolSpec],
    max_tokens: Option<u32>,
    sink: Option<TextSink<'a>>,
}

pub struct OpenAiModel {
    client: Client,
    endpoint: String,
    model: String,
    api_key: Option<Secret>,
    /// Longest silence between two pieces of a streamed answer.
    idle_timeout: Duration,
    /// `max_tokens` of answer requests (`MAX_ANSWER_TOKENS`).
    answer_tokens: Option<u32>,
    /// What this server has shown it cannot do, remembered for the life of the process so
    /// that later calls do not fail the same way first.
    quirks: Quirks,
}

/// What a server has shown it does not do. Each flag is cleared at most once, with one warning
/// in the log; later calls go the way that works, quietly.
struct Quirks {
    /// It streams at all (cleared when it refuses `stream` with a 400 or answers plain JSON).
    streams: AtomicBool,
    /// It streams requests that offer tools. Cleared when such a stream ends before any text
    /// or tool call: llama-cpp-python's `chatml-function-calling` answers 200 and breaks off
    /// ("Automatic streaming tool choice is not supported"), while the same request without
    /// `stream` works.
    streams_with_tools: AtomicBool,
    /// It takes `tools` at all. Cleared when it refuses them with a 4xx that says so (Ollama:
    /// "… does not support tools"; vLLM without `--enable-auto-tool-choice`; llama.cpp without
    /// `--jinja`). Runs stay grounded: the engine searches the docs before the first call.
    tools: AtomicBool,
}

impl Quirks {
    fn new() -> Self {
        Self {
            streams: AtomicBool::new(true),
            streams_with_tools: AtomicBool::new(true),
            tools: AtomicBool::new(true),
        }
    }
}

/// Clears `flag`; true the first time (the caller then logs why, once).
fn clear(flag: &AtomicBool) -> bool {
    flag.swap(false, Ordering::Relaxed)
}

impl OpenAiModel {
    /// `base_url` is the API root (`https://api.openai.com/v1`, `http://localhost:11434/v1`).
    pub fn new(
        base_url: &str,
        model: &str,
        api_key: Option<Secret>,
        timeout: Duration,
        idle_timeout: Duration,
        http2: Http2,
        answer_tokens: Option<u32>,
    ) -> anyhow::Result<Self> {
        let builder = Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)));
        // Over HTTP/2 every call in flight is a stream of one connection: 10,000 runs waiting
        // on the model held 294 MiB against 480 MiB with a connection each (docs/benchmarks.md "Load and
        // scale"). The server's stream limit (SETTINGS_MAX_CONCURRENT_STREAMS) queues calls
        // beyond it on that connection.
        let builder = match http2 {
            Http2::Auto => builder,
            Http2::Off => builder.http1_only(),
            Http2::Always => builder.http2_prior_knowledge(),
        };
        let client = builder.build()?;
        Ok(Self {
            client,
            endpoint: format!("{}/chat/completions", base_url.trim_end_matches('/')),
            model: model.to_string(),
            api_key,
            idle_timeout,
            answer_tokens,
            quirks: Quirks::new(),
        })
    }

    /// Whether a request offering `tools` (or none) may be streamed to this server.
    fn may_stream(&self, tools: &[ToolSpec]) -> bool {
        self.quirks.streams.load(Ordering::Relaxed)
            && (tools.is_empty() || self.quirks.streams_with_tools.load(Ordering::Relaxed))
    }

    fn stop_streaming(&self, why: &str) {
        if clear(&self.quirks.streams) {
            tracing::info!(model = %self.model, why, "the model API does not stream; asking without `stream` from now on");
        }
    }

    /// Whether this server takes `tools`.
    pub fn takes_tools(&self) -> bool {
        self.quirks.tools.load(Ordering::Relaxed)
    }

    /// One request; an error never repeats the API key, even when the server echoes it.
    async fn call(&self, ask: Ask<'_>) -> Result<Completion, ModelError> {
        self.request(ask.messages, ask.tools, ask.max_tokens, ask.sink)
            .await
            .map_err(|e| match &self.api_key {
                Some(key) if !key.expose().is_empty() => {
                    let scrub = |m: String| m.replace(key.expose(), "[redacted]");
                    match e {
                        ModelError::Fatal(m) => ModelError::Fatal(scrub(m)),
                        ModelError::Retryable {
                            message,
                            retry_after,
                        } => ModelError::Retryable {
                            message: scrub(message),
                            retry_after,
                        },
                    }
                }
                _ => e,
            })
    }

    /// With a `sink` the answer is asked for as a stream (unless this server does not stream)
    /// and written to it as it arrives; without one, or from a server that answers plain JSON,
    /// it comes whole. A server that has refused `tools` gets requests without them, and a
    /// stream that breaks before it wrote anything is asked for again without `stream`.
    async fn request(
        &self,
        messages: &[ChatMessage],
        tools: &[ToolSpec],
        max_tokens: Option<u32>,
        sink: Option<TextSink<'_>>,
    ) -> Result<Completion, ModelError> {
        // Once per call at most: a stream that broke early is asked for again whole.
        let mut plain = false;
        let mut resent = false;
        loop {
            let tools = if self.takes_tools() { tools } else { &[] };
            let streaming = sink.is_some() && !plain && self.may_stream(tools);
            // Built per attempt and kept only as bytes: the tree of JSON values (a copy of the
            // whole conversation) would otherwise live as long as the model takes to answer —
            // per run waiting, with thousands waiting (docs/benchmarks.md "Load and scale").
            let body = request_body(&self.model, messages, tools, max_tokens, streaming);
            // A body reqwest cannot replay: with bytes it keeps a copy to resend on a redirect
            // until the response's headers come, which a model may hold back until it has
            // written (120 s in the load test), per run waiting. An exact-sized body still
            // goes with its Content-Length. The model API does not redirect a POST.
            let body = reqwest::Body::wrap(http_body_util::Full::new(bytes::Bytes::from(body)));
            let mut request = self
                .client
                .post(&self.endpoint)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
            if let Some(key) = &self.api_key {
                request = request.bearer_auth(key.expose());
            }
            let response = match request.send().await {
                Ok(response) => response,
                // The server that broke the stream off may close its connection while the pool
                // still offers it (llama-cpp-python does): asked again at once, on a new one.
                Err(e) if plain && !resent && !e.is_timeout() => {
                    resent = true;
                    continue;
                }
                Err(e) => return Err(transport_error(&e)),
            };
            let status = response.status();
            let retry_after = crate::outbound::retry_after(response.headers());
            let event_stream = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with("text/event-stream"));
            if status.is_success() && event_stream {
                match self.read_stream(response, sink.unwrap_or(&|_| {})).await? {
                    Streamed::Whole(completion) => return Ok(completion),
                    Streamed::BrokeEarly(why) => {
                        if !tools.is_empty() && clear(&self.quirks.streams_with_tools) {
                            tracing::warn!(model = %self.model, why, "the model API broke off a streamed request with tools before it wrote anything; asking without `stream` when tools are offered from now on");
                        }
                        if plain {
                            return Err(ModelError::Fatal(format!(
                                "The model API's stream ended before the answer did: {why}"
                            )));
                        }
                        plain = true;
                        continue;
                    }
                }
            }
            let text = read_capped(response).await?;
            if !status.is_success() {
                if streaming && status == StatusCode::BAD_REQUEST && text.contains("stream") {
                    self.stop_streaming("it refused `stream` (400)");
                    continue;
                }
                if !tools.is_empty() && refuses_tools(status, &text) {
                    if clear(&self.quirks.tools) {
                        tracing::warn!(model = %self.model, status = status.as_u16(), answer = %snippet(&text), "the model API refuses tools; asking without them from now on (the docs are still searched before every answer)");
                    }
                    continue;
                }
                return Err(status_error(status, &text, retry_after));
            }
            if streaming {
                self.stop_streaming("it answered a streamed request with plain JSON");
            }
            let completion = parse_completion(&text)?;
            if let (Some(sink), Reply::Answer(text)) = (sink, &completion.reply) {
                sink(text);
            }
            return Ok(completion);
        }
    }

    /// Reads a streamed answer, writing its text to `sink` as it arrives. Silence longer than
    /// the idle timeout, a broken line, a reset or a stream that ends early fail the call; once
    /// text was written the failure is final, so no retry writes the answer twice. A stream
    /// that ends, or reports an error, before any text or tool call is [`Streamed::BrokeEarly`]:
    /// the caller asks again without `stream`.
    async fn read_stream(
        &self,
        mut response: reqwest::Response,
        sink: TextSink<'_>,
    ) -> Result<Streamed, ModelError> {
        let mut assembler = super::stream::Assembler::default();
        let mut read = 0;
        let failed = |assembler: &super::stream::Assembler, e: ModelError| {
            if assembler.wrote() {
                ModelError::Fatal(format!("The model API stopped mid-answer: {}", e.message()))
            } else {
                e
            }
        };
        loop {
            let next = tokio::time::timeout(self.idle_timeout, response.chunk()).await;
            let bytes = match next {
                Err(_) => {
                    let e = ModelError::Retryable {
                        message: format!(
                            "The model API sent nothing for {} s (check OPENAI_BASE_URL).",
                            self.idle_timeout.as_secs()
                        ),
                        retry_after: None,
                    };
                    return Err(failed(&assembler, e));
                }
                Ok(Err(e)) => return Err(failed(&assembler, transport_error(&e))),
                Ok(Ok(None)) => break,
                Ok(Ok(Some(bytes))) => bytes,
            };
            read += bytes.len();
            if read > MAX_BODY_BYTES {
                return Err(ModelError::Fatal(format!(
                    "The model API's answer is larger than {} MiB; check OPENAI_BASE_URL.",
                    MAX_BODY_BYTES / (1024 * 1024)
                )));
            }
            let fed = match assembler.feed(&bytes) {
                Ok(fed) => fed,
                Err(e) if !assembler.started() => {
                    return Ok(Streamed::BrokeEarly(e.message().to_string()));
                }
                Err(e) => return Err(e),
            };
            if !fed.text.is_empty() {
                sink(&fed.text);
            }
            if fed.done {
                break;
            }
        }
        if !assembler.started() && !assembler.ended() {
            return Ok(Streamed::BrokeEarly(if read == 0 {
                "the stream ended without a chunk".into()
            } else {
                "the stream ended without a finish_reason or [DONE]".into()
            }));
        }
        assembler.finish().map(Streamed::Whole)
    }
}

/// How a streamed answer ended.
enum Streamed {
    Whole(Completion),
    /// Before any text or tool call, with why.
    BrokeEarly(String),
}

impl ChatModel for OpenAiModel {
    fn name(&self) -> &str {
        &self.model
    }

    fn stream<'a>(
        &'a self,
        messages: &'a [ChatMessage],
        tools: &'a [ToolSpec],
        sink: TextSink<'a>,
    ) -> ModelFuture<'a> {
        Box::pin(self.call(Ask {
            messages,
            tools,
            max_tokens: self.answer_tokens,
            sink: Some(sink),
        }))
    }

    fn complete<'a>(
        &'a self,
        messages: &'a [ChatMessage],
        tools: &'a [ToolSpec],
    ) -> ModelFuture<'a> {
        Box::pin(self.call(Ask {
            messages,
            tools,
            max_tokens: self.answer_tokens,
            sink: None,
        }))
    }

    fn complete_short<'a>(
        &'a self,
        messages: &'a [ChatMessage],
        max_tokens: u32,
    ) -> ModelFuture<'a> {
        Box::pin(self.call(Ask {
            messages,
            tools: &[],
            max_tokens: Some(max_tokens),
            sink: None,
        }))
    }
}
