//! Chat models: one trait for every provider, the OpenAI-compatible client and the built-in
//! offline model.
pub mod offline;
pub mod openai;
pub mod prompt;
/// Streamed chat completions assembled from their chunks.
pub mod stream;

use std::{future::Future, pin::Pin};

use serde::{Deserialize, Serialize};

/// A tool call the model asks for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// JSON text, as the model wrote it.
    pub arguments: String,
}

/// One message of the conversation sent to a model.
#[derive(Clone, Debug, PartialEq)]
pub enum ChatMessage {
    System(String),
    User(String),
    Assistant {
        content: Option<String>,
        tool_calls: Vec<ToolCall>,
    },
    Tool {
        call_id: String,
        content: String,
    },
}

/// A tool the model may call.
#[derive(Clone, Debug, Serialize)]
pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    /// JSON Schema of the arguments.
    pub parameters: serde_json::Value,
}

impl ToolSpec {
    /// The tool in OpenAI's function-tool shape (chat requests and run objects).
    pub fn to_openai(&self) -> serde_json::Value {
        serde_json::json!({
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        })
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
}

impl Usage {
    pub fn add(&mut self, other: Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.total_tokens += other.total_tokens;
    }
}

/// What a model round produced: an answer, or tool calls to run first.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Answer(String),
    ToolCalls(Vec<ToolCall>),
}

#[derive(Clone, Debug)]
pub struct Completion {
    pub reply: Reply,
    pub usage: Usage,
}

/// Why a model call failed, sorted into what a retry may fix and what it cannot.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Worth another try (429, 5xx, timeouts, broken connections), after `retry_after` when the
    /// server said how long to wait.
    #[error("{message}")]
    Retryable {
        message: String,
        retry_after: Option<std::time::Duration>,
    },
    /// Another try would fail the same way (bad key, unknown model, malformed answer).
    #[error("{0}")]
    Fatal(String),
}

impl ModelError {
    pub fn message(&self) -> &str {
        match self {
            ModelError::Retryable { message, .. } | ModelError::Fatal(message) => message,
        }
    }
}

pub type ModelFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Completion, ModelError>> + Send + 'a>>;

/// Where a model writes its answer while it comes: each new piece of text, in order. Tool calls
/// are not written here; they arrive whole in the [`Completion`].
pub type TextSink<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// A chat model: the offline one, or a remote OpenAI-compatible endpoint.
pub trait ChatModel: Send + Sync {
    /// The model's name as runs record it.
    fn name(&self) -> &str;
    /// One round: the conversation so far and the tools on offer; the answer's text is also
    /// written to `sink` piece by piece as the model produces it. Once a piece was written, a
    /// failure is final (`ModelError::Fatal`): a retry would write the answer twice.
    fn stream<'a>(
        &'a self,
        messages: &'a [ChatMessage],
        tools: &'a [ToolSpec],
        sink: TextSink<'a>,
    ) -> ModelFuture<'a>;
    /// One round, with the answer only at the end.
    fn complete<'a>(
        &'a self,
        messages: &'a [ChatMessage],
        tools: &'a [ToolSpec],
    ) -> ModelFuture<'a> {
        self.stream(messages, tools, &|_| {})
    }
    /// One answer without tools, of at most `max_tokens` tokens (titles). A model that cannot
    /// be held to a length (the offline one writes a few words anyway) answers as `complete`.
    fn complete_short<'a>(
        &'a self,
        messages: &'a [ChatMessage],
        max_tokens: u32,
    ) -> ModelFuture<'a> {
        let _ = max_tokens;
        self.complete(messages, &[])
    }
}

/// A rough token count (4 characters a token) for models that report none.
pub fn estimate_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

/// A message's size in (estimated) tokens: its text, tool-call arguments included.
pub fn message_tokens(m: &ChatMessage) -> u64 {
    match m {
        ChatMessage::System(t) | ChatMessage::User(t) => estimate_tokens(t),
        ChatMessage::Assistant {
            content,
            tool_calls,
        } => {
            content.as_deref().map_or(0, estimate_tokens)
                + tool_calls
                    .iter()
                    .map(|c| estimate_tokens(&c.arguments))
                    .sum::<u64>()
        }
        ChatMessage::Tool { content, .. } => estimate_tokens(content),
    }
}

/// A reply's size in (estimated) tokens.
pub fn reply_tokens(reply: &Reply) -> u64 {
    match reply {
        Reply::Answer(text) => estimate_tokens(text),
        Reply::ToolCalls(calls) => calls.iter().map(|c| estimate_tokens(&c.arguments)).sum(),
    }
}
