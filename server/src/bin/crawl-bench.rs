//! Measures crawling a published docs site (issue 26) against sites served on a local port:
//! this project's `docs/` as HTML (the API tests' site), a site of 2,000 pages (the Paste docs
//! in eight versions), and the Paste docs as HTML, whose page recall on the dev questions is set
//! beside the same docs read from the folder.
//!
//! cargo run -p server --release --bin crawl-bench -- [--rate N] [--pages N]
//!
//! `--rate` is the requests a second to the site (default 100, `DOCS_CRAWL_RATE`'s largest;
//! at the default of 4 a crawl takes pages ÷ 4 seconds); `--pages` the large site's size.
use std::{collections::HashMap, path::Path, time::Duration};

use server::{
    crawl::{
        Limits, Site, crawl_site,
        fetch::Fetcher,
        keeper::page_of,
        sample::{PREFIX, SampleSite, route_of},
    },
    docs::{DocsIndex, eval, read_folder},
};

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("crawl-bench: {e:#}");
        std::process::exit(2);
    }
}

async fn run() -> anyhow::Result<()> {
    let mut rate = 100.0;
    let mut large = 2_000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| anyhow::anyhow!("{arg} needs a number"))?;
        match arg.as_str() {
            "--rate" => rate = value.parse()?,
            "--pages" => large = value.parse()?,
            _ => anyhow::bail!("usage: crawl-bench [--rate N] [--pages N]"),
        }
    }
    let limits = Limits {
        rate,
        max_pages: 10_000,
    };
    println!(
        "rate limit: {rate} requests/s, {} at a time",
        server::crawl::PER_HOST
    );

    let own = SampleSite::from_folder(Path::new("docs"));
    measure("this project's docs/ (the tests' site)", &own, limits).await?;

    let paste_dir = eval::paste_corpus();
    let paste = read_folder(&paste_dir);
    let big = SampleSite::default();
    'fill: for version in 1.. {
        for page in &paste {
            if big.routes().len() >= large {
                break 'fill;
            }
            let route = route_of(&page.path).replacen(PREFIX, &format!("{PREFIX}v{version}/"), 1);
            big.put(&route, page);
        }
    }
    let (_, rows) = measure(&format!("{large} pages"), &big, limits).await?;
    keep_and_restart(&rows).await?;

    let site = SampleSite::from_folder(&paste_dir);
    let (root, rows) = measure("the Paste docs as HTML", &site, limits).await?;
    let questions = eval::load_questions(&eval::dev_questions())?;
    let folder = DocsIndex::build(&paste_dir, None)?;
    let by_url: HashMap<String, String> = paste
        .iter()
        .map(|p| (format!("{root}{}", route_of(&p.path)), p.path.clone()))
        .collect();
    let crawled = DocsIndex::of_pages(rows.into_iter().map(page_of).collect(), None);
    if std::env::var_os("CRAWL_BENCH_DIFF").is_some() {
        for page in crawled.pages() {
            let Some(path) = by_url.get(&page.path) else {
                continue;
            };
            let Some(original) = folder.page(path) else {
                continue;
            };
            let heads = |p: &server::docs::Page| -> Vec<String> {
                p.sections.iter().map(|s| s.heading.clone()).collect()
            };
            let (a, b) = (heads(original), heads(page));
            if a != b {
                let gone: Vec<&String> = a.iter().filter(|h| !b.contains(h)).collect();
                let new: Vec<&String> = b.iter().filter(|h| !a.contains(h)).collect();
                println!(
                    "{path}: folder {} crawled {}; only in folder {gone:?}; only crawled {new:?}",
                    a.len(),
                    b.len()
                );
            }
        }
    }
    let from_folder = eval::evaluate(&folder, &questions);
    let from_site = eval::evaluate_with(&questions, |q| {
        crawled
            .search_pages(&q.question, 10)
            .into_iter()
            .map(|url| by_url.get(&url).cloned().unwrap_or(url))
            .collect()
    });
    println!(
        "\nPaste dev questions ({}), page recall@5 / recall@10 / MRR@10:\n  folder  {:.3} / {:.3} / {:.3} ({} sections)\n  crawled {:.3} / {:.3} / {:.3} ({} sections)\n  difference in recall@5: {:+.3}",
        questions.len(),
        from_folder.recall_at_5,
        from_folder.recall_at_10,
        from_folder.mrr_at_10,
        folder.stats.sections,
        from_site.recall_at_5,
        from_site.recall_at_10,
        from_site.mrr_at_10,
        crawled.stats.sections,
        from_site.recall_at_5 - from_folder.recall_at_5,
    );
    Ok(())
}

/// Crawls `site` twice (the second conditional) and prints the times; returns the site's root
/// and the pages of the first crawl.
async fn measure(
    name: &str,
    site: &SampleSite,
    limits: Limits,
) -> anyhow::Result<(String, Vec<server::store::SitePageRow>)> {
    let root = server::startup::serve_local(site.router()).await?;
    let target = Site::parse(&format!("{root}{PREFIX}")).map_err(anyhow::Error::msg)?;
    let fetcher = Fetcher::new(&[target.host()], limits.rate, Duration::from_secs(20)).await;
    let first = crawl_site(&target, &fetcher, limits, &[], 0)
        .await
        .map_err(anyhow::Error::msg)?;
    let rows = first.changes.upserted;
    let bytes: usize = rows.iter().map(|r| r.markdown.len()).sum();
    let again = crawl_site(&target, &fetcher, limits, &rows, 0)
        .await
        .map_err(anyhow::Error::msg)?;
    let per_second = |pages: usize, ms: u128| pages as f64 * 1000.0 / ms.max(1) as f64;
    println!(
        "\n{name}: {} pages ({:.1} MB of Markdown), {} not read\n  first crawl  {:>7} ms, {:>6.1} pages/s\n  second crawl {:>7} ms, {:>6.1} pages/s ({} not modified, {} read again)",
        first.pages,
        bytes as f64 / 1e6,
        first.changes.failures.len(),
        first.ms,
        per_second(first.pages, first.ms),
        again.ms,
        per_second(again.pages, again.ms),
        again.not_modified,
        again.fetched,
    );
    Ok((root, rows))
}

/// What keeping a crawl costs: writing its pages to SQLite in one transaction, and at a
/// restart reading them back and indexing them (before any crawl).
async fn keep_and_restart(rows: &[server::store::SitePageRow]) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let store =
        server::store::Store::connect(&format!("sqlite://{}/bench.db", dir.display())).await?;
    let site = rows.first().map(|r| r.site.clone()).unwrap_or_default();
    let started = std::time::Instant::now();
    store.take_site(&site, "bench", 0, 60, (0, 0)).await?;
    let changes = server::store::CrawlChanges {
        upserted: rows.to_vec(),
        ..Default::default()
    };
    store.finish_site(&site, "bench", 1, &changes, None).await?;
    let write_ms = started.elapsed().as_millis();
    let started = std::time::Instant::now();
    let sites = [Site::parse(&site).map_err(anyhow::Error::msg)?];
    let pages = server::crawl::keeper::stored_pages(&store, &sites).await?;
    let read_ms = started.elapsed().as_millis();
    let index = DocsIndex::of_pages(pages, None);
    println!(
        "  kept in SQLite: written in {write_ms} ms; at a restart read back in {read_ms} ms and \
         indexed in {} ms ({} sections)",
        index.stats.build_ms, index.stats.sections
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A fresh folder under the system's temporary one.
fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("crawl-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
