//! Docs re-indexing: `POST /api/docs-reindex` for operators and the folder watcher.
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{Settings, assert_error, body_of, spawn_app_with};

/// The docs team's token of these tests' servers.
const ADMIN: &str = "s3cret-admin-s3cret-admin-s3cret-admin";

/// A server on the docs folder `dir`, watched every `watch_secs` (0: not watched), with the
/// admin token and `extra` settings.
async fn docs_app(
    dir: &std::path::Path,
    watch_secs: &str,
    extra: &[(&'static str, &str)],
) -> crate::helpers::TestApp {
    let mut vars = vec![
        ("DOCS_DIR", dir.display().to_string()),
        ("DOCS_WATCH_SECS", watch_secs.to_string()),
        ("ADMIN_TOKEN", ADMIN.to_string()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    spawn_app_with(Settings { vars }).await
}

fn page(dir: &std::path::Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// Searches for `q` every `every` until a page is found, at most 100 times; the titles found last.
async fn titles_once_found(app: &crate::helpers::TestApp, q: &str, every: Duration) -> Vec<String> {
    let mut titles = Vec::new();
    for _ in 0..100 {
        titles = search_titles(app, q).await;
        if !titles.is_empty() {
            break;
        }
        tokio::time::sleep(every).await;
    }
    titles
}

async fn search_titles(app: &crate::helpers::TestApp, q: &str) -> Vec<String> {
    let body = body_of(app.docs_search(&format!("?q={q}")).await).await;
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["title"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_reindex_with_the_admin_token_and_searches_never_go_empty() {
    let docs = tempfile::tempdir().unwrap();
    page(
        docs.path(),
        "zebra.md",
        "# Zebras\n\nStriped horses of the savanna.\n",
    );
    let app = docs_app(docs.path(), "0", &[]).await;
    assert_eq!(search_titles(&app, "striped").await, vec!["Zebras"]);
    page(
        docs.path(),
        "okapi.md",
        "# Okapis\n\nStriped legs, giraffe relatives.\n",
    );
    // The watcher is off: nothing changes until an operator asks.
    assert_eq!(search_titles(&app, "giraffe").await, Vec::<String>::new());

    let r = app.docs_reindex(None).await;
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    assert_error(r, 401, "authentication_error").await;
    assert_error(
        app.docs_reindex(Some("wrong")).await,
        401,
        "authentication_error",
    )
    .await;

    // Searches run while the index is rebuilt, and every one finds the page that was there.
    let searching = {
        let client = app.client.clone();
        let url = app.url("/api/docs-search?q=striped");
        tokio::spawn(async move {
            let mut found = Vec::new();
            for _ in 0..40 {
                let body: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
                found.push(body["data"].as_array().unwrap().len());
            }
            found
        })
    };
    let r = app.docs_reindex(Some(ADMIN)).await;
    assert_eq!(r.status(), 200);
    let stats: Value = r.json().await.unwrap();
    assert_eq!(stats["pages"], 2);
    assert_eq!(stats["previous_pages"], 1);
    let counts = searching.await.unwrap();
    assert!(counts.iter().all(|&n| n >= 1), "{counts:?}");
    assert_eq!(search_titles(&app, "giraffe").await, vec!["Okapis"]);

    // An emptied folder (a deploy half done) does not empty the index.
    std::fs::remove_file(docs.path().join("zebra.md")).unwrap();
    std::fs::remove_file(docs.path().join("okapi.md")).unwrap();
    let message = assert_error(app.docs_reindex(Some(ADMIN)).await, 409, "conflict_error").await;
    assert!(message.contains("2 pages"), "{message}");
    assert_eq!(search_titles(&app, "giraffe").await, vec!["Okapis"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindexing_over_http_is_off_without_an_admin_token() {
    let app = spawn_app_with(Settings::default()).await;
    let r = app.docs_reindex(Some("anything")).await;
    let message = assert_error(r, 403, "permission_error").await;
    assert!(message.contains("ADMIN_TOKEN"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_docs_folder_is_searched_without_a_restart() {
    let docs = tempfile::tempdir().unwrap();
    page(docs.path(), "zebra.md", "# Zebras\n\nStriped horses.\n");
    let app = docs_app(docs.path(), "1", &[]).await;
    page(
        docs.path(),
        "zebra.md",
        "# Zebras\n\nStriped horses that graze on grass.\n",
    );
    let titles = titles_once_found(&app, "graze", Duration::from_millis(100)).await;
    assert_eq!(titles, vec!["Zebras"], "not re-indexed within 10 s");
}

/// A local `/v1/embeddings`: each text's vector counts words of a few made-up concepts (so
/// "shrink" and "minimize" are near while no page says "shrink"); it records every input and
/// can be made to fail.
#[derive(Clone, Default)]
struct FakeEmbeddings {
    inputs: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl FakeEmbeddings {
    const CONCEPTS: [&'static [&'static str]; 3] = [
        &["shrink", "minimize", "minimized", "minimizable", "collapse"],
        &["chat", "message", "messages", "conversation"],
        &["zebra", "zebras", "stripe", "striped"],
    ];

    fn vector(text: &str) -> Vec<f32> {
        let mut v = vec![0.01f32; Self::CONCEPTS.len()];
        for word in text.to_lowercase().split(|c: char| !c.is_alphanumeric()) {
            for (dim, words) in Self::CONCEPTS.iter().enumerate() {
                if words.contains(&word) {
                    v[dim] += 1.0;
                }
            }
        }
        v
    }

    async fn start(&self) -> String {
        use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
        async fn embeddings(
            State(fake): State<FakeEmbeddings>,
            Json(body): Json<Value>,
        ) -> Result<Json<Value>, StatusCode> {
            if fake.down.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(StatusCode::SERVICE_UNAVAILABLE);
            }
            assert_eq!(body["model"], "fake-embed");
            let inputs: Vec<String> = body["input"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string())
                .collect();
            fake.inputs.lock().unwrap().extend(inputs.clone());
            // Out of order, as the index field allows.
            let data: Vec<Value> = inputs
                .iter()
                .enumerate()
                .rev()
                .map(|(i, t)| serde_json::json!({"object": "embedding", "index": i, "embedding": FakeEmbeddings::vector(t)}))
                .collect();
            Ok(Json(
                serde_json::json!({"object": "list", "data": data, "model": "fake-embed"}),
            ))
        }
        let app = Router::new()
            .route("/v1/embeddings", post(embeddings))
            .with_state(self.clone());
        crate::helpers::serve_local(app).await + "/v1"
    }

    /// Section texts embedded so far (queries have no blank line).
    fn sections_embedded(&self) -> usize {
        self.inputs
            .lock()
            .unwrap()
            .iter()
            .filter(|t| t.contains("\n\n"))
            .count()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_embeddings_search_is_hybrid_cached_and_falls_back_to_bm25() {
    let docs = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    page(
        docs.path(),
        "minimizable.md",
        "# Minimizable panel\n\nA panel people can minimize to the corner of the page.\n",
    );
    page(
        docs.path(),
        "chat.md",
        "# Chat log\n\nShows the messages of a conversation.\n",
    );
    page(docs.path(), "zebra.md", "# Zebras\n\nStriped animals.\n");
    let fake = FakeEmbeddings::default();
    let base = fake.start().await;
    let cache_dir = cache.path().display().to_string();
    let app = docs_app(
        docs.path(),
        "0",
        &[
            ("OPENAI_BASE_URL", &base),
            ("EMBEDDINGS_MODEL", "fake-embed"),
            ("EMBEDDINGS_CACHE_DIR", &cache_dir),
        ],
    )
    .await;
    // No page says "shrink": BM25 alone finds nothing, the vectors find the panel.
    let titles = titles_once_found(&app, "shrink", Duration::from_millis(50)).await;
    assert_eq!(
        titles.first().map(String::as_str),
        Some("Minimizable panel"),
        "{titles:?}"
    );
    assert_eq!(fake.sections_embedded(), 3);
    let files: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
    assert_eq!(files.len(), 1, "one cache file per model");

    // A re-index embeds only the section that is new.
    page(
        docs.path(),
        "toast.md",
        "# Toast\n\nA short message that goes away.\n",
    );
    let r = app.docs_reindex(Some(ADMIN)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(fake.sections_embedded(), 4);

    // The endpoint goes down: searches answer from BM25, never an error.
    fake.down.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        search_titles(&app, "minimize").await[0],
        "Minimizable panel"
    );
    assert!(search_titles(&app, "shrink").await.is_empty());
}

/// `/llms.txt` and `/llms-full.txt` (llmstxt.org) list and hold the pages of the index, and
/// follow a re-index; with a docs site configured, the links go there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llms_txt_lists_the_pages_and_follows_a_reindex() {
    let docs = tempfile::tempdir().unwrap();
    page(
        docs.path(),
        "zebra.md",
        "# Zebras\n\nStriped horses of the savanna.\n",
    );
    let app = docs_app(docs.path(), "0", &[("ASSISTANT_NAME", "Zoo Docs")]).await;
    let r = app.get("/llms.txt").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    let txt = r.text().await.unwrap();
    assert!(txt.starts_with("# Zoo Docs\n"), "{txt}");
    assert!(
        txt.contains("- [Zebras](/docs/zebra.md): Striped horses of the savanna."),
        "{txt}"
    );
    page(
        docs.path(),
        "okapi.md",
        "# Okapis\n\nStriped legs, giraffe relatives.\n",
    );
    assert_eq!(app.docs_reindex(Some(ADMIN)).await.status(), 200);
    let txt = app.get("/llms.txt").await.text().await.unwrap();
    assert!(txt.contains("- [Okapis](/docs/okapi.md)"), "{txt}");
    let full = app.get("/llms-full.txt").await.text().await.unwrap();
    assert!(
        full.contains("# Okapis\n\nSource: /docs/okapi.md\n\n"),
        "{full}"
    );
    assert!(full.contains("Striped horses of the savanna."), "{full}");

    let linked = docs_app(
        docs.path(),
        "0",
        &[("DOCS_BASE_URL", "https://docs.example.com")],
    )
    .await;
    let txt = linked.get("/llms.txt").await.text().await.unwrap();
    assert!(
        txt.contains("- [Zebras](https://docs.example.com/zebra)"),
        "{txt}"
    );
}
