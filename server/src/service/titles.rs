//! Short completions: the title a thread gets from its first question, or one a reader gives.
use serde_json::Value;

use super::{Assistant, DEFAULT_TITLE, ServiceError, ServiceResult, bad};
use crate::engine::today;
use crate::ids::ThreadId;
use crate::models::{ChatMessage, ChatModel, Completion, Reply, Usage};
use crate::store::ThreadRow;

/// Longest prompt (plus context) simple-completion sends the model, in characters: longer
/// text is cut, not refused (a title needs the start of a conversation, not all of it).
pub const COMPLETION_MAX_CHARS: usize = 2_000;

/// Longest simple completion, in tokens: it writes titles of a few words.
pub const COMPLETION_MAX_TOKENS: u32 = 32;

/// The answer of simple-completion.
pub struct SimpleCompletion {
    pub content: String,
    pub model: String,
    pub usage: Usage,
}

impl Assistant {
    /// A title of a few words for the caller's text: the server's own instructions, the
    /// caller's `prompt` and `context` as the user's content, cut at [`COMPLETION_MAX_CHARS`],
    /// and at most [`COMPLETION_MAX_TOKENS`] back. Anyone may call the route, so it must not
    /// be a general-purpose model proxy; it counts against the token budgets like a run.
    pub async fn simple_completion(
        &self,
        addr: Option<&str>,
        prompt: &str,
        context: Option<&str>,
    ) -> ServiceResult<SimpleCompletion> {
        if prompt.trim().is_empty() {
            return Err(bad("`prompt` must not be empty"));
        }
        self.check_budget(addr).await?;
        let text = match context.map(str::trim).filter(|c| !c.is_empty()) {
            Some(context) => format!("{prompt}\n\n{context}"),
            None => prompt.to_string(),
        };
        let text: String = text.chars().take(COMPLETION_MAX_CHARS).collect();
        let messages = [
            ChatMessage::System(TITLE_INSTRUCTIONS.to_string()),
            ChatMessage::User(text),
        ];
        let model: &dyn ChatModel = self.engine.title_model();
        let completion = model
            .complete_short(&messages, COMPLETION_MAX_TOKENS)
            .await
            .map_err(|e| ServiceError::Upstream(e.message().to_string()))?;
        if self.config.counts_tokens() {
            let tokens = crate::engine::context::spent(&completion, &messages);
            if let Err(e) = self.store.add_tokens(today(), addr, tokens).await {
                tracing::warn!(error = %e, "could not count a completion's tokens");
            }
        }
        let Completion { reply, usage } = completion;
        let content = match reply {
            Reply::Answer(text) => text,
            Reply::ToolCalls(_) => {
                return Err(ServiceError::Upstream("the model asked for a tool".into()));
            }
        };
        Ok(SimpleCompletion {
            content,
            model: model.name().to_string(),
            usage,
        })
    }

    /// A title of a few words for a conversation that starts with `text`.
    pub async fn suggest_title(&self, addr: Option<&str>, text: &str) -> ServiceResult<String> {
        let completion = self.simple_completion(addr, text, None).await?;
        Ok(clean_title(&completion.content))
    }

    /// Titles a thread from its first message: the title model's few words become its
    /// `threadTitle`. A title is cosmetic: when the model cannot write one, the thread keeps
    /// its title and no error reaches the person.
    pub async fn title_thread(
        &self,
        session: &str,
        addr: Option<&str>,
        thread_id: &ThreadId,
        text: &str,
    ) -> ServiceResult<ThreadRow> {
        let thread = self.thread(session, thread_id).await?;
        if has_title(&thread) {
            // Renamed by the person meanwhile: theirs wins.
            return Ok(thread);
        }
        let title = match self.suggest_title(addr, text).await {
            Ok(title) => title,
            Err(ServiceError::Upstream(reason)) => {
                tracing::warn!(%reason, "no title from the model");
                return Ok(thread);
            }
            Err(ServiceError::BudgetExhausted { .. }) => return Ok(thread),
            Err(e) => return Err(e),
        };
        if has_title(&self.thread(session, thread_id).await?) {
            return Ok(thread);
        }
        let patch = serde_json::json!({ "threadTitle": title });
        self.update_thread(session, thread_id, Some(patch)).await
    }

    /// Saves a title the person typed as the thread's `threadTitle` (one line, trimmed).
    pub async fn rename_thread(
        &self,
        session: &str,
        thread_id: &ThreadId,
        title: &str,
    ) -> ServiceResult<ThreadRow> {
        let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        if title.is_empty() {
            return Err(bad("A thread title must not be empty."));
        }
        if title.chars().count() > TITLE_MAX_CHARS {
            return Err(bad(&format!(
                "A thread title is at most {TITLE_MAX_CHARS} characters."
            )));
        }
        let patch = serde_json::json!({ "threadTitle": title });
        self.update_thread(session, thread_id, Some(patch)).await
    }
}

/// Longest thread title a person may type.
pub const TITLE_MAX_CHARS: usize = 120;

/// Whether the thread has a title other than the default one.
fn has_title(thread: &ThreadRow) -> bool {
    serde_json::from_str::<Value>(&thread.metadata)
        .ok()
        .and_then(|m| m.get("threadTitle")?.as_str().map(str::to_string))
        .is_some_and(|t| !t.is_empty() && t != DEFAULT_TITLE)
}

/// What simple-completion is asked when the browser wants a thread title.
pub const TITLE_INSTRUCTIONS: &str = "Write a title of at most five words for a conversation \
that starts with the user's message. Reply with the title only, without quotes or a period.";

/// A model's title made fit for the sidebar: one line, no quotes, at most 60 characters.
pub fn clean_title(raw: &str) -> String {
    let line = raw
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let line = line
        .trim_matches(['"', '\'', '“', '”', '*', '#', ' '])
        .trim_end_matches('.');
    let title: String = line.chars().take(60).collect();
    if title.trim().is_empty() {
        DEFAULT_TITLE.to_string()
    } else {
        title.trim().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_cleaned() {
        assert_eq!(clean_title("\"Button sizes.\"\n"), "Button sizes");
        assert_eq!(clean_title("  \n"), DEFAULT_TITLE);
        assert_eq!(clean_title(&"x".repeat(100)).len(), 60);
    }
}
