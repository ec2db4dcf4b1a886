//! Documentation search: the pages of `DOCS_DIR` split into sections and indexed in memory
//! with tantivy (BM25 over title, heading and body; English stop words and stemming).
pub mod chunk;
pub mod eval;

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use serde::Serialize;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument,
    collector::TopDocs,
    doc,
    query::QueryParser,
    schema::{
        Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, Value,
    },
};

pub use chunk::{Page, Section};

/// English words: lower-cased, stop words dropped ("how do I …" says nothing about the
/// docs), stemmed.
const ANALYZER: &str = "en_stop_stem";

fn analyzer() -> tantivy::tokenizer::TextAnalyzer {
    use tantivy::tokenizer::{
        Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter,
        TextAnalyzer,
    };
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser);
    match StopWordFilter::new(Language::English) {
        Some(stop) => builder
            .filter(stop)
            .filter(Stemmer::new(Language::English))
            .build(),
        None => builder.filter(Stemmer::new(Language::English)).build(),
    }
}

/// Longest section text handed to the model or the API, in characters.
const CONTENT_BUDGET: usize = 1_500;

/// One search result (API.md's `docs-search` item, plus the link to the section).
#[derive(Clone, Debug, Serialize)]
pub struct Hit {
    pub path: String,
    pub title: String,
    pub heading: String,
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
    pub build_ms: u128,
}

struct Fields {
    title: Field,
    heading: Field,
    body: Field,
    ord: Field,
}

pub struct DocsIndex {
    pages: Vec<Page>,
    /// (page, section) for each indexed document, by its `ord`.
    sections: Vec<(usize, usize)>,
    reader: IndexReader,
    /// Built once.
    parser: QueryParser,
    fields: Fields,
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

        let mut builder = Schema::builder();
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let fields = Fields {
            title: builder.add_text_field("title", text.clone()),
            heading: builder.add_text_field("heading", text.clone()),
            body: builder.add_text_field("body", text),
            ord: builder.add_u64_field("ord", NumericOptions::default().set_stored()),
        };
        let index = Index::create_in_ram(builder.build());
        index.tokenizers().register(ANALYZER, analyzer());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 30_000_000)?;
        let mut sections = Vec::new();
        for (p, page) in pages.iter().enumerate() {
            for (s, section) in page.sections.iter().enumerate() {
                let mut body = chunk::plain_inline(&section.text);
                if s == 0
                    && let Some(d) = &page.description
                {
                    body = format!("{d} {body}");
                }
                writer.add_document(doc!(
                    fields.title => page.title.as_str(),
                    fields.heading => section.heading.as_str(),
                    fields.body => body,
                    fields.ord => sections.len() as u64,
                ))?;
                sections.push((p, s));
            }
        }
        writer.commit()?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let stats = IndexStats {
            pages: pages.len(),
            sections: sections.len(),
            build_ms: started.elapsed().as_millis(),
        };
        // Title, heading and body weigh the same: on the Paste dev questions boosting titles
        // (2×) and headings (1.5×) lost recall (R@5 0.830 with, 0.847 without; docs-eval).
        let parser =
            QueryParser::for_index(&index, vec![fields.title, fields.heading, fields.body]);
        Ok(Self {
            pages,
            sections,
            reader,
            parser,
            fields,
            base_url,
            stats,
        })
    }

    /// The best sections for `query`, best first. Any text is a valid query: operators and
    /// field syntax are not interpreted.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        let terms: String = query
            .chars()
            .map(|c| {
                if c.is_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    ' '
                }
            })
            .collect();
        if terms.trim().is_empty() || limit == 0 {
            return Vec::new();
        }
        let (query, _) = self.parser.parse_query_lenient(&terms);
        let searcher = self.reader.searcher();
        let Ok(top) = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score()) else {
            return Vec::new();
        };
        top.into_iter()
            .filter_map(|(score, address)| self.hit(&searcher, address, score))
            .collect()
    }

    /// The pages for `query`, best first, each ranked by its best section (measured: adding a
    /// share of a page's other sections, or folding `api.mdx` into its `index.mdx`, ranked
    /// worse).
    pub fn search_pages(&self, query: &str, limit: usize) -> Vec<String> {
        let mut pages: Vec<String> = Vec::with_capacity(limit);
        for hit in self.search(query, limit * 8) {
            if !pages.contains(&hit.path) {
                pages.push(hit.path);
                if pages.len() == limit {
                    break;
                }
            }
        }
        pages
    }

    fn hit(&self, searcher: &tantivy::Searcher, address: DocAddress, score: f32) -> Option<Hit> {
        let doc: TantivyDocument = searcher.doc(address).ok()?;
        let ord = doc.get_first(self.fields.ord)?.as_u64()? as usize;
        let (p, s) = *self.sections.get(ord)?;
        let page = &self.pages[p];
        let section = &page.sections[s];
        Some(Hit {
            path: page.path.clone(),
            title: page.title.clone(),
            heading: section.heading.clone(),
            slug: section.slug.clone(),
            content: trim_to(&section.text, CONTENT_BUDGET),
            score,
            url: self.url_for(&page.path, &section.slug),
        })
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

/// The Markdown and MDX files under `root`, sorted; hidden folders and `node_modules` skipped.
pub fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('.') || name == "node_modules" {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if name.ends_with(".md") || name.ends_with(".mdx") {
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

    fn corpus() -> Option<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/paste-docs");
        root.is_dir().then_some(root)
    }

    #[test]
    fn finds_the_page_that_answers_on_the_paste_corpus() {
        let Some(root) = corpus() else { return };
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
