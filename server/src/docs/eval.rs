//! Search quality on a question set: page-level recall@5, recall@10 and MRR@10 (a page is a
//! hit when any of its sections is returned; pages rank by their best section), query latency
//! and index build time. Used by the `docs-eval` binary and by a test that guards recall.
use std::{path::Path, time::Instant};

use serde::Deserialize;

use super::DocsIndex;

/// One question of a `.jsonl` question set.
#[derive(Clone, Debug, Deserialize)]
pub struct Question {
    pub id: String,
    pub question: String,
    /// Paths (relative to the docs folder) of the pages that answer it.
    pub relevant: Vec<String>,
}

/// The Paste docs the search is measured on: `PASTE_CORPUS`, else the shared corpus beside the
/// checkout (`../shared/corpus/paste-docs`), else the copy `scripts/fetch-paste-docs` makes in
/// `.tools/paste-docs` (the same pages, for a clone without `../shared`).
pub fn paste_corpus() -> std::path::PathBuf {
    if let Some(dir) = std::env::var_os("PASTE_CORPUS") {
        return dir.into();
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let shared = repo.join("../shared/corpus/paste-docs");
    if shared.is_dir() {
        return shared;
    }
    repo.join(".tools/paste-docs")
}

/// This project's questions on the Paste docs (50, each with the pages that answer it).
pub fn dev_questions() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/docs-qa-dev.jsonl")
}

pub fn load_questions(path: &Path) -> anyhow::Result<Vec<Question>> {
    load_jsonl(path)
}

/// A follow-up question and the question asked before it in the same thread; `relevant` are the
/// pages that answer the follow-up (it names its subject only through the first question).
#[derive(Clone, Debug, Deserialize)]
pub struct FollowUp {
    pub id: String,
    pub first: String,
    pub followup: String,
    pub relevant: Vec<String>,
}

pub fn load_followups(path: &Path) -> anyhow::Result<Vec<FollowUp>> {
    load_jsonl(path)
}

/// The follow-ups searched alone, or with the question before each (as a run searches).
pub fn evaluate_followups(index: &DocsIndex, pairs: &[FollowUp], in_context: bool) -> Report {
    let questions: Vec<Question> = pairs
        .iter()
        .map(|p| Question {
            id: p.id.clone(),
            question: p.followup.clone(),
            relevant: p.relevant.clone(),
        })
        .collect();
    evaluate_with(&questions, |q| {
        let pair = pairs
            .iter()
            .find(|p| p.id == q.id)
            .expect("a pair per question");
        let context = if in_context {
            vec![pair.first.clone()]
        } else {
            Vec::new()
        };
        index.search_pages_with(&super::Query::in_context(&q.question, &context), None, 10)
    })
}

/// The questions each searched after an unrelated one (the next question of the set): what
/// the context costs a reader who changes the subject.
pub fn evaluate_after_another(index: &DocsIndex, questions: &[Question]) -> Report {
    evaluate_with(questions, |q| {
        let at = questions.iter().position(|x| x.id == q.id).unwrap_or(0);
        let other = vec![questions[(at + 1) % questions.len()].question.clone()];
        index.search_pages_with(&super::Query::in_context(&q.question, &other), None, 10)
    })
}

fn load_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    let text = std::fs::read_to_string(path)?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), i + 1))
        })
        .collect()
}

/// Share of the question's pages among the pages of what `get_relevant_docs` hands the model
/// (its 5 sections, at most 2 of one page).
pub fn tool_recall(index: &DocsIndex, questions: &[Question]) -> f64 {
    use super::{PER_PAGE, RESULTS};
    let total: f64 = questions
        .iter()
        .map(|q| {
            let hits = super::spread(index.search(&q.question, RESULTS * 3), RESULTS, PER_PAGE);
            let found = q
                .relevant
                .iter()
                .filter(|r| hits.iter().any(|h| &h.path == *r))
                .count();
            found as f64 / q.relevant.len().max(1) as f64
        })
        .sum();
    total / questions.len().max(1) as f64
}

/// How one question went.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub id: String,
    pub recall_at_5: f64,
    pub recall_at_10: f64,
    pub reciprocal_rank: f64,
    pub top: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Report {
    pub recall_at_5: f64,
    pub recall_at_10: f64,
    pub mrr_at_10: f64,
    pub outcomes: Vec<Outcome>,
}

/// Runs every question once and averages the measures.
pub fn evaluate(index: &DocsIndex, questions: &[Question]) -> Report {
    evaluate_with(questions, |q| index.search_pages(&q.question, 10))
}

/// [`evaluate`] with any ranking: `rank` returns a question's top pages, best first.
pub fn evaluate_with(questions: &[Question], rank: impl Fn(&Question) -> Vec<String>) -> Report {
    let outcomes: Vec<Outcome> = questions
        .iter()
        .map(|q| {
            let top = rank(q);
            let found = |k: usize| {
                let hits = q
                    .relevant
                    .iter()
                    .filter(|r| top.iter().take(k).any(|p| p == *r))
                    .count();
                hits as f64 / q.relevant.len().max(1) as f64
            };
            let rank = top.iter().position(|p| q.relevant.contains(p));
            Outcome {
                id: q.id.clone(),
                recall_at_5: found(5),
                recall_at_10: found(10),
                reciprocal_rank: rank.map_or(0.0, |r| 1.0 / (r + 1) as f64),
                top,
            }
        })
        .collect();
    let n = outcomes.len().max(1) as f64;
    Report {
        recall_at_5: outcomes.iter().map(|o| o.recall_at_5).sum::<f64>() / n,
        recall_at_10: outcomes.iter().map(|o| o.recall_at_10).sum::<f64>() / n,
        mrr_at_10: outcomes.iter().map(|o| o.reciprocal_rank).sum::<f64>() / n,
        outcomes,
    }
}

/// Latencies of `search` in microseconds over `rounds` passes of the questions, sorted.
pub fn latencies_with(
    questions: &[Question],
    rounds: usize,
    search: impl Fn(&Question),
) -> Vec<u128> {
    let mut out = Vec::with_capacity(questions.len() * rounds);
    for _ in 0..rounds {
        for q in questions {
            let started = Instant::now();
            search(q);
            out.push(started.elapsed().as_micros());
        }
    }
    out.sort_unstable();
    out
}

/// A field of `/proc/<pid>/status` in KiB (`VmRSS`, `VmHWM`); `pid` is a number or `self`.
/// For the benchmarks (docs-eval, loadgen); 0 where there is no such file.
pub fn proc_status_kib(pid: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The `p`th percentile of sorted values.
pub fn percentile(sorted: &[u128], p: f64) -> u128 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Guards the search quality measured on the Paste dev questions: it fails when page-level
    /// recall@5 drops below 0.90.
    #[test]
    fn recall_on_the_paste_dev_questions_does_not_drop() {
        let (docs, questions) = (crate::test_support::paste_docs(), dev_questions());
        let index = DocsIndex::build(&docs, None).unwrap();
        let report = evaluate(&index, &load_questions(&questions).unwrap());
        // A hair of slack for summing fractions (0.9 is 45 of 50 questions' shares).
        assert!(
            report.recall_at_5 >= 0.90 - 1e-9,
            "R@5 {:.3}",
            report.recall_at_5
        );
        assert!(
            report.recall_at_10 >= 0.90,
            "R@10 {:.3}",
            report.recall_at_10
        );
        assert!(report.mrr_at_10 >= 0.85, "MRR@10 {:.3}", report.mrr_at_10);
    }

    /// Follow-ups ("And can it open in a new tab?") find their subject's pages when searched
    /// with the question before them, as runs search them; alone, they mostly do not.
    #[test]
    fn follow_ups_are_found_with_the_question_before_them() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let docs = crate::test_support::paste_docs();
        let pairs = load_followups(&root.join("tests/data/followups.jsonl")).unwrap();
        assert!(pairs.len() >= 20);
        let index = DocsIndex::build(&docs, None).unwrap();
        for pair in &pairs {
            for page in &pair.relevant {
                assert!(index.page(page).is_some(), "{}: no page {page}", pair.id);
            }
        }
        let alone = evaluate_followups(&index, &pairs, false).recall_at_5;
        let in_context = evaluate_followups(&index, &pairs, true).recall_at_5;
        assert!(in_context >= 0.85, "R@5 in context {in_context:.3}");
        assert!(
            in_context >= alone + 0.3,
            "alone {alone:.3}, in context {in_context:.3}"
        );
        // The subject's pages come with a question that does not change it, and the
        // question that does change it still finds its own.
        let questions = load_questions(&dev_questions()).unwrap();
        let after_another = evaluate_after_another(&index, &questions).recall_at_5;
        assert!(
            after_another >= 0.85,
            "R@5 after another question {after_another:.3}"
        );
    }
}
