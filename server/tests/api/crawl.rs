//! Docs from a published site (`DOCS_SITE_URL`): this project's own `docs/` served as HTML on
//! a local port, in a page template with a nav, a sidebar, a cookie banner and a footer, with a
//! sitemap index, a robots.txt and the traps of a real site (a disallowed folder, a 404, two
//! redirects, a slow page, a huge one, a PDF, an endless chain of links).
use std::time::Duration;

use serde_json::Value;
use server::crawl::sample::{SampleSite, route_of};

use crate::helpers::{Settings, TestApp, body_of, docs_dir, fresh_database, spawn_app_with};

const ADMIN: &str = "s3cret-admin-s3cret-admin-s3cret-admin";

/// Most pages read from one site in these tests (the endless chain stops here).
const MAX_PAGES: usize = 30;

/// The sample site on a local port: the site and its root (`http://127.0.0.1:port`).
async fn sample_site() -> (SampleSite, String) {
    let site = SampleSite::from_folder(&docs_dir()).with_traps(Duration::from_secs(3));
    let root = server::startup::serve_local(site.router()).await.unwrap();
    (site, root)
}

/// A server whose only docs are the sample site's `/docs/` and its `/loop/` chain, on
/// `database`.
async fn site_app(root: &str, database: &str) -> TestApp {
    spawn_app_with(Settings {
        vars: vec![
            ("DOCS_DIR", String::new()),
            ("DOCS_SITE_URL", format!("{root}/docs/, {root}/loop/")),
            ("DOCS_CRAWL_RATE", "100".into()),
            ("DOCS_CRAWL_TIMEOUT_SECS", "1".into()),
            ("DOCS_CRAWL_MAX_PAGES", MAX_PAGES.to_string()),
            ("DOCS_WATCH_SECS", "1".into()),
            ("ADMIN_TOKEN", ADMIN.into()),
            ("DATABASE_URL", database.into()),
        ],
    })
    .await
}

/// `/readyz`'s sources.
async fn sources(app: &TestApp) -> Vec<Value> {
    let ready = body_of(app.get("/readyz").await).await;
    ready["docs_sources"]
        .as_array()
        .unwrap_or_else(|| panic!("{ready}"))
        .clone()
}

/// The source of site `url` in `/readyz`.
async fn source(app: &TestApp, url: &str) -> Value {
    sources(app)
        .await
        .into_iter()
        .find(|s| s["location"] == url)
        .unwrap_or_else(|| panic!("no source {url}"))
}

/// Waits until `ready` holds (at most 20 s, else the test fails), looking again each time a
/// crawl on this server ends or its index takes in the sites' pages: no fixed pauses.
async fn until<F, Fut>(app: &TestApp, what: &str, mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    // Subscribed before the first look, so a change in between is not missed.
    let mut news = app
        .assistant
        .docs_site_news()
        .expect("DOCS_SITE_URL is set");
    let waited = async {
        while !ready().await {
            news.changed()
                .await
                .expect("the keeper runs while the server does");
        }
    };
    if tokio::time::timeout(Duration::from_secs(20), waited)
        .await
        .is_err()
    {
        panic!("{what}: not within 20 s: {:?}", sources(app).await);
    }
}

/// Waits until `done` holds for the sources and the index holds their pages.
async fn wait_for(app: &TestApp, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let holds = || async {
        let ready = body_of(app.get("/readyz").await).await;
        let now = ready["docs_sources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let stored: u64 = now.iter().map(|s| s["pages"].as_u64().unwrap_or(0)).sum();
        done(&now) && ready["docs_pages"] == stored
    };
    until(app, what, holds).await;
    sources(app).await
}

fn crawled(sources: &[Value]) -> bool {
    sources
        .iter()
        .all(|s| s["kind"] == "site" && s["last_crawl_at"].is_i64() && s["crawling"].is_null())
}

/// Asks for a crawl now and waits until the site has served every page route again and the
/// crawl has ended.
async fn recrawl(app: &TestApp, site: &SampleSite) -> Vec<(String, u16)> {
    site.take_served();
    let r = app.docs_reindex(Some(ADMIN)).await;
    let body = body_of(r).await;
    assert!(
        body["sites"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["crawl"] == "started"),
        "{body}"
    );
    let routes = site.routes();
    let pages: Vec<&String> = routes.iter().filter(|r| !r.contains("private")).collect();
    let served_again = |_: &[Value]| {
        let (not_modified, ok) = (site.served_with(304), site.served_with(200));
        pages
            .iter()
            .all(|r| not_modified.contains(r) || ok.contains(r))
    };
    wait_for(app, "the second crawl", |s| served_again(s) && crawled(s)).await;
    site.take_served()
}

async fn search(app: &TestApp, q: &str) -> Vec<Value> {
    let query = format!("?q={}&limit=20", q.replace(' ', "+"));
    let body = body_of(app.docs_search(&query).await).await;
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone()
}

/// The sample site and a new database for servers on it (kept until the folder is dropped).
async fn site_and_database() -> (SampleSite, String, String, tempfile::TempDir) {
    let (site, root) = sample_site().await;
    let db_dir = tempfile::tempdir().unwrap();
    let database = fresh_database(db_dir.path()).await;
    (site, root, database, db_dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_site_is_crawled_cited_kept_current_and_searched_after_a_restart() {
    let (site, root, database, _db) = site_and_database().await;
    let app = site_app(&root, &database).await;
    let docs = format!("{root}/docs/");
    let all = wait_for(&app, "the first crawl", crawled).await;

    // The pages of the sitemap, and nothing else: not the disallowed folder, not the traps.
    let pages = site.routes().len() - 1;
    assert_eq!(source(&app, &docs).await["pages"], pages, "{all:?}");
    assert_eq!(
        source(&app, &format!("{root}/loop/")).await["pages"],
        MAX_PAGES
    );
    let served = site.take_served();
    assert!(
        !served.iter().any(|(p, _)| p.contains("/private/")),
        "robots.txt disallows /docs/private/: {served:?}"
    );
    assert!(search(&app, "zanzibar").await.is_empty());
    let failures = app.store.site_failures().await.unwrap();
    let reason = |trap: &str| {
        let url = format!("{docs}{trap}");
        failures
            .iter()
            .find(|f| f.url == url)
            .map(|f| f.reason.clone())
            .unwrap_or_else(|| panic!("no failure for {url}: {failures:?}"))
    };
    assert!(reason("missing/").contains("404"));
    assert!(reason("away/").contains("outside the site"));
    assert!(reason("slow/").contains("timed out"));
    assert!(reason("huge/").contains("larger than 5 MB"));
    assert!(reason("manual.pdf").contains("not HTML (application/pdf)"));
    assert!(
        !failures.iter().any(|f| f.url.contains("old-guide")),
        "{failures:?}"
    );
    assert_eq!(failures.len(), 5, "{failures:?}");

    // Only the content: none of the template's frame is in the pages.
    for page in app.store.site_pages().await.unwrap() {
        for frame in [
            "We use cookies",
            "static site generator",
            "tracking pixel",
            "Previous page",
        ] {
            assert!(!page.markdown.contains(frame), "{frame} in {}", page.url);
        }
    }

    // Search results and answers link to the live pages, at the heading's own anchor.
    let hits = search(&app, "deploy with Postgres").await;
    let deployment = format!("{root}{}", route_of("deployment.md"));
    let hit = hits
        .iter()
        .find(|h| h["path"] == deployment.as_str() && h["slug"] != "")
        .unwrap_or_else(|| panic!("{hits:?}"));
    assert_eq!(
        hit["url"].as_str().unwrap(),
        format!("{deployment}#{}", hit["slug"].as_str().unwrap())
    );
    let (tid, run) = app.ask("How do I deploy with Postgres?").await;
    assert_eq!(run["status"], "completed", "{run}");
    let answer = app.answer_text(&tid).await;
    assert!(answer.contains(&format!("({deployment}#")), "{answer}");

    // The docs team sees each source and what could not be read.
    let overview = admin_page(&app, "/admin").await;
    assert!(
        overview.contains("Docs sources") && overview.contains(&docs),
        "{overview}"
    );
    let pages_view = admin_page(&app, "/admin/pages").await;
    assert!(
        pages_view.contains("Not read from the sites (5)"),
        "{pages_view}"
    );
    assert!(
        pages_view.contains(&format!("{docs}missing/")),
        "{pages_view}"
    );

    // A second crawl: every unchanged page is a 304.
    let served = recrawl(&app, &site).await;
    for route in site.routes().iter().filter(|r| !r.contains("private")) {
        let statuses: Vec<u16> = served
            .iter()
            .filter(|(p, _)| p == route)
            .map(|(_, s)| *s)
            .collect();
        assert_eq!(statuses, [304], "{route}");
    }

    // A changed page is read again; a removed one leaves the index.
    let changed = server::docs::chunk::parse_page(
        "deployment.md",
        "# Deploying with Postgres\n\n## Quokkas {#quokkas}\n\nThe quokka migration runs first.\n",
    );
    site.put(&route_of("deployment.md"), &changed);
    let widget = format!("{root}{}", route_of("widget.md"));
    assert!(site.remove(&route_of("widget.md")));
    assert!(
        search(&app, "embed the widget script")
            .await
            .iter()
            .any(|h| h["path"] == widget.as_str())
    );
    recrawl(&app, &site).await;
    let hits = search(&app, "quokka migration").await;
    assert_eq!(hits[0]["url"], format!("{deployment}#quokkas"), "{hits:?}");
    assert!(
        !search(&app, "embed the widget script")
            .await
            .iter()
            .any(|h| h["path"] == widget.as_str())
    );
    assert_eq!(source(&app, &docs).await["pages"], pages - 1);

    // A site that does not answer leaves its pages as they were, and says so.
    site.set_down(true);
    app.docs_reindex(Some(ADMIN)).await;
    let now = wait_for(&app, "the failed crawl", |s| {
        s.iter()
            .all(|s| s["error"].is_string() && s["crawling"].is_null())
    })
    .await;
    assert!(now[0]["error"].as_str().unwrap().contains("503"), "{now:?}");
    assert_eq!(source(&app, &docs).await["pages"], pages - 1);
    let hits = search(&app, "quokka migration").await;
    assert_eq!(hits[0]["url"], format!("{deployment}#quokkas"), "{hits:?}");

    // A restart searches the kept pages at once, with the site down and before any crawl.
    site.take_served();
    let again = site_app(&root, &database).await;
    let hits = search(&again, "quokka migration").await;
    assert_eq!(hits[0]["url"], format!("{deployment}#quokkas"), "{hits:?}");
    assert!(
        site.take_served().is_empty(),
        "the last crawl is recent: no crawl at start"
    );
}

async fn admin_page(app: &TestApp, path: &str) -> String {
    let r = app
        .client
        .get(app.url(path))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_instances_one_crawls_and_both_search_the_pages() {
    let (site, root, database, _db) = site_and_database().await;
    // (One after the other: two processes cannot both create a new SQLite file's tables.)
    let a = site_app(&root, &database).await;
    let b = site_app(&root, &database).await;
    wait_for(&a, "the crawl", crawled).await;
    wait_for(&b, "the crawl", crawled).await;
    let robots = site
        .take_served()
        .iter()
        .filter(|(p, _)| p == "/robots.txt")
        .count();
    // One crawl of each of the two sites.
    assert_eq!(robots, 2, "each site crawled once, by one instance");
    let deployment = format!("{root}{}", route_of("deployment.md"));
    for app in [&a, &b] {
        until(app, "both instances search the crawled pages", || async {
            search(app, "deploy with Postgres")
                .await
                .iter()
                .any(|h| h["path"] == deployment.as_str())
        })
        .await;
    }
}
