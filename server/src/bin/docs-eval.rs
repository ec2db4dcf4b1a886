//! Measures docs search on a question set (page level): recall@5, recall@10, MRR@10, query
//! latency p50/p99 and index build time.
//!
//! cargo run -p server --release --bin docs-eval -- --docs DIR --questions FILE [--rounds N]
//!   [--misses] [--dump FILE] [--embeddings-url URL --embeddings-model NAME | --fake-embeddings]
//!   [--scale N] [--followups FILE]
//!
//! `--followups FILE` (default `server/tests/data/followups.jsonl` when it is there) also
//! measures follow-up questions: page recall of each follow-up searched alone and with the
//! question before it (as runs search), and of the dev questions each asked after an unrelated
//! one (what the context costs when the reader changes the subject).
//!
//! `--scale N` measures search at size instead of quality: it indexes N copies of the docs (as
//! one site with N versions of every page) and prints the sections, the build time, the memory
//! the index holds and the latency of the tool's search (`get_relevant_docs`) per question.
//!
//! With an embeddings endpoint (key from `OPENAI_API_KEY`), it measures BM25 and the hybrid
//! search side by side. `--fake-embeddings` serves hashed bags of stemmed words from a local
//! endpoint: a check of the hybrid plumbing, not a semantic model.
use std::{collections::HashMap, path::PathBuf, time::Instant};

use server::{
    config::Secret,
    docs::{
        DocsIndex,
        embed::{Cache, Embedder, vectors_for},
        eval::{
            Question, Report, evaluate, evaluate_after_another, evaluate_followups, evaluate_with,
            latencies_with, load_followups, load_questions, percentile, proc_status_kib,
            tool_recall,
        },
        text::Analyzer,
    },
};

fn main() {
    if let Err(e) = run() {
        eprintln!("docs-eval: {e:#}");
        std::process::exit(2);
    }
}

struct Args {
    docs: PathBuf,
    questions: PathBuf,
    rounds: usize,
    misses: bool,
    dump: Option<PathBuf>,
    embeddings_url: Option<String>,
    embeddings_model: Option<String>,
    fake_embeddings: bool,
    scale: Option<usize>,
    followups: Option<PathBuf>,
}

const USAGE: &str = "usage: docs-eval --docs DIR --questions FILE [--rounds N] [--misses] \
    [--dump FILE] [--embeddings-url URL --embeddings-model NAME | --fake-embeddings] [--scale N]";

fn args() -> anyhow::Result<Args> {
    let mut out = Args {
        docs: server::docs::eval::paste_corpus(),
        questions: server::docs::eval::dev_questions(),
        rounds: 20,
        misses: false,
        dump: None,
        embeddings_url: None,
        embeddings_model: None,
        fake_embeddings: false,
        scale: None,
        followups: Some(PathBuf::from("server/tests/data/followups.jsonl")).filter(|p| p.is_file()),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |what: &str| {
            args.next()
                .ok_or_else(|| anyhow::anyhow!("{arg} needs {what}; {USAGE}"))
        };
        match arg.as_str() {
            "--docs" => out.docs = value("a folder")?.into(),
            "--questions" => out.questions = value("a file")?.into(),
            "--rounds" => out.rounds = value("a number")?.parse()?,
            "--dump" => out.dump = Some(value("a file")?.into()),
            "--embeddings-url" => out.embeddings_url = Some(value("a URL")?),
            "--embeddings-model" => out.embeddings_model = Some(value("a model name")?),
            "--misses" => out.misses = true,
            "--fake-embeddings" => out.fake_embeddings = true,
            "--scale" => out.scale = Some(value("a number of copies")?.parse()?),
            "--followups" => out.followups = Some(value("a file")?.into()),
            other => anyhow::bail!("unknown argument {other:?}; {USAGE}"),
        }
    }
    Ok(out)
}

fn run() -> anyhow::Result<()> {
    let args = args()?;
    let questions = load_questions(&args.questions)?;
    if let Some(copies) = args.scale {
        return at_scale(&args.docs, copies, &questions, args.rounds);
    }
    let started = Instant::now();
    let index = DocsIndex::build(&args.docs, None)?;
    let build = started.elapsed();
    if let Some(path) = &args.dump {
        dump(&index, path)?;
    }
    println!(
        "docs: {} pages, {} sections, {} passages, index built in {} ms",
        index.stats.pages,
        index.stats.sections,
        index.stats.passages,
        build.as_millis()
    );
    println!("questions: {}", questions.len());
    println!("\nBM25F over passages (offline):");
    let report = evaluate(&index, &questions);
    let latencies = latencies_with(&questions, args.rounds, |q| {
        index.search_pages(&q.question, 10);
    });
    print_report(&report, &latencies, &questions, args.misses);
    println!(
        "what the model gets (get_relevant_docs: 5 sections, at most 2 of a page): page recall {:.3}",
        tool_recall(&index, &questions)
    );
    if let Some(path) = &args.followups {
        let pairs = load_followups(path)?;
        let alone = evaluate_followups(&index, &pairs, false);
        let in_context = evaluate_followups(&index, &pairs, true);
        let after_another = evaluate_after_another(&index, &questions);
        println!(
            "\nfollow-ups ({} pairs): R@5 alone {:.3}, with the question before {:.3} (R@10 {:.3} / {:.3})",
            pairs.len(),
            alone.recall_at_5,
            in_context.recall_at_5,
            alone.recall_at_10,
            in_context.recall_at_10
        );
        println!(
            "dev questions each after an unrelated question: R@5 {:.3} (alone {:.3})",
            after_another.recall_at_5, report.recall_at_5
        );
        if args.misses {
            for o in in_context.outcomes.iter().filter(|o| o.recall_at_5 < 1.0) {
                println!(
                    "  follow-up {} R@5 {:.2}: {:?}",
                    o.id,
                    o.recall_at_5,
                    &o.top[..o.top.len().min(5)]
                );
            }
        }
    }

    let embedder = if args.fake_embeddings {
        let runtime = tokio::runtime::Runtime::new()?;
        let base = runtime.block_on(fake_embeddings())?;
        Some((runtime, Embedder::new(&base, "fake-hashed-words", None)?))
    } else {
        match (&args.embeddings_url, &args.embeddings_model) {
            (Some(url), Some(model)) => {
                let key = std::env::var("OPENAI_API_KEY").ok().map(Secret::new);
                Some((
                    tokio::runtime::Runtime::new()?,
                    Embedder::new(url, model, key)?,
                ))
            }
            (None, None) => None,
            _ => anyhow::bail!("--embeddings-url and --embeddings-model go together; {USAGE}"),
        }
    };
    if let Some((runtime, embedder)) = embedder {
        let cache_dir = tempfile_dir()?;
        let mut cache = Cache::open(&cache_dir, embedder.model());
        let started = Instant::now();
        let vectors =
            runtime.block_on(vectors_for(&embedder, &mut cache, &index.section_texts()))?;
        index.set_vectors(vectors);
        let texts: Vec<String> = questions.iter().map(|q| q.question.clone()).collect();
        let query_vectors = runtime.block_on(embedder.embed(&texts))?;
        let by_id: HashMap<&str, &Vec<f32>> = questions
            .iter()
            .map(|q| q.id.as_str())
            .zip(query_vectors.iter())
            .collect();
        println!(
            "\nhybrid: BM25F + {} (sections embedded in {} ms), reciprocal-rank fusion k = 60:",
            embedder.model(),
            started.elapsed().as_millis()
        );
        let rank = |q: &Question| {
            index.search_pages_with(
                &server::docs::Query::new(&q.question),
                by_id.get(q.id.as_str()).map(|v| v.as_slice()),
                10,
            )
        };
        let report = evaluate_with(&questions, rank);
        let latencies = latencies_with(&questions, args.rounds, |q| {
            rank(q);
        });
        print_report(&report, &latencies, &questions, args.misses);
        println!(
            "(latency: the search with the query's vector at hand; embedding the query is extra)"
        );
        let _ = std::fs::remove_dir_all(&cache_dir);
    }
    Ok(())
}

fn print_report(report: &Report, latencies: &[u128], questions: &[Question], misses: bool) {
    println!("recall@5   {:.3}", report.recall_at_5);
    println!("recall@10  {:.3}", report.recall_at_10);
    println!("MRR@10     {:.3}", report.mrr_at_10);
    println!(
        "query latency p50 {} µs, p99 {} µs ({} queries)",
        percentile(latencies, 50.0),
        percentile(latencies, 99.0),
        latencies.len()
    );
    if misses {
        for (o, q) in report.outcomes.iter().zip(questions) {
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
}

/// Indexes `copies` copies of `docs` and times the tool's search over them.
fn at_scale(
    docs: &std::path::Path,
    copies: usize,
    questions: &[Question],
    rounds: usize,
) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let files = server::docs::walk(docs);
    for copy in 0..copies {
        for file in &files {
            let rel = file.strip_prefix(docs)?;
            let to = dir.join(format!("v{copy:04}")).join(rel);
            std::fs::create_dir_all(to.parent().unwrap_or(&dir))?;
            std::fs::copy(file, &to)?;
        }
    }
    let before = proc_status_kib("self", "VmRSS");
    let index = DocsIndex::build(&dir, None)?;
    let held = proc_status_kib("self", "VmRSS").saturating_sub(before);
    let latencies = latencies_with(questions, rounds, |q| {
        index.search(&q.question, server::docs::RESULTS * 3);
    });
    println!(
        "{copies} copies of the docs: {} pages, {} sections, {} passages",
        index.stats.pages, index.stats.sections, index.stats.passages
    );
    println!(
        "index built in {} ms, holding {} MiB (process peak {} MiB)",
        index.stats.build_ms,
        held / 1024,
        proc_status_kib("self", "VmHWM") / 1024
    );
    println!(
        "tool search (best {} sections) p50 {} µs, p99 {} µs, max {} µs ({} queries)",
        server::docs::RESULTS * 3,
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.iter().max().copied().unwrap_or(0),
        latencies.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Every section as a JSON line, to inspect the chunking.
fn dump(index: &DocsIndex, path: &std::path::Path) -> anyhow::Result<()> {
    let mut out = String::new();
    for page in index.pages() {
        for s in &page.sections {
            let line = serde_json::json!({
                "path": page.path,
                "title": page.title,
                "description": page.description,
                "heading": s.heading,
                "slug": s.slug,
                "parents": s.parents,
                "text": s.text,
            });
            out.push_str(&line.to_string());
            out.push('\n');
        }
    }
    std::fs::write(path, out)?;
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("docs-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A local `/v1/embeddings` that returns each text's stemmed words hashed into 512 dimensions.
async fn fake_embeddings() -> anyhow::Result<String> {
    use axum::{Json, Router, routing::post};
    async fn embeddings(Json(body): Json<serde_json::Value>) -> Json<serde_json::Value> {
        let analyzer = Analyzer::default();
        let inputs: Vec<String> = match &body["input"] {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(a) => a
                .iter()
                .map(|t| t.as_str().unwrap_or_default().to_string())
                .collect(),
            _ => Vec::new(),
        };
        let data: Vec<serde_json::Value> = inputs
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let mut v = vec![0f32; 512];
                for term in analyzer.terms(text) {
                    let h = term.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
                    });
                    v[(h % 512) as usize] += 1.0;
                }
                serde_json::json!({"index": i, "embedding": v})
            })
            .collect();
        Json(serde_json::json!({"object": "list", "data": data}))
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/v1", listener.local_addr()?);
    tokio::spawn(async move {
        let app = Router::new().route("/v1/embeddings", post(embeddings));
        let _ = axum::serve(listener, app).await;
    });
    Ok(base)
}
