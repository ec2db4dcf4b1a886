//! Reading a streamed chat completion (`stream: true`): server-sent `data:` lines of
//! `chat.completion.chunk` objects, assembled into one [`Completion`]. Tolerant in the ways
//! `shared/reference/streaming.md` lists: `data:` with or without a space, `\r\n` line ends,
//! `: keep-alive` comments, unknown fields, `content` null or empty, usage in a chunk of its own
//! or with the last choice or never, tool calls in pieces by `index` (or whole, as Ollama sends
//! them), an error object after the 200, and a stream that ends without `[DONE]`.
use serde_json::Value;

use super::{Completion, ModelError, Reply, ToolCall, Usage};

/// What one fed-in piece of the body yielded.
#[derive(Debug, Default, PartialEq)]
pub struct Fed {
    /// Answer text that arrived, in order.
    pub text: String,
    /// `[DONE]` was read: nothing more will come.
    pub done: bool,
}

/// A tool call being assembled from its deltas.
#[derive(Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

#[derive(Default)]
pub struct Assembler {
    /// Bytes of a line not yet ended.
    line: Vec<u8>,
    text: String,
    calls: Vec<(u64, PartialCall)>,
    usage: Option<Usage>,
    finish_reason: Option<String>,
    done: bool,
}

impl Assembler {
    /// Feeds the next bytes of the body.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Fed, ModelError> {
        let mut fed = Fed::default();
        for &b in bytes {
            if b != b'\n' {
                self.line.push(b);
                continue;
            }
            let line = std::mem::take(&mut self.line);
            self.line_done(&line, &mut fed)?;
        }
        fed.done = self.done;
        Ok(fed)
    }

    fn line_done(&mut self, line: &[u8], fed: &mut Fed) -> Result<(), ModelError> {
        let line = String::from_utf8_lossy(line);
        let line = line.trim_end_matches('\r');
        let Some(data) = line.strip_prefix("data:") else {
            // Blank separators, `: comment` keep-alives, `event:`, `id:`, `retry:`.
            return Ok(());
        };
        let data = data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        if self.done || data.is_empty() {
            return Ok(());
        }
        let chunk: Value = serde_json::from_str(data).map_err(|_| {
            ModelError::Fatal(format!(
                "The model API sent a broken stream line ({}); check OPENAI_BASE_URL.",
                data.chars().take(80).collect::<String>()
            ))
        })?;
        if let Some(error) = chunk.get("error").filter(|e| !e.is_null()) {
            return Err(ModelError::Fatal(format!(
                "The model API reported an error mid-answer: {}",
                error_message(error)
            )));
        }
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(read_usage(usage));
        }
        let Some(choice) = chunk.get("choices").and_then(|c| c.get(0)) else {
            return Ok(());
        };
        if let Some(reason) = choice.get("finish_reason").and_then(|r| r.as_str()) {
            self.finish_reason = Some(reason.to_string());
        }
        let Some(delta) = choice.get("delta").or_else(|| choice.get("message")) else {
            return Ok(());
        };
        if let Some(text) = delta.get("content").and_then(|c| c.as_str())
            && !text.is_empty()
        {
            self.text.push_str(text);
            fed.text.push_str(text);
        }
        for (position, call) in delta
            .get("tool_calls")
            .and_then(|c| c.as_array())
            .into_iter()
            .flatten()
            .enumerate()
        {
            self.call_delta(position, call);
        }
        Ok(())
    }

    fn call_delta(&mut self, position: usize, call: &Value) {
        let function = call.get("function").unwrap_or(call);
        let index = call
            .get("index")
            .or_else(|| function.get("index"))
            .and_then(|i| i.as_u64())
            .unwrap_or_else(|| {
                // No index: a whole call per chunk (Ollama-like); a new one each time.
                self.calls.len() as u64 + position as u64
            });
        let slot = match self.calls.iter().position(|(i, _)| *i == index) {
            Some(at) => at,
            None => {
                self.calls.push((index, PartialCall::default()));
                self.calls.len() - 1
            }
        };
        let partial = &mut self.calls[slot].1;
        match call.get("id") {
            Some(Value::String(id)) if !id.is_empty() => partial.id = id.clone(),
            Some(Value::Number(n)) => partial.id = n.to_string(),
            _ => {}
        }
        if let Some(name) = function.get("name").and_then(|n| n.as_str()) {
            partial.name.push_str(name);
        }
        match function.get("arguments") {
            Some(Value::String(piece)) => partial.arguments.push_str(piece),
            Some(Value::Null) | None => {}
            Some(whole) => partial.arguments = whole.to_string(),
        }
    }

    /// The completion, once the body has ended (`[DONE]` or the connection closed).
    pub fn finish(mut self) -> Result<Completion, ModelError> {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.line_done(&line, &mut Fed::default())?;
        }
        if !self.done && self.finish_reason.is_none() {
            return Err(ModelError::Fatal(
                "The model API's stream ended before the answer did.".into(),
            ));
        }
        let usage = self.usage.unwrap_or_default();
        if !self.calls.is_empty() {
            let mut calls: Vec<ToolCall> = Vec::with_capacity(self.calls.len());
            self.calls.sort_by_key(|(i, _)| *i);
            for (i, (_, partial)) in self.calls.into_iter().enumerate() {
                // Missing or repeated ids are replaced: tool outputs are matched by id.
                let id = if partial.id.is_empty() || calls.iter().any(|c| c.id == partial.id) {
                    format!("call_{i}_{}", calls.len())
                } else {
                    partial.id
                };
                let arguments = if partial.arguments.trim().is_empty() {
                    "{}".to_string()
                } else {
                    partial.arguments
                };
                calls.push(ToolCall {
                    id,
                    name: partial.name,
                    arguments,
                });
            }
            return Ok(Completion {
                reply: Reply::ToolCalls(calls),
                usage,
            });
        }
        if self.text.trim().is_empty() {
            let reason = self.finish_reason.as_deref().unwrap_or("none");
            return Err(ModelError::Fatal(format!(
                "The model returned an empty answer (finish_reason: {reason})."
            )));
        }
        Ok(Completion {
            reply: Reply::Answer(self.text),
            usage,
        })
    }

    /// Whether any answer text arrived (then a failure must not be retried).
    pub fn wrote(&self) -> bool {
        !self.text.is_empty()
    }

    /// Whether any text or tool call arrived.
    pub fn started(&self) -> bool {
        self.wrote() || !self.calls.is_empty()
    }

    /// Whether the stream said it ended (`[DONE]` or a `finish_reason`).
    pub fn ended(&self) -> bool {
        self.done || self.finish_reason.is_some()
    }
}

/// `usage` of a completion or a chunk; `total_tokens` is the sum when a server leaves it out.
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

/// The text of an `error`: a string, or an object's `message` (OpenAI, vLLM), or the JSON.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn assemble(body: &str) -> (Vec<String>, Result<Completion, ModelError>) {
        let mut a = Assembler::default();
        let mut pieces = Vec::new();
        // Fed a few bytes at a time, as a network delivers them.
        for chunk in body.as_bytes().chunks(7) {
            match a.feed(chunk) {
                Ok(fed) => {
                    if !fed.text.is_empty() {
                        pieces.push(fed.text);
                    }
                }
                Err(e) => return (pieces, Err(e)),
            }
        }
        (pieces, a.finish())
    }

    #[test]
    fn openais_text_stream_with_usage_in_its_own_chunk() {
        let body = concat!(
            "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Use the \"},\"finish_reason\":null}],\"obfuscation\":\"x\"}\n\n",
            ": keep-alive\n\n",
            "data:{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"button.\"},\"finish_reason\":null}]}\r\n\r\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":2,\"total_tokens\":10}}\n\n",
            "data: [DONE]\n\n",
        );
        let (pieces, done) = assemble(body);
        let done = done.unwrap();
        assert_eq!(pieces.concat(), "Use the button.");
        assert_eq!(done.reply, Reply::Answer("Use the button.".into()));
        assert_eq!(done.usage.total_tokens, 10);
    }

    #[test]
    fn tool_call_arguments_arrive_in_pieces_by_index() {
        let body = concat!(
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_a1\",\"type\":\"function\",\"function\":{\"name\":\"get_relevant_docs\",\"arguments\":\"\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_b2\",\"function\":{\"name\":\"get_relevant_docs\",\"arguments\":\"{\\\"query\\\":\\\"b\\\"}\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"query\\\":\\\"disa\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"ble animations\\\"}\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
            "data: [DONE]\n\n",
        );
        let (pieces, done) = assemble(body);
        assert!(pieces.is_empty());
        let Reply::ToolCalls(calls) = done.unwrap().reply else {
            panic!()
        };
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].id, "call_a1");
        assert_eq!(calls[0].arguments, "{\"query\":\"disable animations\"}");
        assert_eq!(calls[1].id, "call_b2");
    }

    #[test]
    fn ollamas_whole_calls_and_a_stop_that_trusts_the_calls() {
        let body = concat!(
            "data: {\"system_fingerprint\":\"fp_ollama\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"call_x\",\"index\":0,\"type\":\"function\",\"function\":{\"name\":\"get_relevant_docs\",\"arguments\":\"{\\\"query\\\":\\\"a\\\"}\"}}]},\"finish_reason\":null}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"call_y\",\"index\":1,\"type\":\"function\",\"function\":{\"name\":\"get_relevant_docs\",\"arguments\":{\"query\":\"b\"}}}]},\"finish_reason\":null}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":\"stop\"}]}\n\n",
            "data: [DONE]\n\n",
        );
        let Reply::ToolCalls(calls) = assemble(body).1.unwrap().reply else {
            panic!()
        };
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[1].arguments, "{\"query\":\"b\"}");
    }

    #[test]
    fn no_ids_no_usage_and_no_done_after_a_finish_reason_still_complete() {
        let body = concat!(
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\" there\"},\"finish_reason\":\"stop\",\"usage\":null}]}\n",
        );
        let done = assemble(body).1.unwrap();
        assert_eq!(done.reply, Reply::Answer("Hi there".into()));
        assert_eq!(done.usage, Usage::default());
    }

    /// The shapes of a stream that broke before it wrote anything (the client then asks again
    /// without `stream`): llama-cpp-python's `chatml-function-calling` sends a 200 with no
    /// chunk at all for a streamed request with tools; others stop after the role, or send an
    /// error object. A tool call's first piece counts as a start.
    #[test]
    fn streams_that_broke_before_any_text_or_tool_call_are_told_apart() {
        let empty = Assembler::default();
        assert!(!empty.started() && !empty.ended());
        let mut role = Assembler::default();
        role.feed(b"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"finish_reason\":null}]}\n\n")
            .unwrap();
        assert!(!role.started() && !role.ended());
        let mut error = Assembler::default();
        assert!(
            error
                .feed(b"data: {\"error\":{\"message\":\"Automatic streaming tool choice is not supported\"}}\n\n")
                .is_err()
        );
        assert!(!error.started());
        let mut call = Assembler::default();
        call.feed(b"data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":{\"name\":\"get_relevant_docs\",\"arguments\":\"\"}}]}}]}\n\n")
            .unwrap();
        assert!(call.started() && !call.ended());
        let mut done = Assembler::default();
        done.feed(b"data: [DONE]\n\n").unwrap();
        assert!(!done.started() && done.ended());
    }

    #[test]
    fn cut_off_broken_and_error_streams_fail_with_what_was_written() {
        let cut = "data: {\"choices\":[{\"delta\":{\"content\":\"Half an ans\"}}]}\n\n";
        let (pieces, done) = assemble(cut);
        assert_eq!(pieces.concat(), "Half an ans");
        assert!(matches!(done, Err(ModelError::Fatal(m)) if m.contains("ended before")));
        let broken =
            "data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\ndata: {not json\n\n";
        let (pieces, done) = assemble(broken);
        assert_eq!(pieces.concat(), "ok");
        assert!(matches!(done, Err(ModelError::Fatal(m)) if m.contains("broken stream line")));
        let error = "data: {\"error\":{\"message\":\"overloaded\"}}\n\n";
        assert!(matches!(assemble(error).1, Err(ModelError::Fatal(m)) if m.contains("overloaded")));
    }
}
