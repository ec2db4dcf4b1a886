//! Ranking and results: BM25F over passages (with vectors when there are any), a section as its
//! best passage plus a share of its page, and the hits as the model and the API get them.
use super::embed;
use super::{DocsIndex, Hit, PAGE_WEIGHT, Query};

/// Longest section text handed to the model or the API, in characters.
const CONTENT_BUDGET: usize = 1_500;

impl DocsIndex {
    /// [`Self::ranked_bm25`] (at least the best `keep`), fused by reciprocal rank with the
    /// sections nearest to the query's vector when both vectors are there.
    pub(super) fn ranked(
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
    pub(super) fn ranked_bm25(&self, query: &Query, keep: usize) -> Vec<(usize, f32, usize)> {
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
    pub(super) fn hit(&self, s: usize, score: f32, passage: usize) -> Hit {
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
}

/// Sections a docs search hands the model.
pub const RESULTS: usize = 5;

/// At most this many sections of one page among them, so one page does not fill the results.
pub const PER_PAGE: usize = 2;

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
pub(super) fn trim_to(text: &str, budget: usize) -> String {
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
/// search (issue 15: p99 14 ms → see docs/benchmarks.md); selecting the best first is linear.
pub(super) fn best_first<T>(
    items: &mut Vec<T>,
    keep: usize,
    order: impl Fn(&T, &T) -> std::cmp::Ordering,
) {
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
