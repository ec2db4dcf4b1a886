//! The offline model: answers from docs search alone, deterministically, with no network and no
//! key. It takes the same path as a real model: the run searches the docs first and hands it
//! the results with the instructions, and it writes a Markdown answer from those sections (or,
//! when the docs do not cover the question, says so and links the closest pages). Given no
//! results, it calls `get_relevant_docs` with the question itself.
use super::{
    ChatMessage, ChatModel, Completion, ModelFuture, Reply, TextSink, ToolCall, ToolSpec, Usage,
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

    fn stream<'a>(
        &'a self,
        messages: &'a [ChatMessage],
        tools: &'a [ToolSpec],
        sink: TextSink<'a>,
    ) -> ModelFuture<'a> {
        Box::pin(async move {
            let reply = respond(messages, tools);
            if let Reply::Answer(text) = &reply {
                // In small pieces, as a remote model writes, so the whole streaming path runs
                // without a key; a yield between them lets readers see the text grow.
                for piece in pieces(text) {
                    sink(piece);
                    tokio::task::yield_now().await;
                }
            }
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

/// `text` in pieces of a few words (each ending after a space or a line break), whose
/// concatenation is `text`.
fn pieces(text: &str) -> impl Iterator<Item = &str> {
    const WORDS: usize = 3;
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut seen = 0;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            if c == ' ' || c == '\n' {
                seen += 1;
                if seen == WORDS || c == '\n' {
                    end = i + 1;
                    break;
                }
            }
        }
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
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
        .any(|t| t.name == crate::models::prompt::GET_RELEVANT_DOCS);
    if !has_search {
        // Without the docs tool (simple-completion: titles), the answer is a short summary.
        return Reply::Answer(title_for(question));
    }
    if outputs.is_empty()
        && let Some((output, covered)) = crate::models::prompt::results_in(messages)
    {
        if !covered {
            return Reply::Answer(not_covered(question, output));
        }
        return Reply::Answer(compose_answer(question, &[output]));
    }
    if outputs.is_empty() {
        let round = messages.len();
        return Reply::ToolCalls(vec![ToolCall {
            id: format!("call_offline{round}"),
            name: crate::models::prompt::GET_RELEVANT_DOCS.to_string(),
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

/// Pages offered when the docs do not cover a question.
const CLOSEST_PAGES: usize = 3;

/// The answer to a question the docs do not cover: one sentence saying so, and the closest
/// pages as links (never quotes of sections that do not answer it).
fn not_covered(question: &str, output: &str) -> String {
    let mut pages: Vec<(String, String)> = Vec::new();
    for f in found_in(&[output]) {
        let page = f.url.split('#').next().unwrap_or(&f.url).to_string();
        if pages.len() < CLOSEST_PAGES && !pages.iter().any(|(_, url)| *url == page) {
            pages.push((f.title, page));
        }
    }
    let sentence = format!(
        "The docs don't cover “{}”, so I can't answer it from them.",
        one_line(question)
    );
    if pages.is_empty() {
        return sentence;
    }
    let links: Vec<String> = pages
        .iter()
        .map(|(title, url)| format!("[{}]({url})", escape_brackets(title)))
        .collect();
    format!("{sentence} The closest pages: {}.", links.join(", "))
}

/// The sections the search outputs hold, in order.
fn found_in(outputs: &[&str]) -> Vec<Found> {
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
    found
}

fn compose_answer(question: &str, outputs: &[&str]) -> String {
    let found = found_in(outputs);
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

/// Longest code block quoted: a docs answer without its snippet is no answer, so code blocks are
/// quoted whole; one longer than this is left out entirely (never cut inside), with a pointer.
const CODE_BUDGET: usize = 1_500;

/// A section's text as it goes into an answer: its prose shortened to whole paragraphs within
/// the budget, as a block quote, and its code blocks (up to [`CODE_BUDGET`] each) whole, as
/// written, between them. A code block the search result cut off (its fence never closes) is
/// left out: half a snippet would mislead.
fn quote(content: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut prose = 0;
    let mut left_out = false;
    for block in blocks(content) {
        match block {
            Block::Code { text, closed } => {
                if closed && text.chars().count() <= CODE_BUDGET {
                    parts.push(text);
                } else {
                    left_out = true;
                }
            }
            Block::Prose(text) => {
                if text.starts_with('|') || text.starts_with('<') {
                    continue;
                }
                let size = text.chars().count();
                if prose > 0 && prose + size > QUOTE_BUDGET {
                    break;
                }
                let text = if size > QUOTE_BUDGET {
                    let cut: String = text.chars().take(QUOTE_BUDGET).collect();
                    format!("{} …", cut.rsplit_once(' ').map(|(a, _)| a).unwrap_or(&cut))
                } else {
                    text
                };
                prose += size;
                parts.push(block_quote(&text));
                if prose >= QUOTE_BUDGET {
                    break;
                }
            }
        }
    }
    if left_out {
        parts.push("> (A longer code example is on the page.)".into());
    }
    if parts.is_empty() {
        return "> (Open the page to see this section.)".into();
    }
    parts.join("\n\n")
}

fn block_quote(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.trim().is_empty() {
                ">".to_string()
            } else {
                format!("> {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

enum Block {
    /// A paragraph of text, trimmed.
    Prose(String),
    /// A fenced code block with its fences; `closed` unless the text ended inside it.
    Code { text: String, closed: bool },
}

/// The section split into paragraphs and fenced code blocks, in order.
fn blocks(content: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut code: Option<(String, Vec<&str>)> = None;
    let flush = |paragraph: &mut Vec<&str>, out: &mut Vec<Block>| {
        let text = paragraph.join("\n").trim().to_string();
        if !text.is_empty() {
            out.push(Block::Prose(text));
        }
        paragraph.clear();
    };
    for line in content.lines() {
        let trimmed = line.trim_start();
        match &mut code {
            Some((fence, lines)) => {
                lines.push(line);
                if trimmed.starts_with(fence.as_str()) && trimmed.trim_end() == fence.as_str() {
                    out.push(Block::Code {
                        text: lines.join("\n"),
                        closed: true,
                    });
                    code = None;
                }
            }
            None if trimmed.starts_with("```") || trimmed.starts_with("~~~") => {
                flush(&mut paragraph, &mut out);
                let marker = trimmed.chars().next().unwrap_or('`');
                let fence: String = trimmed.chars().take_while(|c| *c == marker).collect();
                code = Some((fence, vec![line]));
            }
            None if trimmed.is_empty() => flush(&mut paragraph, &mut out),
            None => paragraph.push(line),
        }
    }
    flush(&mut paragraph, &mut out);
    if let Some((_, lines)) = code {
        out.push(Block::Code {
            text: lines.join("\n"),
            closed: false,
        });
    }
    out
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
    crate::docs::text::capitalized(&title, "New thread")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::prompt::tool_specs;
    use crate::test_support::assert_contains;

    fn run(messages: &[ChatMessage]) -> Reply {
        respond(messages, tool_specs())
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
        assert_contains(&text, "[Button › Usage](/docs/button.md#usage)");
        assert!(text.contains("> Use a button for actions."), "{text}");
        // The code block is quoted whole, as written, between the paragraphs.
        assert_contains(
            &text,
            "> Use a button for actions.\n\n```js\ncode\n```\n\n> More text.",
        );
    }

    #[test]
    fn code_blocks_are_whole_or_left_out_never_cut() {
        let cut_off = quote("Add the tag:\n\n```html\n<script src=\"x\"></script>\n");
        assert!(!cut_off.contains("<script"), "{cut_off}");
        assert_contains(&cut_off, "longer code example is on the page");
        let long = format!("Intro.\n\n```js\n{}\n```", "let x = 1;\n".repeat(400));
        let quoted = quote(&long);
        assert!(!quoted.contains("let x"), "{quoted}");
        let tilde = quote("Run it:\n\n~~~sh\ncargo run\n```\nstill code\n~~~\n\nDone.");
        assert_contains(&tilde, "~~~sh\ncargo run\n```\nstill code\n~~~");
        assert!(tilde.ends_with("> Done."), "{tilde}");
    }

    #[test]
    fn answers_from_the_results_the_run_searched_first() {
        let output = serde_json::json!({"results": [
            {"title": "Button", "heading": "Usage", "url": "/docs/button.md#usage", "content": "Use a button for actions."},
            {"title": "Anchor", "heading": "Anchor", "url": "/docs/anchor.md#anchor", "content": "Links go places."},
        ]})
        .to_string();
        let system = |covered| {
            ChatMessage::System(crate::models::prompt::instructions_with(
                "x", &output, covered,
            ))
        };
        let question = ChatMessage::User("How do buttons work?".into());
        let Reply::Answer(text) = run(&[system(true), question.clone()]) else {
            panic!("no second search: the results are there")
        };
        assert!(text.contains("> Use a button for actions."), "{text}");
        let Reply::Answer(text) = run(&[system(false), question]) else {
            panic!()
        };
        assert_eq!(
            text,
            "The docs don't cover “How do buttons work?”, so I can't answer it from them. \
             The closest pages: [Button](/docs/button.md), [Anchor](/docs/anchor.md)."
        );
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
    fn answers_come_in_pieces_that_add_up_to_the_answer() {
        let text = "Use the `Button`.\n\n```js\nlet a = 1;\n```\n\nDone, then more words here.";
        let parts: Vec<&str> = pieces(text).collect();
        assert!(parts.len() > 5, "{parts:?}");
        assert_eq!(parts.concat(), text);
        assert!(parts.iter().all(|p| !p.is_empty()));
    }

    #[tokio::test]
    async fn the_stream_writes_what_the_answer_says() {
        let output = serde_json::json!({"results": [
            {"title": "Button", "heading": "Usage", "url": "/docs/button.md#usage", "content": "Use a button for actions."},
        ]})
        .to_string();
        let messages = [
            ChatMessage::User("How do buttons work?".into()),
            ChatMessage::Tool {
                call_id: "c".into(),
                content: output,
            },
        ];
        let written = std::sync::Mutex::new(Vec::<String>::new());
        let sink = |piece: &str| written.lock().unwrap().push(piece.to_string());
        let done = OfflineModel
            .stream(&messages, tool_specs(), &sink)
            .await
            .unwrap();
        let Reply::Answer(text) = done.reply else {
            panic!()
        };
        let written = written.into_inner().unwrap();
        assert!(written.len() > 3);
        assert_eq!(written.concat(), text);
    }

    #[test]
    fn answers_are_deterministic() {
        let m = [ChatMessage::User("Same question".into())];
        assert_eq!(run(&m), run(&m));
    }
}
