//! Search first: before its first model call a run searches the docs for the reader's question
//! itself (a `get_relevant_docs` step like any other), decides whether the docs cover it, and
//! hands the model the results with its instructions. Grounding never depends on a model
//! choosing to call the tool, or on a server taking tools at all.
//!
//! The results go into the instructions (the first system message), not as a tool call and its
//! tool message: servers without tool calling drop `tool` messages silently (llama-cpp-python's
//! `chatml` format renders only system, user and assistant roles: measured, docs/benchmarks.md "Search
//! first"), strict chat templates refuse a system message anywhere but first, and the history
//! trimming never drops the instructions.
use crate::models::ToolCall;
use crate::store::MessageRow;

use crate::models::prompt::GET_RELEVANT_DOCS;

/// Earlier questions of the thread searched with a new one, newest first.
pub const CONTEXT_QUESTIONS: usize = 2;
/// Longest search query run, in characters.
pub const MAX_QUERY_CHARS: usize = 500;

/// The question a run answers and the thread's questions before it (newest first, at most
/// [`CONTEXT_QUESTIONS`]), from the thread's messages in order: what search-first searches and
/// what the not-covered rule reads, at run time and in the admin record alike.
pub fn question_and_context(messages: &[MessageRow], question_id: &str) -> (String, Vec<String>) {
    let at = messages.iter().position(|m| m.id == question_id);
    let Some(at) = at else {
        return (String::new(), Vec::new());
    };
    let context = messages[..at]
        .iter()
        .rev()
        .filter(|m| m.role == "user")
        .take(CONTEXT_QUESTIONS)
        .map(|m| m.content.chars().take(MAX_QUERY_CHARS).collect())
        .collect();
    (messages[at].content.clone(), context)
}

/// The `get_relevant_docs` call a run makes itself: the question, and the earlier questions it
/// is searched with.
pub fn search_call(run_id: &str, question: &str, context: &[String]) -> ToolCall {
    let query: String = question.chars().take(MAX_QUERY_CHARS).collect();
    let mut arguments = serde_json::json!({ "query": query });
    if !context.is_empty() {
        arguments["context"] = serde_json::json!(context);
    }
    // Unique within the run, and short: some servers cap tool-call ids at 40 characters.
    let tail: String = run_id.chars().rev().take(16).collect();
    ToolCall {
        id: format!("call_first_{tail}"),
        name: GET_RELEVANT_DOCS.to_string(),
        arguments: arguments.to_string(),
    }
}

/// The message metadata of an answer: whether the docs cover its question (a string, as
/// message metadata values are).
pub fn answer_metadata(covered: bool) -> String {
    serde_json::json!({ "covered": covered.to_string() }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, role: &str, content: &str) -> MessageRow {
        let mut m = MessageRow::new("thread_1", role, content.into(), None, 0);
        m.id = id.into();
        m
    }

    #[test]
    fn a_question_is_searched_with_the_threads_two_newest_earlier_questions() {
        let messages = [
            message("m1", "user", "first"),
            message("m2", "assistant", "answer one"),
            message("m3", "user", "second"),
            message("m4", "assistant", "answer two"),
            message("m5", "user", "third"),
            message("m6", "assistant", "answer three"),
            message("m7", "user", "fourth"),
        ];
        let (question, context) = question_and_context(&messages, "m7");
        assert_eq!(question, "fourth");
        assert_eq!(context, ["third", "second"]);
        let (question, context) = question_and_context(&messages, "m1");
        assert_eq!(question, "first");
        assert!(context.is_empty());
        assert_eq!(question_and_context(&messages, "m9").0, "");
    }

    #[test]
    fn the_call_carries_the_question_and_its_context() {
        let call = search_call("run_abc", "And in a new tab?", &["Button as link?".into()]);
        assert_eq!(call.name, GET_RELEVANT_DOCS);
        assert!(call.id.len() <= 40, "{}", call.id);
        let args: serde_json::Value = serde_json::from_str(&call.arguments).unwrap();
        assert_eq!(args["query"], "And in a new tab?");
        assert_eq!(args["context"][0], "Button as link?");
        let alone = search_call("run_abc", "Buttons?", &[]);
        assert_eq!(alone.arguments, r#"{"query":"Buttons?"}"#);
    }

    #[test]
    fn an_answer_says_whether_the_docs_cover_its_question() {
        assert_eq!(answer_metadata(false), r#"{"covered":"false"}"#);
        assert_eq!(answer_metadata(true), r#"{"covered":"true"}"#);
    }
}
