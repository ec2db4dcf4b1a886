//! What a search looks for: the question's words, and a follow-up's earlier questions at lower
//! weights.

/// How much the words of a thread's earlier questions count in the search of a question, the
/// newest first (the question's own words count 1). A follow-up ("Can the columns be
/// sorted?") may name its subject only in the questions before it; weighed lower, those words
/// find the subject's pages without outvoting a question that changes the subject. A question
/// that reads as a follow-up weighs them as [`FOLLOW_UP_WEIGHTS`] (measured on the follow-up
/// set and the dev questions: `docs-eval`, docs/benchmarks.md "Search first").
pub const CONTEXT_WEIGHTS: [f32; 2] = [0.5, 0.25];

/// How much the words of the earlier questions count when the question reads as a follow-up:
/// short, and pointing back ("it", "they", "that one", "And …", "What about …").
pub const FOLLOW_UP_WEIGHTS: [f32; 2] = [1.0, 0.5];

/// Words by which a question points back at an earlier one.
const REFERRING: &[&str] = &[
    "it", "its", "they", "them", "their", "this", "that", "these", "those", "one", "ones",
];

/// Longest question (in words) read as a follow-up: a question that names its own subject is
/// longer, and its "it" is its own (measured on the Paste dev questions, none of which needs
/// context: their referring words sit in questions of 11 to 25 words).
const FOLLOW_UP_WORDS: usize = 12;

/// The weights of a question's context: [`FOLLOW_UP_WEIGHTS`] for a question that reads as a
/// follow-up, else [`CONTEXT_WEIGHTS`].
pub(super) fn context_weights(text: &str) -> [f32; 2] {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let points_back = words.iter().any(|w| REFERRING.contains(w))
        || words.first() == Some(&"and")
        || lower.contains("what about")
        || lower.contains("how about");
    if points_back && words.len() <= FOLLOW_UP_WORDS {
        FOLLOW_UP_WEIGHTS
    } else {
        CONTEXT_WEIGHTS
    }
}

/// What a search looks for: a question, and the thread's earlier questions, newest first.
#[derive(Clone, Copy, Debug)]
pub struct Query<'a> {
    pub text: &'a str,
    pub context: &'a [String],
}

impl<'a> Query<'a> {
    /// A question on its own.
    pub fn new(text: &'a str) -> Self {
        Self { text, context: &[] }
    }

    /// A question with the thread's earlier questions (newest first).
    pub fn in_context(text: &'a str, context: &'a [String]) -> Self {
        Self { text, context }
    }
}
