//! The wire format of chat completions: the request written in OpenAI's shape, and answers and
//! errors read with the tolerant-client rules (see `super`).
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::models::stream::{error_message, read_usage};
use crate::models::{ChatMessage, Completion, ModelError, Reply, ToolCall, ToolSpec};

/// Whether a refused request was refused for offering `tools` (and the server says so).
pub(super) fn refuses_tools(status: StatusCode, text: &str) -> bool {
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
pub(super) fn request_body(
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

/// Largest model answer read: a chat completion is a few KB; a server that sends more (a
/// broken proxy, a hostile endpoint) must not fill the memory.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The answer's body as text, refused once it passes [`MAX_BODY_BYTES`].
pub(super) async fn read_capped(response: reqwest::Response) -> Result<String, ModelError> {
    match crate::outbound::read_capped(response, MAX_BODY_BYTES).await {
        Ok(body) => Ok(String::from_utf8_lossy(&body).into_owned()),
        Err(crate::outbound::BodyError::Transport(e)) => Err(transport_error(&e)),
        Err(crate::outbound::BodyError::TooLarge(_)) => Err(ModelError::Fatal(format!(
            "The model API's answer is larger than {} MiB; check OPENAI_BASE_URL.",
            MAX_BODY_BYTES / (1024 * 1024)
        ))),
    }
}

pub(super) fn wire_message(m: &ChatMessage) -> Value {
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

pub(super) fn status_error(
    status: StatusCode,
    text: &str,
    retry_after: Option<Duration>,
) -> ModelError {
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

pub(super) fn transport_error(e: &reqwest::Error) -> ModelError {
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

pub(super) fn snippet(text: &str) -> String {
    let t: String = text.chars().take(120).collect();
    if t.is_empty() {
        "an empty body".into()
    } else {
        format!("began {t:?}")
    }
}
