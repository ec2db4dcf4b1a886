//! The offline model: answers from docs search alone, deterministically, with no network and no
//! key. It uses the same tool loop as a real model: first it calls `get_relevant_docs` with the
//! question, then it writes a Markdown answer from the sections the tool returned.
use super::{
    ChatMessage, ChatModel, Completion, ModelFuture, Reply, ToolCall, ToolSpec, Usage,
    message_tokens, reply_tokens,
};

pub const NAME: &str = "offline-docs-search";

/// How many sections an answer quotes.
const QUOTED_SECTIONS: usize = 3;
/// Longest quote from one section, in characters.
const QUOTE_BUDGET: usize = 600;

pub struct OfflineModel;

impl ChatModel for OfflineModel {
    fn name(&self) -> &str {
        NAME
    }

    fn complete<'a>(
        &'a self,
        messages: &'a [ChatMessage],
        tools: &'a [ToolSpec],
    ) -> ModelFuture<'a> {
        Box::pin(async move {
            let reply = respond(messages, tools);
            let prompt: u64 = messages.iter().map(message_tokens).sum();
            let completion = reply_tokens(&reply);
            Ok(Completion {
                reply,
                usage: Usage {
                    prompt_tokens: prompt,
                    completion_tokens: completion,
                    total_tokens: prompt + completion,
                },
            })
        })
    }
}

fn respond(messages: &[ChatMessage], tools: &[ToolSpec]) -> Reply {
    let question = messages.iter().rev().find_map(|m| match m {
        ChatMessage::User(t) => Some(t.as_str()),
        _ => None,
    });
    let Some(question) = question else {
        return Reply::Answer("Ask me a question about the docs.".into());
    };
    // Tool outputs that came after the last user message answer it.
    let last_user = messages
        .iter()
        .rposition(|m| matches!(m, ChatMessage::User(_)))
        .unwrap_or(0);
    let outputs: Vec<&str> = messages[last_user..]
        .iter()
        .filter_map(|m| match m {
            ChatMessage::Tool { content, .. } => Some(content.as_str()),
            _ => None,
        })
        .collect();
    let has_search = tools
        .iter()
        .any(|t| t.name == crate::engine::tools::GET_RELEVANT_DOCS);
    if !has_search {
        // Without the docs tool (simple-completion: titles), the answer is a short summary.
        return Reply::Answer(title_for(question));
    }
    if outputs.is_empty() {
        let round = messages.len();
        return Reply::ToolCalls(vec![ToolCall {
            id: format!("call_offline{round}"),
            name: crate::engine::tools::GET_RELEVANT_DOCS.to_string(),
            arguments: serde_json::json!({ "query": question }).to_string(),
        }]);
    }
    Reply::Answer(compose_answer(question, &outputs))
}

#[derive(serde::Deserialize)]
struct Found {
    title: String,
    heading: String,
    url: String,
    content: String,
}

fn compose_answer(question: &str, outputs: &[&str]) -> String {
    let mut found: Vec<Found> = Vec::new();
    for output in outputs {
        if let Ok(results) = serde_json::from_str::<serde_json::Value>(output)
            && let Some(items) = results.get("results").and_then(|r| r.as_array())
        {
            found.extend(
                items
                    .iter()
                    .filter_map(|i| serde_json::from_value(i.clone()).ok()),
            );
        }
    }
    if found.is_empty() {
        return format!(
            "I could not find anything in the docs about “{}”. Try other words, or name the \
             component or topic you are asking about.",
            one_line(question)
        );
    }
    let mut answer = String::from("Here is what the docs say:\n\n");
    for f in found.iter().take(QUOTED_SECTIONS) {
        let label = if f.heading == f.title {
            f.title.clone()
        } else {
            format!("{} › {}", f.title, f.heading)
        };
        answer.push_str(&format!("### [{}]({})\n\n", escape_brackets(&label), f.url));
        answer.push_str(&quote(&f.content));
        answer.push_str("\n\n");
    }
    // Other pages that matched, once each, leaving out the pages already quoted.
    let quoted: Vec<&str> = found
        .iter()
        .take(QUOTED_SECTIONS)
        .map(|f| f.title.as_str())
        .collect();
    let mut more: Vec<String> = Vec::new();
    let mut listed: Vec<&str> = Vec::new();
    for f in found.iter().skip(QUOTED_SECTIONS) {
        if quoted.contains(&f.title.as_str())
            || listed.contains(&f.title.as_str())
            || more.len() == 3
        {
            continue;
        }
        listed.push(&f.title);
        more.push(format!("[{}]({})", escape_brackets(&f.title), f.url));
    }
    if !more.is_empty() {
        answer.push_str(&format!("See also: {}.\n\n", more.join(", ")));
    }
    answer.push_str(
        "_This answer quotes the docs search results directly (offline model); follow the links for the full pages._",
    );
    answer
}

/// A section's text shortened to whole paragraphs within the budget, as a block quote; code
/// blocks are left out of the quote (the link leads to them).
fn quote(content: &str) -> String {
    let mut kept = String::new();
    let mut in_code = false;
    for paragraph in content.split("\n\n") {
        let trimmed = paragraph.trim();
        let fences = trimmed
            .lines()
            .filter(|l| l.trim_start().starts_with("```"))
            .count();
        if in_code || trimmed.starts_with("```") {
            if fences % 2 == 1 {
                in_code = !in_code;
            }
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('|') || trimmed.starts_with('<') {
            continue;
        }
        if !kept.is_empty() && kept.chars().count() + trimmed.chars().count() > QUOTE_BUDGET {
            break;
        }
        if !kept.is_empty() {
            kept.push_str("\n\n");
        }
        kept.push_str(trimmed);
        if kept.chars().count() >= QUOTE_BUDGET {
            break;
        }
    }
    if kept.is_empty() {
        return "> (This section is mostly code; open the page to see it.)".into();
    }
    let kept: String = if kept.chars().count() > QUOTE_BUDGET {
        let cut: String = kept.chars().take(QUOTE_BUDGET).collect();
        format!("{} …", cut.rsplit_once(' ').map(|(a, _)| a).unwrap_or(&cut))
    } else {
        kept
    };
    kept.lines()
        .map(|l| {
            if l.is_empty() {
                ">".to_string()
            } else {
                format!("> {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn escape_brackets(text: &str) -> String {
    text.replace('[', "\\[").replace(']', "\\]")
}

fn one_line(text: &str) -> String {
    let t: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() > 120 {
        t.chars().take(120).collect::<String>() + "…"
    } else {
        t
    }
}

/// Filler that a title leaves out.
const FILLER: &[&str] = &[
    "how", "do", "does", "i", "can", "what", "is", "are", "the", "a", "an", "to", "should", "we",
    "you", "my", "in", "of", "for", "with", "please", "tell", "me", "about", "which", "why",
    "when", "where", "there", "way", "it", "on", "be", "use", "using", "and", "or", "hi", "hello",
];

/// A few-word title summarizing `text` (the offline answer to a title request).
pub fn title_for(text: &str) -> String {
    let words: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    let keep: Vec<&String> = words
        .iter()
        .filter(|w| !FILLER.contains(&w.to_lowercase().as_str()))
        .take(5)
        .collect();
    let chosen: Vec<&String> = if keep.is_empty() {
        words.iter().take(5).collect()
    } else {
        keep
    };
    let title = chosen
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let mut chars = title.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
        None => "New thread".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::tools::tool_specs;

    fn run(messages: &[ChatMessage]) -> Reply {
        respond(messages, &tool_specs())
    }

    #[test]
    fn first_round_searches_the_docs_with_the_question() {
        let reply = run(&[
            ChatMessage::System("x".into()),
            ChatMessage::User("How do buttons work?".into()),
        ]);
        let Reply::ToolCalls(calls) = reply else {
            panic!("expected a tool call")
        };
        assert_eq!(calls[0].name, "get_relevant_docs");
        let args: serde_json::Value = serde_json::from_str(&calls[0].arguments).unwrap();
        assert_eq!(args["query"], "How do buttons work?");
    }

    #[test]
    fn second_round_quotes_and_links_the_sections() {
        let output = serde_json::json!({"results": [
            {"title": "Button", "heading": "Usage", "url": "/docs/button.md#usage", "content": "Use a button for actions.\n\n```js\ncode\n```\n\nMore text."},
        ]})
        .to_string();
        let reply = run(&[
            ChatMessage::User("How do buttons work?".into()),
            ChatMessage::Assistant {
                content: None,
                tool_calls: vec![],
            },
            ChatMessage::Tool {
                call_id: "c".into(),
                content: output,
            },
        ]);
        let Reply::Answer(text) = reply else {
            panic!("expected an answer")
        };
        assert!(
            text.contains("[Button › Usage](/docs/button.md#usage)"),
            "{text}"
        );
        assert!(text.contains("> Use a button for actions."), "{text}");
        assert!(!text.contains("code"), "{text}");
        assert!(text.contains("> More text."), "{text}");
    }

    #[test]
    fn says_so_when_nothing_matched() {
        let reply = run(&[
            ChatMessage::User("Quantum cheese?".into()),
            ChatMessage::Tool {
                call_id: "c".into(),
                content: r#"{"results":[]}"#.into(),
            },
        ]);
        let Reply::Answer(text) = reply else { panic!() };
        assert!(text.contains("could not find anything"), "{text}");
    }

    #[test]
    fn titles_are_a_few_words() {
        assert_eq!(
            title_for("How do I set up Paste Assistant on my machine?"),
            "Set up Paste Assistant machine"
        );
        assert_eq!(title_for("what is it?"), "What is it");
        assert_eq!(title_for("   "), "New thread");
    }

    #[test]
    fn answers_are_deterministic() {
        let m = [ChatMessage::User("Same question".into())];
        assert_eq!(run(&m), run(&m));
    }
}
