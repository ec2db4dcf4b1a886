//! The MCP server at /mcp, through the official Python SDK (`mcp==2.3.0` in .tools/venv, which
//! scripts/setup.sh installs) as a coding agent's client would use it, and over plain HTTP for
//! what a client of the SDK never sends (other sites' origins, bad JSON, floods).
use serde_json::{Value, json};

use crate::fake_model::{FakeModel, answer};
use crate::helpers::{Settings, TestApp, paste_docs, spawn_app, spawn_app_with};

/// Runs the Python client's `scenario` against `app`'s /mcp (in a blocking task: the client
/// is a process of its own) and returns what it printed.
async fn client(app: &TestApp, scenario: &[&str]) -> Value {
    let url = app.url("/mcp");
    let scenario: Vec<String> = scenario.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || run_client(&url, &scenario))
        .await
        .unwrap()
}

fn run_client(url: &str, scenario: &[String]) -> Value {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".tools/venv/bin/python");
    assert!(
        python.exists(),
        "the MCP Python SDK is missing: scripts/setup.sh --with-browser installs it"
    );
    let out = std::process::Command::new(python)
        .arg(root.join("server/tests/mcp/client.py"))
        .arg(url)
        .args(scenario)
        .output()
        .expect("the Python client runs");
    assert!(
        out.status.success(),
        "client {scenario:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the client prints JSON")
}

/// A JSON-RPC request posted by hand, with `headers`.
async fn post(app: &TestApp, body: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(app.url("/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string());
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.send().await.unwrap()
}

/// A server with `vars` set.
async fn app_with(vars: &[(&'static str, &str)]) -> TestApp {
    let vars = vars.iter().map(|(k, v)| (*k, v.to_string())).collect();
    spawn_app_with(Settings { vars }).await
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_searches_and_reads_the_docs() {
    let app = spawn_app().await;
    let seen = client(&app, &["session"]).await;
    assert_eq!(seen["server"], "paste-assistant");
    assert!(seen["protocol"].as_str().unwrap() >= "2025-06-18", "{seen}");
    let tools: Vec<&str> = seen["tools"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        tools,
        ["get_doc_page", "search_docs"],
        "ask_docs is off by default"
    );
    let schema = &seen["tools"]["search_docs"]["input"];
    assert_eq!(schema["required"], json!(["query"]));
    assert_eq!(schema["properties"]["limit"]["maximum"], 20);
    // Search: structured results, and the same as text for clients that read only text.
    assert_eq!(seen["search"]["is_error"], false);
    let results = seen["search"]["structured"]["results"].as_array().unwrap();
    assert!(!results.is_empty() && results.len() <= 3, "{results:?}");
    assert_eq!(results[0]["path"], "widget.md", "{results:?}");
    for field in ["title", "section", "path", "url", "content"] {
        assert!(results[0][field].is_string(), "{field}");
    }
    assert!(
        seen["search"]["text"]
            .as_str()
            .unwrap()
            .contains("widget.md")
    );
    // The page whole, as Markdown.
    let page = seen["page"]["text"].as_str().unwrap();
    assert_eq!(seen["page"]["is_error"], false);
    assert!(
        page.starts_with(
            "# Embedding the assistant on a docs site\n\nPath: widget.md\nLink: /docs/widget.md"
        ),
        "{page}"
    );
    // Any other path is a tool error naming the pages that exist; nothing is read by its name.
    for bad in ["no/such/page.md", "../Cargo.toml", "/etc/passwd"] {
        let e = &seen["errors"][bad];
        assert_eq!(e["is_error"], true, "{bad}");
        let text = e["text"].as_str().unwrap();
        assert!(
            text.contains("No docs page") && text.contains("widget.md"),
            "{text}"
        );
        assert!(
            !text.contains("[package]") && !text.contains("root:"),
            "{text}"
        );
    }
    assert_eq!(seen["empty_query"]["is_error"], true);
    assert!(
        seen["big_limit"]["text"]
            .as_str()
            .unwrap()
            .contains("1 to 20")
    );
    assert_eq!(seen["ask"]["protocol_error"], "tool not found");
}

/// search_docs is get_relevant_docs' search: on the Paste docs its page recall@5 for the 50 dev
/// questions is exactly what the tool hands a model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_over_mcp_finds_the_dev_questions_pages_as_the_runs_do() {
    let docs = paste_docs();
    let app = app_with(&[("DOCS_DIR", &docs), ("DOCS_WATCH_SECS", "0")]).await;
    let questions = server::docs::eval::dev_questions();
    let found = client(&app, &["search", &questions.display().to_string()]).await;
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 50);
    let recall: f64 = found
        .iter()
        .map(|q| {
            let relevant = q["relevant"].as_array().unwrap();
            let paths = q["paths"].as_array().unwrap();
            let hit = relevant.iter().filter(|r| paths.contains(r)).count();
            hit as f64 / relevant.len() as f64
        })
        .sum::<f64>()
        / found.len() as f64;
    let index = server::docs::DocsIndex::build(std::path::Path::new(&docs), None).unwrap();
    let qs = server::docs::eval::load_questions(&questions).unwrap();
    let tool = server::docs::eval::tool_recall(&index, &qs);
    assert!(
        (recall - tool).abs() < 1e-9,
        "MCP {recall:.3}, get_relevant_docs {tool:.3}"
    );
    assert!(recall >= 0.85, "{recall:.3}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_sites_are_refused_unless_listed_and_bad_json_gets_a_jsonrpc_error() {
    let app = app_with(&[("WIDGET_ALLOWED_ORIGINS", "https://docs.example.com")]).await;
    let own = app.url("").trim_end_matches('/').to_string();
    let r = post(&app, INITIALIZE, &[("origin", "https://evil.example")]).await;
    assert_eq!(r.status(), 403);
    for allowed in ["https://docs.example.com", own.as_str()] {
        let r = post(&app, INITIALIZE, &[("origin", allowed)]).await;
        assert_eq!(r.status(), 200, "{allowed}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["result"]["serverInfo"]["name"], "paste-assistant");
    }
    // Not JSON, an empty batch, an unknown method: JSON-RPC errors, never a 500.
    for (body, status, code) in [
        ("{not json", 400, -32700),
        ("", 400, -32700),
        ("[]", 400, -32600),
    ] {
        let r = post(&app, body, &[]).await;
        assert_eq!(r.status(), status, "{body:?}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["code"], code, "{body:?}: {e}");
    }
    let r = post(&app, r#"{"jsonrpc":"2.0","id":7,"method":"no/such"}"#, &[]).await;
    assert!(r.status().as_u16() < 500);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["id"], 7);
    assert!(e["error"]["code"].is_i64(), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_limit_counts_mcp_requests_and_mcp_can_be_off() {
    let app = app_with(&[("RATE_LIMIT_READS_ADDR_PER_MIN", "3")]).await;
    for _ in 0..3 {
        assert_eq!(post(&app, INITIALIZE, &[]).await.status(), 200);
    }
    let r = post(&app, INITIALIZE, &[]).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));

    let off = app_with(&[("MCP_ENABLED", "false")]).await;
    assert_eq!(post(&off, INITIALIZE, &[]).await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_docs_answers_with_sources_when_on_within_the_budget() {
    let fake = FakeModel::start().await;
    fake.script([answer(
        "Add the script tag to your pages [widget](/docs/widget.md).",
    )]);
    let app = app_with(&[("OPENAI_BASE_URL", &fake.base_url), ("MCP_ASK", "true")]).await;
    let seen = client(&app, &["ask"]).await;
    assert_eq!(seen["is_error"], false, "{seen}");
    let text = seen["text"].as_str().unwrap();
    assert!(text.starts_with("Add the script tag"), "{text}");
    assert!(
        text.contains("Sources:\n- [Embedding the assistant on a docs site](/docs/widget.md)"),
        "{text}"
    );
    assert_eq!(seen["structured"]["status"], "completed");
    // The run was a reader's run: it counted, and the model got the question.
    assert_eq!(fake.requests().len(), 1);

    // Past the day's budget for the address, the tool says so instead of answering.
    let broke = app_with(&[
        ("OPENAI_BASE_URL", &fake.base_url),
        ("MCP_ASK", "true"),
        ("TOKEN_BUDGET_PER_DAY", "1"),
    ])
    .await;
    broke
        .store
        .add_tokens(server::engine::today(), None, 5)
        .await
        .unwrap();
    let seen = client(&broke, &["ask"]).await;
    assert_eq!(seen["is_error"], true, "{seen}");
    assert!(
        seen["text"]
            .as_str()
            .unwrap()
            .contains("as many questions as it can today"),
        "{seen}"
    );
}
