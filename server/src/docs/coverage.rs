//! Whether the docs cover a question: the rule behind the docs team's "Not covered" list.
//!
//! **Rule:** a question is not covered when no more than half of its own words (stop words and
//! question words such as "how" or "can" aside, compared stemmed) appear in the three docs
//! sections that search ranks best for it, or when the search finds nothing.
//!
//! A search score alone does not separate the two kinds: on the Paste corpus the best section
//! for "How do I bake sourdough bread?" scores 7.4 and one for a real Button question 7.6
//! (BM25 rewards one rare word as much as several common ones). The share of the question's
//! words found does: the bread question's best sections hold one of its three words (none of
//! "bake", "sourdough"), real questions most of theirs.
use std::collections::HashSet;

use super::DocsIndex;

/// How many of the best sections are read.
const BEST: usize = 3;
/// At or below this share of the question's words found, the question is not covered.
pub const THRESHOLD: f32 = 0.5;

/// Words of a question that say how it is asked, not what about (on top of the search's stop
/// words).
const QUESTION_WORDS: &[&str] = &[
    "how", "what", "whats", "why", "when", "where", "which", "who", "do", "does", "did", "can",
    "could", "should", "would", "may", "might", "must", "i", "im", "me", "my", "we", "our", "us",
    "you", "your", "am", "have", "has", "had", "get", "way", "any", "some", "about", "please",
    "need", "want", "there", "s", "t", "don", "doesn", "isn", "ll", "ve", "re",
];

/// What the rule found for one question.
#[derive(Clone, Debug, PartialEq)]
pub struct Coverage {
    /// The question's words (as written, lower-cased), each once.
    pub words: Vec<String>,
    /// Those the best sections do not contain.
    pub missing: Vec<String>,
    /// Whether the search found any section.
    pub found_any: bool,
}

impl Coverage {
    /// Share of the question's words the best sections contain (1 for a question with none).
    pub fn share(&self) -> f32 {
        if self.words.is_empty() {
            return 1.0;
        }
        1.0 - self.missing.len() as f32 / self.words.len() as f32
    }

    /// A question with no words to look up ("hi", "thanks") is not a gap in the docs.
    pub fn covered(&self) -> bool {
        self.words.is_empty() || (self.found_any && self.share() > THRESHOLD)
    }

    /// Why the question is listed as not covered, for people; `None` when it is covered.
    pub fn why(&self) -> Option<String> {
        if self.covered() {
            return None;
        }
        if !self.found_any {
            return Some("The docs search found no section for it.".into());
        }
        let found = self.words.len() - self.missing.len();
        Some(format!(
            "The best docs sections contain {found} of its {} words; missing: {}.",
            self.words.len(),
            self.missing.join(", ")
        ))
    }
}

impl DocsIndex {
    /// How well the docs cover `question` (see the module's rule).
    pub fn coverage(&self, question: &str) -> Coverage {
        self.coverage_in_context(question, &[])
    }

    /// How well the docs cover `question` asked after `context` (the thread's earlier
    /// questions, newest first): the question's own words, looked up in the best sections of
    /// the search that search-first runs for it, so a follow-up ("And in a new tab?") is read
    /// against its subject's pages.
    pub fn coverage_in_context(&self, question: &str, context: &[String]) -> Coverage {
        let mut seen = HashSet::new();
        let mut words = Vec::new();
        for word in question.split(|c: char| !c.is_alphanumeric()) {
            let lower = word.to_lowercase();
            if lower.is_empty() || QUESTION_WORDS.contains(&lower.as_str()) {
                continue;
            }
            // A stop word of the search has no term; a word of several terms ("x-y" is two
            // words already) keeps its first.
            let Some(term) = self.analyzer.terms(&lower).into_iter().next() else {
                continue;
            };
            if seen.insert(term.clone()) {
                words.push((lower, term));
            }
        }
        let best: Vec<usize> = self
            .ranked_bm25(&super::Query::in_context(question, context), BEST)
            .into_iter()
            .map(|(s, _, _)| s)
            .collect();
        let mut terms: HashSet<String> = HashSet::new();
        for &s in &best {
            let (p, i) = self.sections[s];
            let page = &self.pages[p];
            let section = &page.sections[i];
            for text in [&page.title, &section.heading, &section.text] {
                terms.extend(self.analyzer.terms(text));
            }
        }
        let missing = words
            .iter()
            .filter(|(_, term)| !terms.contains(term))
            .map(|(word, _)| word.clone())
            .collect();
        Coverage {
            words: words.into_iter().map(|(word, _)| word).collect(),
            missing,
            found_any: !best.is_empty(),
        }
    }
}

impl DocsIndex {
    /// The docs pages (paths) an answer links to, each once, in the order it links them:
    /// links to this app's `/docs/…` or to the configured docs site, anchors and queries aside.
    pub fn cited_pages(&self, answer: &str) -> Vec<String> {
        use pulldown_cmark::{Event, Parser, Tag};
        let by_url: std::collections::HashMap<String, &str> = self
            .pages
            .iter()
            .map(|p| (self.url_for(&p.path, ""), p.path.as_str()))
            .collect();
        let mut cited: Vec<String> = Vec::new();
        for event in Parser::new(answer) {
            let Event::Start(Tag::Link { dest_url, .. }) = event else {
                continue;
            };
            let url = dest_url.split(['#', '?']).next().unwrap_or_default();
            let url = url.trim_end_matches('/');
            let path = by_url
                .get(url)
                .or_else(|| by_url.get(&format!("{url}/")))
                .copied();
            if let Some(path) = path
                && !cited.iter().any(|c| c == path)
            {
                cited.push(path.to_string());
            }
        }
        cited
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paste() -> DocsIndex {
        DocsIndex::build(&crate::test_support::paste_docs(), None).unwrap()
    }

    #[test]
    fn questions_the_docs_never_mention_are_not_covered_and_real_ones_are() {
        let index = paste();
        let bread = index.coverage("How do I bake sourdough bread?");
        assert!(!bread.covered(), "{bread:?}");
        let why = bread.why().unwrap();
        assert!(why.contains("sourdough"), "{why}");
        for question in [
            "How do I make a Button look destructive?",
            "Which props does the Modal take?",
            "How do I show a loading state in a Button?",
        ] {
            let c = index.coverage(question);
            assert!(c.covered(), "{question}: {c:?}");
            assert_eq!(c.why(), None);
        }
        for question in [
            "What is the capital of Mongolia?",
            "How do I renew my passport?",
            "How do I configure Kubernetes ingress for gRPC?",
        ] {
            let c = index.coverage(question);
            assert!(!c.covered(), "{question}: {c:?}");
        }
        // Greetings are no gap in the docs.
        assert!(index.coverage("Hi!").covered());
    }

    #[test]
    fn answers_cite_the_pages_they_link_to() {
        let index = paste();
        let button = index.url_for("components/button/index.mdx", "accessibility");
        let answer = format!(
            "See [Button]({button}) and [again](/docs/components/button/index.mdx), \
             [the card](/docs/components/card/index.mdx?x=1), [elsewhere](https://example.com/a) \
             and [a missing page](/docs/nothing.md)."
        );
        assert_eq!(
            index.cited_pages(&answer),
            ["components/button/index.mdx", "components/card/index.mdx"]
        );
    }

    /// Nearly every question of the dev set (each answered by the corpus) counts as covered
    /// (measured: 49 of 50; the lowest shares are 0.50, 0.56 and 0.56).
    #[test]
    fn the_paste_dev_questions_are_covered() {
        let index = paste();
        let path = crate::docs::eval::dev_questions();
        let questions = crate::docs::eval::load_questions(&path).unwrap();
        let covered = questions
            .iter()
            .filter(|q| index.coverage(&q.question).covered())
            .count();
        let share = covered as f64 / questions.len() as f64;
        assert!(share >= 0.9, "{covered} of {} covered", questions.len());
    }
}
