//! What operators get: readiness, metrics, request ids, JSON logs without secrets, and a
//! graceful stop on SIGTERM.
use std::{process::Command, time::Duration};

use serde_json::{Value, json};

use crate::fake_model::{FakeModel, Step, status};
use crate::helpers::{
    Settings, content_type, free_port, json_of, new_client, ok_json, post_at, server_command,
    spawn_app, spawn_app_with, wait_healthy, wait_run_at,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_reports_the_database_and_the_docs_index() {
    let app = spawn_app().await;
    let body = ok_json(app.get("/readyz").await).await;
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], "ok");
    assert!(body["docs_pages"].as_u64().unwrap() >= 5, "{body}");
    // The folder is named by its setting, never by its path on the server.
    let sources = body["docs_sources"].as_array().unwrap();
    assert_eq!(sources.len(), 1, "{body}");
    assert_eq!(sources[0]["kind"], "folder");
    assert_eq!(sources[0]["location"], "DOCS_DIR");
    assert_eq!(sources[0]["pages"], body["docs_pages"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_description_covers_every_route() {
    let app = spawn_app().await;
    let spec = ok_json(app.get("/api/openapi.json").await).await;
    assert_eq!(spec["openapi"], "3.0.3");
    let paths = spec["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/paste-assistant-thread", vec!["post"]),
        ("/api/paste-assistant-threads", vec!["get"]),
        (
            "/api/paste-assistant-thread/{tid}",
            vec!["get", "put", "delete"],
        ),
        ("/api/paste-assistant-messages/{tid}", vec!["get"]),
        (
            "/api/paste-assistant-thread/{tid}/messages/{mid}/feedback",
            vec!["put", "delete"],
        ),
        ("/api/paste-assistant-message", vec!["post"]),
        ("/api/paste-assistant-thread/{tid}/run/{rid}", vec!["get"]),
        (
            "/api/paste-assistant-thread/{tid}/run/{rid}/steps",
            vec!["get"],
        ),
        (
            "/api/paste-assistant-thread/{tid}/run/{rid}/events",
            vec!["get"],
        ),
        (
            "/api/paste-assistant-thread/{tid}/run/{rid}/cancel",
            vec!["post"],
        ),
        ("/api/paste-assistant-simple-completion", vec!["post"]),
        ("/api/docs-search", vec!["get"]),
        ("/api/admin/questions", vec!["get"]),
        ("/api/admin/export.csv", vec!["get"]),
        ("/healthz", vec!["get"]),
        ("/readyz", vec!["get"]),
    ] {
        for method in methods {
            assert!(paths[path][method].is_object(), "{method} {path}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_runs_and_model_calls() {
    let app = spawn_app().await;
    let tid = app.answered("How do I deploy with Postgres?").await;
    let _ = app.get_thread(&tid).await;
    let r = app.get("/metrics").await;
    assert_eq!(r.status(), 200);
    assert!(content_type(&r).starts_with("text/plain; version=0.0.4"));
    let text = r.text().await.unwrap();
    assert!(text.contains("# TYPE paste_assistant_http_requests_total counter"));
    // Route patterns, not paths: no thread ids in labels.
    assert!(text.contains(
        "paste_assistant_http_requests_total{method=\"POST\",route=\"/api/paste-assistant-message\",status=\"200\"}"
    ), "{text}");
    assert!(
        text.contains("route=\"/api/paste-assistant-thread/{tid}\""),
        "{text}"
    );
    assert!(!text.contains(&tid), "ids stay out of labels");
    assert!(
        text.contains("paste_assistant_runs{status=\"completed\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("paste_assistant_upstream_request_duration_seconds_count{outcome=\"ok\"}")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_methods_share_one_label_and_metrics_can_require_a_token() {
    const TOKEN: &str = "metrics-token-metrics-token-metrics-0001";
    let app = spawn_app_with(Settings {
        vars: vec![("METRICS_TOKEN", TOKEN.into())],
    })
    .await;
    for method in ["XYZZY", "BREW", "PROPFIND"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = app
            .client
            .request(method, app.url("/api/paste-assistant-threads"))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{}", r.status());
    }
    let r = app.get("/metrics").await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let bearer = |token: &str| format!("Bearer {token}");
    let wrong = app
        .get_with(
            "/metrics",
            "authorization",
            &bearer("metrics-token-metrics-token-metrics-0002"),
        )
        .await;
    assert_eq!(wrong.status(), 401);
    let r = app
        .get_with("/metrics", "authorization", &bearer(TOKEN))
        .await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("method=\"OTHER\""), "{text}");
    for made_up in ["XYZZY", "BREW", "PROPFIND"] {
        assert!(!text.contains(made_up), "{made_up} became a label: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let r = app.get("/healthz").await;
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(id.starts_with("req_"), "{id}");
    let r = app
        .get_with("/api/paste-assistant-threads", "x-request-id", "lb-7f3a.9")
        .await;
    assert_eq!(
        r.headers()["x-request-id"],
        "lb-7f3a.9",
        "a sane caller id is kept"
    );
    let r = app
        .get_with("/healthz", "x-request-id", "x\" evil=\"1")
        .await;
    assert!(
        r.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .starts_with("req_"),
        "an odd one is replaced"
    );
}

/// The lines a child process writes to `stderr`, as they come.
fn log_lines(stderr: std::process::ChildStderr) -> tokio::sync::mpsc::UnboundedReceiver<String> {
    use std::io::BufRead;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    // A blocking pipe read: a thread of its own, ending when the process closes the pipe.
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

const API_KEY: &str = "sk-live-SECRET-api-key-0123456789";
const SLACK_TOKEN: &str = "xoxb-SECRET-slack-token-0123456789";
const SESSION_SECRET: &str = "SECRET-session-key-SECRET-session-key-0123";

/// The real binary with JSON logs at debug level, a model that first refuses the key, and a
/// Slack that is not there: a full run, errors included, then SIGTERM. No secret appears in
/// the logs, every line is JSON, and a request's lines carry its id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_json_with_request_ids_and_never_show_secrets() {
    let fake = FakeModel::start().await;
    fake.script([status(
        401,
        json!({"error": {"message": format!("Incorrect API key provided: {API_KEY}")}}),
    )]);
    fake.set_fallback(Step::Auto);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let db = format!("sqlite://{}/logs.db", dir.path().display());
    let mut server = server_command(port, &db)
        .env("SESSION_SECRET", SESSION_SECRET)
        .env("OPENAI_API_KEY", API_KEY)
        .env("OPENAI_BASE_URL", &fake.base_url)
        .env("OPENAI_MAX_RETRIES", "0")
        .env("SLACK_BOT_TOKEN", SLACK_TOKEN)
        .env("SLACK_CHANNEL", "C0LOGS")
        .env("SLACK_API_URL", format!("{}/nowhere", fake.base_url))
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "debug")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = log_lines(server.stderr.take().unwrap());
    let mut lines = Vec::new();
    let client = new_client();
    wait_healthy(&client, &base).await;
    let t: Value = json_of(
        client
            .post(format!("{base}/api/paste-assistant-thread"))
            .header("x-request-id", "trace-me-1")
            .json(&json!({})),
    )
    .await;
    let tid = t["id"].as_str().unwrap().to_string();
    for question in ["First try (the key is refused)", "Second try"] {
        let rid = post_at(&client, &base, &tid, question).await;
        let run = wait_run_at(&client, &base, &tid, &rid, Duration::from_secs(5)).await;
        assert!(!run.to_string().contains(API_KEY), "{run}");
    }
    let page = client.get(format!("{base}/t/{tid}")).send().await.unwrap();
    assert!(!page.text().await.unwrap().contains(API_KEY));
    let _ = client
        .post(format!("{base}/api/paste-assistant-message"))
        .body("{not json")
        .send()
        .await;
    // Slack's retries (0.5 + 1 + 2 + 4 s) log their failures meanwhile: wait for the last.
    let given_up = async {
        while let Some(line) = log.recv().await {
            let done = line.contains("Slack notice given up");
            lines.push(line);
            if done {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), given_up)
        .await
        .expect("Slack's failures are given up");
    // SIGTERM: a graceful stop.
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let stopped = server.wait().unwrap();
    assert!(stopped.success(), "a clean exit on SIGTERM: {stopped:?}");

    // The rest of the log, to the end of the stream (the server has exited).
    while let Some(line) = log.recv().await {
        lines.push(line);
    }
    let logs = lines.join("\n");
    assert!(logs.lines().count() > 10, "{logs}");
    for secret in [API_KEY, SLACK_TOKEN, SESSION_SECRET, "SECRET"] {
        assert!(!logs.contains(secret), "the logs show {secret}");
    }
    let lines: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["span"]["request_id"] == "trace-me-1"
            && l["fields"]["message"] == "request served"
            && l["fields"]["status"] == 200),
        "a request's line carries its id"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "Slack notice given up"),
        "Slack failures are logged"
    );
    assert!(lines.iter().any(|l| l["fields"]["message"] == "stopped"));
}
