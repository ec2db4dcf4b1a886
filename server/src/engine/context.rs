//! What a run sends the model, bounded: the history is trimmed to `MODEL_CONTEXT_TOKENS`, and
//! what a call spent is counted for the daily budgets.
use crate::models::{ChatMessage, Completion, message_tokens as size, reply_tokens};

/// Drops the oldest parts of `conversation` until it fits in `limit` tokens (0: no limit).
///
/// Never dropped: the instructions (first), the newest question, and the newest tool round of
/// this run. Dropped oldest first: earlier messages of the thread, then earlier tool rounds of
/// this run — a round (the assistant's tool calls and their outputs) goes as a whole, since a
/// model API refuses a tool output whose call is missing. What cannot be dropped is sent even
/// when it alone is over the limit: the question must reach the model.
pub fn trim(conversation: &mut Vec<ChatMessage>, limit: u64) {
    if limit == 0 {
        return;
    }
    let mut total: u64 = conversation.iter().map(size).sum();
    while total > limit {
        let Some(range) = oldest_droppable(conversation) else {
            return;
        };
        total -= conversation[range.clone()].iter().map(size).sum::<u64>();
        conversation.drain(range);
    }
}

/// The oldest part that may go: a message before the newest question, or else the first tool
/// round after it when a later round exists.
fn oldest_droppable(conversation: &[ChatMessage]) -> Option<std::ops::Range<usize>> {
    let question = conversation
        .iter()
        .rposition(|m| matches!(m, ChatMessage::User(_)))?;
    if question > 1 {
        return Some(1..2);
    }
    let rounds: Vec<usize> = (question + 1..conversation.len())
        .filter(|&i| matches!(conversation[i], ChatMessage::Assistant { .. }))
        .collect();
    match rounds.as_slice() {
        [first, second, ..] => Some(*first..*second),
        _ => None,
    }
}

/// The tokens one call cost: as the model API reported them, or estimated from what was sent
/// and what came back when it reported none.
pub fn spent(completion: &Completion, sent: &[ChatMessage]) -> i64 {
    if completion.usage.total_tokens > 0 {
        return completion.usage.total_tokens as i64;
    }
    (sent.iter().map(size).sum::<u64>() + reply_tokens(&completion.reply)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Reply, ToolCall, Usage};

    fn words(n: usize) -> String {
        "word ".repeat(n)
    }

    fn round(id: &str, output: &str) -> [ChatMessage; 2] {
        [
            ChatMessage::Assistant {
                content: None,
                tool_calls: vec![ToolCall {
                    id: id.into(),
                    name: "get_relevant_docs".into(),
                    arguments: "{}".into(),
                }],
            },
            ChatMessage::Tool {
                call_id: id.into(),
                content: output.into(),
            },
        ]
    }

    #[test]
    fn the_oldest_history_goes_first_and_the_instructions_and_question_stay() {
        // 100 tokens each (500 characters).
        let mut c = vec![
            ChatMessage::System(words(100)),
            ChatMessage::User(format!("first {}", words(99))),
            ChatMessage::Assistant {
                content: Some(words(100)),
                tool_calls: vec![],
            },
            ChatMessage::User(format!("newest {}", words(99))),
        ];
        trim(&mut c, 250);
        assert_eq!(c.len(), 2, "{c:?}");
        assert!(matches!(&c[0], ChatMessage::System(_)));
        assert!(matches!(&c[1], ChatMessage::User(t) if t.starts_with("newest")));
        let mut small = c.clone();
        trim(&mut small, 10);
        assert_eq!(
            small, c,
            "the instructions and the question are never dropped"
        );
    }

    #[test]
    fn tool_outputs_count_and_earlier_rounds_go_whole() {
        let mut c = vec![
            ChatMessage::System("be brief".into()),
            ChatMessage::User("old question".into()),
            ChatMessage::User("question".into()),
        ];
        c.extend(round("a", &words(400)));
        c.extend(round("b", &words(400)));
        trim(&mut c, 500);
        assert_eq!(c.len(), 4, "{c:?}");
        assert!(matches!(&c[1], ChatMessage::User(t) if t == "question"));
        assert!(matches!(&c[3], ChatMessage::Tool { call_id, .. } if call_id == "b"));
        let mut unlimited = c.clone();
        trim(&mut unlimited, 0);
        assert_eq!(unlimited, c);
    }

    #[test]
    fn spent_tokens_are_reported_or_estimated() {
        let sent = [ChatMessage::User("x".repeat(400))];
        let reported = Completion {
            reply: Reply::Answer("y".repeat(40)),
            usage: Usage {
                prompt_tokens: 7,
                completion_tokens: 3,
                total_tokens: 10,
            },
        };
        assert_eq!(spent(&reported, &sent), 10);
        let unreported = Completion {
            usage: Usage::default(),
            ..reported
        };
        assert_eq!(spent(&unreported, &sent), 110);
    }
}
