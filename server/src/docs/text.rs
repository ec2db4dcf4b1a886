//! Words for search: split at anything not a letter or digit, lower-cased, English stop words
//! dropped ("how do I …" says nothing about the docs) and stemmed with Snowball's English
//! stemmer ("sizes", "sized" → "size").
use frostem::{Algorithm, Stemmer};

/// Lucene's English stop words. A longer list (Snowball's, with "how", "what", "should") ranked
/// no better on the Paste questions: BM25's idf already gives such words little weight.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
];

/// `text` with its first letter upper-cased, or `empty` when there is no text.
pub fn capitalized(text: &str, empty: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
        None => empty.to_string(),
    }
}

/// Longer words (in bytes) are not words: hashes, data URIs, minified code.
const MAX_WORD_BYTES: usize = 40;

#[derive(Clone, Copy)]
pub struct Analyzer {
    stemmer: Stemmer,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self {
            stemmer: Stemmer::new(Algorithm::English),
        }
    }
}

impl Analyzer {
    /// The terms of `text`, in order.
    pub fn terms(&self, text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty() && w.len() < MAX_WORD_BYTES)
            .filter_map(|w| {
                let lower = w.to_lowercase();
                if STOP_WORDS.contains(&lower.as_str()) {
                    return None;
                }
                Some(self.stemmer.stem(&lower).into_owned())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_split_lowered_stopped_and_stemmed() {
        let a = Analyzer::default();
        assert_eq!(
            a.terms("How do I set the Font-Sizes of Theme.Provider? It's sized…"),
            vec![
                "how", "do", "i", "set", "font", "size", "theme", "provid", "s", "size"
            ]
        );
        assert_eq!(
            a.terms("Ünïcode WÖRTER naïve"),
            vec!["ünïcode", "wörter", "naïv"]
        );
        assert!(a.terms(&"x".repeat(40)).is_empty());
        assert!(a.terms("  ,.;  ").is_empty());
    }
}
