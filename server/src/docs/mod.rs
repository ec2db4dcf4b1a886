//! Documentation search: the pages of `DOCS_DIR` split into sections, the sections into
//! overlapping passages of about [`PASSAGE_WORDS`] words, all held in memory and ranked with
//! BM25F (title, heading path and passage text; English stop words and stemming). A section
//! scores as its best passage, plus a share of its whole page's score.
pub mod chunk;
pub mod coverage;
pub mod embed;
pub mod eval;
pub mod live;
pub mod rank;
pub mod text;

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use serde::Serialize;

pub use chunk::{Page, Section};

/// Longest passage in words (whole paragraphs; a longer paragraph is a passage of its own).
/// On the Paste questions (page-level R@5): whole sections 0.847, passages of 50–60 words 0.900,
/// 80–100 words 0.880, 150 words 0.870–0.880.
pub const PASSAGE_WORDS: usize = 60;

/// How much of the whole page's BM25 score is added to each of its sections: it lifts pages
/// that are about the question as a whole over one stray passage elsewhere (R@5 0.890 → 0.900,
/// MRR@10 0.898 → 0.900 on the Paste questions; 0.5 and 0.7 rank a little worse).
const PAGE_WEIGHT: f32 = 0.3;

/// Longest section text handed to the model or the API, in characters.
const CONTENT_BUDGET: usize = 1_500;

/// How much the words of a thread's earlier questions count in the search of a question, the
/// newest first (the question's own words count 1). A follow-up ("Can the columns be
/// sorted?") may name its subject only in the questions before it; weighed lower, those words
/// find the subject's pages without outvoting a question that changes the subject. A question
/// that reads as a follow-up weighs them as [`FOLLOW_UP_WEIGHTS`] (measured on the follow-up
/// set and the dev questions: `docs-eval`, README "Search first").
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
fn context_weights(text: &str) -> [f32; 2] {
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
    base_url: Option<String>,
    pub stats: IndexStats,
}

impl DocsIndex {
    /// Reads and indexes every `.md`/`.mdx` page under `dir`.
    pub fn build(dir: &Path, base_url: Option<String>) -> anyhow::Result<Self> {
        let started = Instant::now();
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
        Ok(Self::from_pages(pages, base_url, started))
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

    /// [`Self::ranked_bm25`] (at least the best `keep`), fused by reciprocal rank with the
    /// sections nearest to the query's vector when both vectors are there.
    fn ranked(
        &self,
        query: &Query,
        vector: Option<&[f32]>,
        keep: usize,
    ) -> Vec<(usize, f32, usize)> {
        let (Some(vector), Some(vectors)) = (vector, self.vectors.get()) else {
            return self.ranked_bm25(query, keep);
        };
        // Fusion reads every lexical rank: a section far down that list can still win on its
        // vector.
        let lexical = self.ranked_bm25(query, usize::MAX);
        let mut dense: Vec<(usize, f32)> = vectors
            .iter()
            .enumerate()
            .filter(|(_, v)| v.len() == vector.len())
            .map(|(s, v)| (s, embed::dot(v, vector)))
            .collect();
        best_first(&mut dense, 200, |a, b| {
            b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
        });
        let mut fused: std::collections::HashMap<usize, (f32, usize)> =
            std::collections::HashMap::new();
        for (rank, &(s, _, passage)) in lexical.iter().enumerate() {
            fused.insert(s, (1.0 / (embed::RRF_K + 1.0 + rank as f32), passage));
        }
        for (rank, &(s, _)) in dense.iter().enumerate() {
            fused.entry(s).or_insert((0.0, usize::MAX)).0 +=
                1.0 / (embed::RRF_K + 1.0 + rank as f32);
        }
        let mut out: Vec<(usize, f32, usize)> = fused
            .into_iter()
            .map(|(s, (score, p))| (s, score, p))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// The best `keep` sections that match, best first: (section, score, best passage).
    fn ranked_bm25(&self, query: &Query, keep: usize) -> Vec<(usize, f32, usize)> {
        let terms = self.terms(query);
        if terms.is_empty() {
            return Vec::new();
        }
        let mut passage_scores = vec![0f32; self.passage_index.len()];
        self.passage_index
            .score_weighted(&terms, &mut passage_scores);
        let mut best = vec![(0f32, usize::MAX); self.sections.len()];
        for (i, &score) in passage_scores.iter().enumerate() {
            let section = self.passages[i].section;
            if score > best[section].0 {
                best[section] = (score, i);
            }
        }
        let mut page_scores = vec![0f32; self.page_index.len()];
        self.page_index.score_weighted(&terms, &mut page_scores);
        let mut ranked: Vec<(usize, f32, usize)> = best
            .into_iter()
            .enumerate()
            .filter(|(_, (score, _))| *score > 0.0)
            .map(|(s, (score, passage))| {
                let page = self.sections[s].0;
                (s, score + PAGE_WEIGHT * page_scores[page], passage)
            })
            .collect();
        best_first(&mut ranked, keep, |a, b| {
            b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
        });
        ranked
    }

    /// The best sections for `query`, best first. Any text is a valid query: it is only split
    /// into words, never parsed for operators or fields.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        self.search_with(&Query::new(query), None, limit)
    }

    /// [`Self::search`] for a [`Query`], with the query's vector when embeddings are on.
    pub fn search_with(&self, query: &Query, vector: Option<&[f32]>, limit: usize) -> Vec<Hit> {
        if limit == 0 {
            return Vec::new();
        }
        self.ranked(query, vector, limit)
            .into_iter()
            .take(limit)
            .map(|(s, score, passage)| self.hit(s, score, passage))
            .collect()
    }

    /// The pages for `query`, best first, each ranked by its best section.
    pub fn search_pages(&self, query: &str, limit: usize) -> Vec<String> {
        self.search_pages_with(&Query::new(query), None, limit)
    }

    /// [`Self::search_pages`] for a [`Query`], with the query's vector when embeddings are on.
    pub fn search_pages_with(
        &self,
        query: &Query,
        vector: Option<&[f32]>,
        limit: usize,
    ) -> Vec<String> {
        let mut pages: Vec<String> = Vec::with_capacity(limit);
        for (s, _, _) in self.ranked(query, vector, usize::MAX) {
            let path = &self.pages[self.sections[s].0].path;
            if !pages.contains(path) {
                pages.push(path.clone());
                if pages.len() == limit {
                    break;
                }
            }
        }
        pages
    }

    /// A result: the section from its best passage on, within the budget (a long section's
    /// answer is often past the first 1,500 characters).
    fn hit(&self, s: usize, score: f32, passage: usize) -> Hit {
        let (p, i) = self.sections[s];
        let page = &self.pages[p];
        let section = &page.sections[i];
        let start = self.passages.get(passage).map_or(0, |x| x.start);
        let content = if start == 0 || section.text.chars().count() <= CONTENT_BUDGET {
            trim_to(&section.text, CONTENT_BUDGET)
        } else {
            format!("… {}", trim_to(&section.text[start..], CONTENT_BUDGET))
        };
        Hit {
            path: page.path.clone(),
            title: page.title.clone(),
            heading: section.heading.clone(),
            trail: section.trail(&page.title),
            slug: section.slug.clone(),
            content,
            score,
            url: self.url_for(&page.path, &section.slug),
        }
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

/// What the model is handed: the best `results` hits with at most `per_page` of one page, so
/// one long page does not crowd out the others.
pub fn spread(hits: Vec<Hit>, results: usize, per_page: usize) -> Vec<Hit> {
    let mut taken: std::collections::HashMap<String, usize> = Default::default();
    hits.into_iter()
        .filter(|hit| {
            let n = taken.entry(hit.path.clone()).or_default();
            *n += 1;
            *n <= per_page
        })
        .take(results)
        .collect()
}

/// Cuts `text` to at most `budget` characters at a word boundary, marking the cut.
fn trim_to(text: &str, budget: usize) -> String {
    if text.chars().count() <= budget {
        return text.to_string();
    }
    let cut: String = text.chars().take(budget).collect();
    let cut = cut
        .rsplit_once(char::is_whitespace)
        .map(|(a, _)| a)
        .unwrap_or(&cut);
    format!("{cut} …")
}

/// Keeps the first `keep` items of `items` in the order `order` (a total order), sorted. With
/// 100,000 sections a common word matches most of them, and sorting them all was most of a
/// search (issue 15: p99 14 ms → see the README); selecting the best first is linear.
fn best_first<T>(items: &mut Vec<T>, keep: usize, order: impl Fn(&T, &T) -> std::cmp::Ordering) {
    if keep == 0 {
        items.clear();
        return;
    }
    if items.len() > keep {
        items.select_nth_unstable_by(keep - 1, &order);
        items.truncate(keep);
    }
    items.sort_unstable_by(order);
}

/// Largest docs page indexed; a bigger file (a generated dump, a mistake) is skipped with a
/// warning rather than read into memory.
pub const MAX_PAGE_BYTES: u64 = 2 * 1024 * 1024;

/// The Markdown and MDX files under `root`, sorted; hidden folders and `node_modules` skipped.
/// Links are followed, each folder once (by its real path), so a link loop ends the walk of
/// that branch instead of running forever; files over [`MAX_PAGE_BYTES`] are left out.
pub fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(real) = std::fs::canonicalize(&dir) else {
            continue;
        };
        if !seen.insert(real) {
            tracing::warn!(dir = %dir.display(), "docs folder already walked (a link loop?); skipped");
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('.') || name == "node_modules" {
                continue;
            }
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(path);
            } else if name.ends_with(".md") || name.ends_with(".mdx") {
                if meta.len() > MAX_PAGE_BYTES {
                    tracing::warn!(
                        page = %path.display(),
                        bytes = meta.len(),
                        limit = MAX_PAGE_BYTES,
                        "docs page too large; skipped"
                    );
                    continue;
                }
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
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

    /// The shared Paste corpus (beside this checkout, as in CI); a test that needs it fails
    /// when it is missing rather than passing without looking.
    fn corpus() -> PathBuf {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/paste-docs");
        assert!(
            root.is_dir(),
            "the shared Paste corpus is missing: {}",
            root.display()
        );
        root
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
