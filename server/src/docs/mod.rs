//! Documentation search: the pages of `DOCS_DIR` split into sections, the sections into
//! overlapping passages of about [`PASSAGE_WORDS`] words, all held in memory and ranked with
//! BM25F (title, heading path and passage text; English stop words and stemming). A section
//! scores as its best passage, plus a share of its whole page's score.
pub mod chunk;
pub mod coverage;
pub mod embed;
pub mod eval;
pub mod live;
mod llms;
mod query;
pub mod rank;
mod search;
pub mod text;
mod walk;

use std::{path::Path, time::Instant};

use serde::Serialize;

pub use chunk::{Page, Section};
use query::context_weights;
pub use query::{CONTEXT_WEIGHTS, FOLLOW_UP_WEIGHTS, Query};
pub use search::{PER_PAGE, RESULTS, spread};
pub use walk::{MAX_PAGE_BYTES, walk};

/// Longest passage in words (whole paragraphs; a longer paragraph is a passage of its own).
/// On the Paste questions (page-level R@5): whole sections 0.847, passages of 50–60 words 0.900,
/// 80–100 words 0.880, 150 words 0.870–0.880.
pub const PASSAGE_WORDS: usize = 60;

/// How much of the whole page's BM25 score is added to each of its sections: it lifts pages
/// that are about the question as a whole over one stray passage elsewhere (R@5 0.890 → 0.900,
/// MRR@10 0.898 → 0.900 on the Paste questions; 0.5 and 0.7 rank a little worse).
const PAGE_WEIGHT: f32 = 0.3;

impl<'a> Query<'a> {}

/// One search result (API.md's `docs-search` item, plus the link to the section).
#[derive(Clone, Debug, Serialize)]
pub struct Hit {
    pub path: String,
    pub title: String,
    pub heading: String,
    /// Where the section is: page title › enclosing headings › heading.
    pub trail: String,
    pub slug: String,
    pub content: String,
    pub score: f32,
    pub url: String,
}

/// What building the index found, for logs and benchmarks.
#[derive(Clone, Copy, Debug)]
pub struct IndexStats {
    pub pages: usize,
    pub sections: usize,
    pub passages: usize,
    pub build_ms: u128,
}

/// A run of whole paragraphs of one section.
struct Passage {
    /// Into `DocsIndex::sections`.
    section: usize,
    /// Byte offset in the section's text where the passage starts.
    start: usize,
}

pub struct DocsIndex {
    pages: Vec<Page>,
    /// (page, section) of every section, pages in order.
    sections: Vec<(usize, usize)>,
    passages: Vec<Passage>,
    passage_index: rank::Bm25f,
    /// One document per page (title, description, headings and text).
    page_index: rank::Bm25f,
    analyzer: text::Analyzer,
    /// Each section's unit vector, once the optional embeddings are made.
    vectors: std::sync::OnceLock<Vec<Vec<f32>>>,
    /// `llms.txt` and `llms-full.txt`, made when first asked for (`llms`).
    llms: std::sync::OnceLock<String>,
    llms_full: std::sync::OnceLock<String>,
    base_url: Option<String>,
    pub stats: IndexStats,
}

impl DocsIndex {
    /// Reads and indexes every `.md`/`.mdx` page under `dir`.
    pub fn build(dir: &Path, base_url: Option<String>) -> anyhow::Result<Self> {
        let started = Instant::now();
        Ok(Self::from_pages(read_folder(dir), base_url, started))
    }

    /// Indexes `pages` (a folder's, a site's, or both).
    pub fn of_pages(pages: Vec<Page>, base_url: Option<String>) -> Self {
        Self::from_pages(pages, base_url, Instant::now())
    }

    /// An index of no pages (until the first one is built).
    pub fn empty(base_url: Option<String>) -> Self {
        Self::from_pages(Vec::new(), base_url, Instant::now())
    }

    fn from_pages(pages: Vec<Page>, base_url: Option<String>, started: Instant) -> Self {
        let analyzer = text::Analyzer::default();
        let mut sections = Vec::new();
        let mut passages = Vec::new();
        let mut passage_builder = rank::Builder::default();
        let mut page_builder = rank::Builder::default();
        let none: Vec<String> = Vec::new();
        for (p, page) in pages.iter().enumerate() {
            let title = analyzer.terms(&page.title);
            let mut page_body = title.clone();
            if let Some(d) = &page.description {
                page_body.extend(analyzer.terms(d));
            }
            for (s, section) in page.sections.iter().enumerate() {
                let id = sections.len();
                sections.push((p, s));
                let mut trail = section.parents.join(" ");
                trail.push(' ');
                trail.push_str(&section.heading);
                let headings = analyzer.terms(&trail);
                page_body.extend(analyzer.terms(&section.heading));
                let mut paragraphs = chunk::paragraphs(&section.text);
                if s == 0
                    && let Some(d) = &page.description
                {
                    paragraphs.insert(0, (0, d.clone()));
                }
                // Each paragraph is analysed once; windows share its tokens.
                let tokens: Vec<Vec<String>> = paragraphs
                    .iter()
                    .map(|(_, text)| analyzer.terms(text))
                    .collect();
                for (a, b) in windows(&paragraphs, PASSAGE_WORDS) {
                    let body: Vec<String> = tokens[a..b].concat();
                    passage_builder.add([&title, &headings, &body]);
                    passages.push(Passage {
                        section: id,
                        start: paragraphs.get(a).map_or(0, |(start, _)| *start),
                    });
                }
                let skip = usize::from(s == 0 && page.description.is_some());
                for t in tokens.into_iter().skip(skip) {
                    page_body.extend(t);
                }
            }
            page_builder.add([&none, &none, &page_body]);
        }
        let stats = IndexStats {
            pages: pages.len(),
            sections: sections.len(),
            passages: passages.len(),
            build_ms: started.elapsed().as_millis(),
        };
        // Title, heading path and passage weigh the same: on the Paste dev questions boosting
        // titles and headings (2× and 1.5×, 3× and 2×) did not find more pages (docs-eval).
        Self {
            passage_index: passage_builder.build([1.0, 1.0, 1.0]),
            page_index: page_builder.build([1.0, 1.0, 1.0]),
            pages,
            sections,
            passages,
            analyzer,
            vectors: std::sync::OnceLock::new(),
            llms: std::sync::OnceLock::new(),
            llms_full: std::sync::OnceLock::new(),
            base_url,
            stats,
        }
    }

    /// The query's distinct analysed terms, weighted: the question's own at 1, those only the
    /// earlier questions of its thread hold at [`CONTEXT_WEIGHTS`] (the newest first).
    fn terms(&self, query: &Query) -> Vec<(String, f32)> {
        let mut terms: Vec<(String, f32)> = Vec::new();
        let texts = std::iter::once((query.text, 1.0)).chain(
            query
                .context
                .iter()
                .zip(context_weights(query.text))
                .map(|(text, weight)| (text.as_str(), weight)),
        );
        for (text, weight) in texts {
            for term in self.analyzer.terms(text) {
                if !terms.iter().any(|(t, _)| *t == term) {
                    terms.push((term, weight));
                }
            }
        }
        terms
    }

    /// What the optional embeddings embed: each section with its place in the docs.
    pub fn section_texts(&self) -> Vec<String> {
        self.sections
            .iter()
            .map(|&(p, s)| {
                let page = &self.pages[p];
                embed::section_text(&page.title, &page.sections[s])
            })
            .collect()
    }

    /// Attaches the sections' vectors (in [`Self::section_texts`] order); false when they do
    /// not fit or are already set.
    pub fn set_vectors(&self, vectors: Vec<Vec<f32>>) -> bool {
        vectors.len() == self.sections.len() && self.vectors.set(vectors).is_ok()
    }

    pub fn has_vectors(&self) -> bool {
        self.vectors.get().is_some()
    }

    /// Every indexed page, in path order.
    pub fn pages(&self) -> &[Page] {
        &self.pages
    }

    /// A page by its path relative to the docs folder.
    pub fn page(&self, path: &str) -> Option<&Page> {
        self.pages.iter().find(|p| p.path == path)
    }

    /// Where a person reads a section: the configured docs site, or this app's `/docs/…`.
    pub fn url_for(&self, path: &str, slug: &str) -> String {
        let anchor = if slug.is_empty() {
            String::new()
        } else {
            format!("#{slug}")
        };
        // A crawled page has its own address.
        if path.starts_with("https://") || path.starts_with("http://") {
            return format!("{path}{anchor}");
        }
        match &self.base_url {
            Some(base) => {
                let route = path
                    .trim_end_matches(".mdx")
                    .trim_end_matches(".md")
                    .trim_end_matches("index")
                    .trim_end_matches('/');
                format!("{base}/{route}{anchor}")
            }
            None => format!("/docs/{path}{anchor}"),
        }
    }
}

/// Every `.md`/`.mdx` page under `dir`, parsed (an unreadable one is skipped with a warning).
pub fn read_folder(dir: &Path) -> Vec<Page> {
    let mut pages = Vec::new();
    for path in walk(dir) {
        let source = match std::fs::read_to_string(&path) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "skipping unreadable docs page");
                continue;
            }
        };
        let rel = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        pages.push(chunk::parse_page(&rel, &source));
    }
    pages
}

/// Windows of whole paragraphs of at most `words` words (a longer paragraph alone), one
/// starting at each paragraph, skipping a window that ends where the previous one did. Returns
/// `[start, end)` paragraph ranges; a section with no paragraphs still gets one (empty) window
/// so its heading is searchable.
fn windows(paragraphs: &[(usize, String)], words: usize) -> Vec<(usize, usize)> {
    let counts: Vec<usize> = paragraphs
        .iter()
        .map(|(_, t)| t.split_whitespace().count())
        .collect();
    if counts.iter().sum::<usize>() <= words {
        return vec![(0, paragraphs.len())];
    }
    let mut out = Vec::new();
    let mut last_end = 0;
    for a in 0..paragraphs.len() {
        let (mut b, mut total) = (a, 0);
        while b < paragraphs.len() && (total == 0 || total + counts[b] <= words) {
            total += counts[b];
            b += 1;
        }
        if b > last_end {
            out.push((a, b));
            last_end = b;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::search::trim_to;
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_walk_survives_link_loops_and_skips_huge_pages() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("guide")).unwrap();
        std::fs::write(root.join("guide/a.md"), "# A\n\nText.\n").unwrap();
        std::os::unix::fs::symlink(root, root.join("guide/loop")).unwrap();
        std::os::unix::fs::symlink(root.join("guide"), root.join("again")).unwrap();
        let huge = std::fs::File::create(root.join("huge.md")).unwrap();
        huge.set_len(MAX_PAGE_BYTES + 1).unwrap();
        let found = walk(root);
        // The page once (through whichever link came first), the loop cut, the huge file out.
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].ends_with("a.md"), "{found:?}");
    }

    fn corpus() -> PathBuf {
        crate::test_support::paste_docs()
    }

    #[test]
    fn finds_the_page_that_answers_on_the_paste_corpus() {
        let root = corpus();
        let index = DocsIndex::build(&root, None).unwrap();
        assert!(index.stats.pages > 250);
        let hits = index.search(
            "How do I make a card stretch to the full height of its parent?",
            5,
        );
        assert!(
            hits.iter().any(|h| h.path == "components/card/index.mdx"),
            "{hits:?}"
        );
        assert!(hits[0].url.starts_with("/docs/"));
    }

    #[test]
    fn any_text_is_a_valid_query() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.md"),
            "# Alpha\n\nThe alpha page about buttons.\n",
        )
        .unwrap();
        let index = DocsIndex::build(dir.path(), Some("https://docs.example.com".into())).unwrap();
        for q in [
            "",
            "   ",
            "title:x AND (",
            "\"unbalanced",
            "C++ <script>",
            "NOT OR AND",
        ] {
            let _ = index.search(q, 5);
        }
        let hits = index.search("buttons", 5);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].title, "Alpha");
        assert_eq!(hits[0].url, "https://docs.example.com/a");
    }

    #[test]
    fn long_sections_are_trimmed_at_a_word() {
        let long = "word ".repeat(1000);
        let t = trim_to(&long, 100);
        assert!(t.chars().count() <= 102);
        assert!(t.ends_with('…'));
    }
}
