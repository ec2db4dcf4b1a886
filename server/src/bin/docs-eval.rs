//! Measures docs search on a question set (page level): recall@5, recall@10, MRR@10, query
//! latency p50/p99 and index build time.
//!
//! cargo run -p server --release --bin docs-eval -- --docs DIR --questions FILE [--rounds N] [--misses]
use std::{path::PathBuf, time::Instant};

use server::docs::{
    DocsIndex,
    eval::{evaluate, latencies_us, load_questions, percentile},
};

fn main() {
    if let Err(e) = run() {
        eprintln!("docs-eval: {e:#}");
        std::process::exit(2);
    }
}

fn run() -> anyhow::Result<()> {
    let mut docs = PathBuf::from("../shared/corpus/paste-docs");
    let mut questions = PathBuf::from("../shared/eval/docs-qa-dev.jsonl");
    let mut rounds = 20;
    let mut misses = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--docs" => {
                docs = args
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--docs needs a folder"))?
                    .into()
            }
            "--questions" => {
                questions = args
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--questions needs a file"))?
                    .into()
            }
            "--rounds" => {
                rounds = args
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--rounds needs a number"))?
                    .parse()?
            }
            "--misses" => misses = true,
            other => anyhow::bail!(
                "unknown argument {other:?}; usage: docs-eval --docs DIR --questions FILE [--rounds N] [--misses]"
            ),
        }
    }
    let questions = load_questions(&questions)?;
    let started = Instant::now();
    let index = DocsIndex::build(&docs, None)?;
    let build = started.elapsed();
    let report = evaluate(&index, &questions);
    let latencies = latencies_us(&index, &questions, rounds);
    println!(
        "docs: {} pages, {} sections, index built in {} ms",
        index.stats.pages,
        index.stats.sections,
        build.as_millis()
    );
    println!("questions: {}", questions.len());
    println!("recall@5   {:.3}", report.recall_at_5);
    println!("recall@10  {:.3}", report.recall_at_10);
    println!("MRR@10     {:.3}", report.mrr_at_10);
    println!(
        "query latency p50 {} µs, p99 {} µs ({} queries)",
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.len()
    );
    if misses {
        for (o, q) in report.outcomes.iter().zip(&questions) {
            if o.recall_at_5 < 1.0 {
                println!(
                    "\nmiss {} ({:.2}): {}\n  relevant: {:?}\n  top 5:    {:?}",
                    o.id,
                    o.recall_at_5,
                    q.question,
                    q.relevant,
                    &o.top[..o.top.len().min(5)]
                );
            }
        }
    }
    Ok(())
}
