//! An OpenAI-compatible chat completions client (OpenAI, Ollama, vLLM, llama.cpp, LM Studio).
//!
//! Hand-written with `reqwest` and `serde_json::Value` rather than a typed client crate: the
//! self-hosted servers differ from OpenAI in exactly the places typed crates are strict (tool
//! call ids missing or numeric, `arguments` as an object, `content` absent or `""`, errors as a
//! string, error bodies on HTTP 200), so the response is read field by field with the
//! tolerant-client rules of `shared/reference/openai-compatible-shapes.md`.
use std::time::Duration;

use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::{Client, StatusCode, header::HeaderMap};
use serde_json::{Value, json};

use super::{
    ChatMessage, ChatModel, Completion, ModelError, ModelFuture, Reply, TextSink, ToolCall,
    ToolSpec, Usage,
};
use crate::config::Secret;

/// What one call asks for.
struct Ask<'a> {
    messages: &'a [ChatMessage],
    tools: &'a [ToolSpec],
    max_tokens: Option<u32>,
    sink: Option<TextSink<'a>>,
}

/// Which HTTP the model API is spoken to in (`OPENAI_HTTP2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Http2 {
    /// HTTP/2 where the server offers it in the TLS handshake (ALPN), as OpenAI's API does;
    /// HTTP/1.1 otherwise, and always over plain `http://`.
    Auto,
    /// HTTP/1.1 only: a connection per model call in flight.
    Off,
    /// HTTP/2 always, over `http://` too (h2c with prior knowledge: vLLM behind a proxy that
    /// speaks it, the load generator's fake model). A server without HTTP/2 fails every call.
    Always,
}

impl std::str::FromStr for Http2 {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Http2::Auto),
            "off" => Ok(Http2::Off),
            "always" => Ok(Http2::Always),
            _ => Err("expected auto, off or always"),
        }
    }
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
        // on the model held 294 MiB against 480 MiB with a connection each (README "Load and
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
            // per run waiting, with thousands waiting (README "Load and scale").
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
            let retry_after = retry_after(response.headers());
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

/// Whether a refused request was refused for offering `tools` (and the server says so).
fn refuses_tools(status: StatusCode, text: &str) -> bool {
    if !status.is_client_error() || matches!(status.as_u16(), 401 | 403 | 404 | 408 | 429) {
        return false;
    }
    let text = text.to_ascii_lowercase();
    text.contains("tool")
        && [
            "not support",
            "unsupported",
            "--jinja",
            "enable-auto-tool-choice",
            "not enabled",
            "not allowed",
        ]
        .iter()
        .any(|sign| text.contains(sign))
}

/// A chat completions request, serialized.
fn request_body(
    model: &str,
    messages: &[ChatMessage],
    tools: &[ToolSpec],
    max_tokens: Option<u32>,
    streaming: bool,
) -> Vec<u8> {
    let mut body = json!({ "model": model, "messages": messages.iter().map(wire_message).collect::<Vec<_>>() });
    if !tools.is_empty() {
        body["tools"] = tools.iter().map(ToolSpec::to_openai).collect();
        body["tool_choice"] = json!("auto");
    }
    if let Some(max) = max_tokens {
        // `max_tokens`, not OpenAI's newer `max_completion_tokens`: every compatible server
        // (Ollama, vLLM, llama.cpp, LM Studio) reads this one.
        body["max_tokens"] = json!(max);
    }
    if streaming {
        body["stream"] = json!(true);
        body["stream_options"] = json!({"include_usage": true});
    }
    body.to_string().into_bytes()
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

/// Largest model answer read: a chat completion is a few KB; a server that sends more (a
/// broken proxy, a hostile endpoint) must not fill the memory.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The answer's body as text, refused once it passes [`MAX_BODY_BYTES`].
async fn read_capped(response: reqwest::Response) -> Result<String, ModelError> {
    match super::read_capped(response, MAX_BODY_BYTES).await {
        Ok(body) => Ok(String::from_utf8_lossy(&body).into_owned()),
        Err(super::BodyError::Transport(e)) => Err(transport_error(&e)),
        Err(super::BodyError::TooLarge(_)) => Err(ModelError::Fatal(format!(
            "The model API's answer is larger than {} MiB; check OPENAI_BASE_URL.",
            MAX_BODY_BYTES / (1024 * 1024)
        ))),
    }
}

fn wire_message(m: &ChatMessage) -> Value {
    match m {
        ChatMessage::System(t) => json!({"role": "system", "content": t}),
        ChatMessage::User(t) => json!({"role": "user", "content": t}),
        ChatMessage::Assistant {
            content,
            tool_calls,
        } if tool_calls.is_empty() => {
            json!({"role": "assistant", "content": content.clone().unwrap_or_default()})
        }
        ChatMessage::Assistant {
            content,
            tool_calls,
        } => json!({
            "role": "assistant",
            // A string, never null: llama-cpp-python (0.3.36) refuses an assistant message
            // whose content is null with a 500; OpenAI, Ollama and vLLM take "".
            "content": content.clone().unwrap_or_default(),
            "tool_calls": tool_calls.iter().map(|c| json!({
                "id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}
            })).collect::<Vec<_>>(),
        }),
        ChatMessage::Tool { call_id, content } => {
            json!({"role": "tool", "tool_call_id": call_id, "content": content})
        }
    }
}

/// Reads a 200 answer. Fails (not retryable) on an error body or a shape with no message.
pub fn parse_completion(text: &str) -> Result<Completion, ModelError> {
    let body: Value = serde_json::from_str(text).map_err(|_| {
        ModelError::Fatal(format!(
            "The model API answered with something that is not JSON ({}); check OPENAI_BASE_URL.",
            snippet(text)
        ))
    })?;
    if let Some(error) = body.get("error").filter(|e| !e.is_null()) {
        return Err(ModelError::Fatal(format!(
            "The model API reported an error: {}",
            error_message(error)
        )));
    }
    let message = body
        .get("choices")
        .and_then(|c| c.get(0))
        .and_then(|c| c.get("message"))
        .filter(|m| m.is_object())
        .ok_or_else(|| {
            ModelError::Fatal(format!(
                "The model API's answer has no choices[0].message ({}); check OPENAI_BASE_URL.",
                snippet(text)
            ))
        })?;
    let usage = body.get("usage").map(read_usage).unwrap_or_default();
    let calls = message
        .get("tool_calls")
        .and_then(|c| c.as_array())
        .cloned()
        .unwrap_or_default();
    if !calls.is_empty() {
        let mut tool_calls: Vec<ToolCall> = Vec::with_capacity(calls.len());
        for (i, call) in calls.iter().enumerate() {
            // Ollama's native shape nests `index` in `function`; some servers omit `type`.
            let function = call.get("function").unwrap_or(call);
            let name = function
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or("")
                .to_string();
            let arguments = match function.get("arguments") {
                None | Some(Value::Null) => "{}".to_string(),
                Some(Value::String(s)) if s.trim().is_empty() => "{}".to_string(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            let id = match call.get("id") {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            // Missing, empty or repeated ids are replaced: tool outputs are matched by id.
            let id = if id.is_empty() || tool_calls.iter().any(|c| c.id == id) {
                format!("call_{i}_{}", tool_calls.len())
            } else {
                id
            };
            tool_calls.push(ToolCall {
                id,
                name,
                arguments,
            });
        }
        return Ok(Completion {
            reply: Reply::ToolCalls(tool_calls),
            usage,
        });
    }
    let content = match message.get("content") {
        Some(Value::String(s)) => s.clone(),
        // Some servers send content as a list of parts.
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(|t| t.as_str()))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    };
    if content.trim().is_empty() {
        let reason = body["choices"][0]["finish_reason"]
            .as_str()
            .unwrap_or("none");
        return Err(ModelError::Fatal(format!(
            "The model returned an empty answer (finish_reason: {reason})."
        )));
    }
    Ok(Completion {
        reply: Reply::Answer(content),
        usage,
    })
}

pub(crate) fn read_usage(u: &Value) -> Usage {
    let n = |k: &str| u.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
    let (prompt, completion) = (n("prompt_tokens"), n("completion_tokens"));
    let total = u
        .get("total_tokens")
        .and_then(|v| v.as_u64())
        .unwrap_or(prompt + completion);
    Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: total,
    }
}

pub(crate) fn error_message(error: &Value) -> String {
    match error {
        Value::String(s) => s.clone(),
        other => other
            .get("message")
            .and_then(|m| m.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| other.to_string()),
    }
}

fn status_error(status: StatusCode, text: &str, retry_after: Option<Duration>) -> ModelError {
    let detail = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|b| b.get("error").map(error_message))
        .unwrap_or_else(|| snippet(text));
    let code = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|b| b["error"]["code"].as_str().map(str::to_string));
    match status.as_u16() {
        401 | 403 => ModelError::Fatal(format!(
            "The model API refused the credentials ({status}): check OPENAI_API_KEY. {detail}"
        )),
        404 => ModelError::Fatal(format!(
            "The model API does not know this model or route ({status}): check OPENAI_MODEL and OPENAI_BASE_URL. {detail}"
        )),
        429 if code.as_deref() == Some("insufficient_quota") => ModelError::Fatal(format!(
            "The model API account has no quota left ({status}): {detail}"
        )),
        429 | 408 | 409 | 500..=599 => ModelError::Retryable {
            message: format!("The model API is unavailable ({status}): {detail}"),
            retry_after,
        },
        _ => ModelError::Fatal(format!(
            "The model API refused the request ({status}): {detail}"
        )),
    }
}

fn transport_error(e: &reqwest::Error) -> ModelError {
    let what = if e.is_timeout() {
        "did not answer in time"
    } else if e.is_connect() {
        "could not be reached"
    } else {
        "broke off the connection"
    };
    ModelError::Retryable {
        message: format!("The model API {what} (check OPENAI_BASE_URL)."),
        retry_after: None,
    }
}

/// `retry-after-ms`, then `retry-after` in seconds, honoured when at most 60 s. Whatever the
/// header holds (`inf`, `NaN`, `-1`, `1e300`, a date) gives a wait or none, never a panic.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).map(str::trim);
    let seconds = |raw: &str, scale: f64| {
        raw.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .and_then(|v| Duration::try_from_secs_f64(v.max(0.0) / scale).ok())
    };
    let wait = get("retry-after-ms")
        .and_then(|v| seconds(v, 1000.0))
        .or_else(|| get("retry-after").and_then(|v| seconds(v, 1.0)))?;
    (wait <= Duration::from_secs(60)).then_some(wait)
}

fn snippet(text: &str) -> String {
    let t: String = text.chars().take(120).collect();
    if t.is_empty() {
        "an empty body".into()
    } else {
        format!("began {t:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool_calls_of(text: &str) -> Vec<ToolCall> {
        match parse_completion(text).unwrap().reply {
            Reply::ToolCalls(c) => c,
            other => panic!("expected tool calls, got {other:?}"),
        }
    }

    #[test]
    fn reads_openais_tool_calls_and_usage() {
        let c = parse_completion(r#"{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_abc123","type":"function","function":{"name":"get_relevant_docs","arguments":"{\n\"query\": \"buttons\"\n}"}}],"refusal":null},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":82,"completion_tokens":17,"total_tokens":99}}"#).unwrap();
        assert_eq!(
            c.usage,
            Usage {
                prompt_tokens: 82,
                completion_tokens: 17,
                total_tokens: 99
            }
        );
        let Reply::ToolCalls(calls) = c.reply else {
            panic!()
        };
        assert_eq!(calls[0].id, "call_abc123");
        let args: Value = serde_json::from_str(&calls[0].arguments).unwrap();
        assert_eq!(args["query"], "buttons");
    }

    #[test]
    fn reads_ollamas_parallel_calls_with_empty_content() {
        let calls = tool_calls_of(
            r#"{"id":"chatcmpl-417","choices":[{"index":0,"message":{"role":"assistant","content":"","tool_calls":[{"id":"call_lyywui55","index":0,"type":"function","function":{"name":"get_relevant_docs","arguments":"{\"query\":\"a\"}"}},{"id":"call_0scw2dos","index":1,"type":"function","function":{"name":"get_relevant_docs","arguments":"{\"query\":\"b\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":180,"completion_tokens":40,"total_tokens":220}}"#,
        );
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[1].id, "call_0scw2dos");
    }

    #[test]
    fn reads_ollamas_native_shape_without_ids_and_with_object_arguments() {
        let calls = tool_calls_of(
            r#"{"choices":[{"message":{"role":"assistant","tool_calls":[{"function":{"index":0,"name":"get_relevant_docs","arguments":{"query":"Paris"}}},{"function":{"index":1,"name":"get_relevant_docs","arguments":{"query":"London"}}}]}}]}"#,
        );
        assert_eq!(calls.len(), 2);
        assert!(!calls[0].id.is_empty() && calls[0].id != calls[1].id);
        let args: Value = serde_json::from_str(&calls[0].arguments).unwrap();
        assert_eq!(args["query"], "Paris");
    }

    #[test]
    fn reads_vllm_llama_cpp_and_lm_studio_shapes() {
        let vllm = tool_calls_of(
            r#"{"choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":null,"tool_calls":[{"id":"chatcmpl-tool-ba26764988bf8aa9","type":"function","function":{"name":"get_relevant_docs","arguments":"{\"query\": \"Paris\"}"}}],"reasoning":null},"finish_reason":"tool_calls","stop_reason":null}],"usage":{"prompt_tokens":210,"total_tokens":232,"completion_tokens":22,"prompt_tokens_details":null}}"#,
        );
        assert_eq!(vllm[0].id, "chatcmpl-tool-ba26764988bf8aa9");
        let llama = tool_calls_of(
            r#"{"choices":[{"finish_reason":"tool_calls","index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"type":"function","function":{"name":"get_relevant_docs","arguments":"{\"query\":\"Paris\"}"},"id":"Kq3vO8mZ1rT5yWb7nD2fH9jL4pS6uX0c"}]}}],"timings":{"prompt_n":180}}"#,
        );
        assert_eq!(llama[0].id, "Kq3vO8mZ1rT5yWb7nD2fH9jL4pS6uX0c");
        let lm = tool_calls_of(
            r#"{"choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","tool_calls":[{"id":"365174485","type":"function","function":{"name":"get_relevant_docs","arguments":""}}]}}],"stats":{}}"#,
        );
        assert_eq!(lm[0].id, "365174485");
        assert_eq!(lm[0].arguments, "{}");
        let dup = tool_calls_of(
            r#"{"choices":[{"message":{"tool_calls":[{"id":"x","function":{"name":"a","arguments":"{}"}},{"id":"x","function":{"name":"b","arguments":"{}"}}]}}]}"#,
        );
        assert_ne!(dup[0].id, dup[1].id);
    }

    #[test]
    fn plain_answers_with_empty_tool_call_lists_are_answers_without_usage_too() {
        for body in [
            r#"{"choices":[{"message":{"role":"assistant","content":"Hello","tool_calls":[]},"finish_reason":"stop"}]}"#,
            r#"{"choices":[{"message":{"role":"assistant","content":"Hello","tool_calls":null}}]}"#,
            r#"{"choices":[{"message":{"role":"assistant","content":[{"type":"text","text":"Hello"}]}}]}"#,
        ] {
            let c = parse_completion(body).unwrap();
            assert_eq!(c.reply, Reply::Answer("Hello".into()));
            assert_eq!(c.usage, Usage::default());
        }
    }

    #[test]
    fn malformed_or_error_bodies_fail_with_a_clear_message() {
        for (body, expect) in [
            ("not json", "not JSON"),
            ("", "not JSON"),
            (
                r#"{"error":"Unexpected endpoint or method. (POST /chat/completions)"}"#,
                "Unexpected endpoint",
            ),
            (r#"{"choices":[]}"#, "no choices[0].message"),
            (
                r#"{"choices":[{"message":"text"}]}"#,
                "no choices[0].message",
            ),
            (
                r#"{"choices":[{"message":{"content":""},"finish_reason":"length"}]}"#,
                "empty answer",
            ),
        ] {
            match parse_completion(body) {
                Err(ModelError::Fatal(m)) => assert!(m.contains(expect), "{body}: {m}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn statuses_sort_into_retryable_and_fatal() {
        let e = status_error(
            StatusCode::UNAUTHORIZED,
            r#"{"error":{"code":401,"message":"Invalid API Key","type":"authentication_error"}}"#,
            None,
        );
        assert!(
            matches!(&e, ModelError::Fatal(m) if m.contains("OPENAI_API_KEY") && m.contains("Invalid API Key"))
        );
        assert!(matches!(
            status_error(
                StatusCode::UNAUTHORIZED,
                r#"{"error":"Unauthorized"}"#,
                None
            ),
            ModelError::Fatal(_)
        ));
        assert!(
            matches!(status_error(StatusCode::NOT_FOUND, "{}", None), ModelError::Fatal(m) if m.contains("OPENAI_MODEL"))
        );
        let quota = r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#;
        assert!(matches!(
            status_error(StatusCode::TOO_MANY_REQUESTS, quota, None),
            ModelError::Fatal(_)
        ));
        let wait = Some(Duration::from_secs(2));
        assert!(
            matches!(status_error(StatusCode::TOO_MANY_REQUESTS, "{}", wait), ModelError::Retryable { retry_after, .. } if retry_after == wait)
        );
        for s in [500, 502, 503] {
            assert!(matches!(
                status_error(StatusCode::from_u16(s).unwrap(), "busy", None),
                ModelError::Retryable { .. }
            ));
        }
        assert!(matches!(
            status_error(StatusCode::BAD_REQUEST, "{}", None),
            ModelError::Fatal(_)
        ));
    }

    /// The refusals servers send for `tools` they do not take, as recorded; and refusals of
    /// something else, which are errors.
    #[test]
    fn refusals_of_tools_are_told_from_other_refusals() {
        let bad = StatusCode::BAD_REQUEST;
        for body in [
            r#"{"error":{"message":"registry.ollama.ai/library/gemma:2b does not support tools","type":"api_error","param":null,"code":null}}"#,
            r#"{"error":{"message":"\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set","type":"BadRequestError","param":null,"code":400}}"#,
            r#"{"error":{"code":400,"message":"tools param requires --jinja flag","type":"invalid_request_error"}}"#,
        ] {
            assert!(refuses_tools(bad, body), "{body}");
            assert!(
                refuses_tools(StatusCode::UNPROCESSABLE_ENTITY, body),
                "{body}"
            );
        }
        for (status, body) in [
            (bad, r#"{"error":{"message":"messages: too long"}}"#),
            (bad, r#"{"error":{"message":"Invalid tool call id"}}"#),
            (
                StatusCode::UNAUTHORIZED,
                r#"{"error":"tools are not supported without a key"}"#,
            ),
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"error":"model does not support tools"}"#,
            ),
        ] {
            assert!(!refuses_tools(status, body), "{status} {body}");
        }
    }

    #[test]
    fn retry_after_headers_are_read_in_seconds_or_milliseconds() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", "150".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(150)));
        let mut h = HeaderMap::new();
        h.insert("retry-after", "3600".parse().unwrap());
        assert_eq!(retry_after(&h), None);
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
        for odd in ["inf", "-inf", "NaN", "1e300", "31536000", "-5"] {
            let mut h = HeaderMap::new();
            h.insert("retry-after", odd.parse().unwrap());
            let wait = retry_after(&h);
            assert!(wait.is_none_or(|w| w <= Duration::from_secs(60)), "{odd}");
            let mut h = HeaderMap::new();
            h.insert("retry-after-ms", odd.parse().unwrap());
            let wait = retry_after(&h);
            assert!(
                wait.is_none_or(|w| w <= Duration::from_secs(60)),
                "{odd} ms"
            );
        }
    }

    #[test]
    fn requests_carry_the_conversation_and_tools_in_openais_shape() {
        let m = wire_message(&ChatMessage::Assistant {
            content: None,
            tool_calls: vec![ToolCall {
                id: "c1".into(),
                name: "get_relevant_docs".into(),
                arguments: "{}".into(),
            }],
        });
        assert_eq!(m["tool_calls"][0]["function"]["name"], "get_relevant_docs");
        assert_eq!(m["content"], "");
        let t = wire_message(&ChatMessage::Tool {
            call_id: "c1".into(),
            content: "{}".into(),
        });
        assert_eq!(
            t,
            json!({"role": "tool", "tool_call_id": "c1", "content": "{}"})
        );
    }
}
