use serde_json::{Value, json};

use crate::helpers::{Settings, assert_error, content_type, ok_json, spawn_app, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_completion_answers_like_chat_completions() {
    let app = spawn_app().await;
    let r = app
        .simple_completion(&json!({"prompt": "How do I set up Paste Assistant on my machine?", "context": "Write a short title."}))
        .await;
    assert_eq!(r.status(), 200);
    let c: Value = r.json().await.unwrap();
    assert_eq!(c["object"], "chat.completion");
    assert_eq!(c["choices"][0]["index"], 0);
    assert_eq!(c["choices"][0]["message"]["role"], "assistant");
    assert_eq!(c["choices"][0]["finish_reason"], "stop");
    let title = c["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(title.contains("Paste Assistant"), "{title}");
    assert!(title.split_whitespace().count() <= 5, "{title}");
    assert!(c["usage"]["total_tokens"].as_u64().is_some());
    assert_error(
        app.simple_completion(&json!({})).await,
        400,
        "invalid_request_error",
    )
    .await;
    assert_error(
        app.simple_completion(&json!({"prompt": " "})).await,
        400,
        "invalid_request_error",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_search_returns_sections_best_first() {
    let app = spawn_app().await;
    let body = ok_json(app.docs_search("?q=postgres%20deployment&limit=3").await).await;
    let data = body["data"].as_array().unwrap();
    assert!(!data.is_empty() && data.len() <= 3);
    for key in ["path", "title", "heading", "slug", "content", "score"] {
        assert!(data[0].get(key).is_some(), "{key}");
    }
    let scores: Vec<f64> = data.iter().map(|d| d["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]));
    assert!(data[0]["path"].as_str().unwrap().ends_with(".md"));
    for bad in ["", "?q=", "?q=x&limit=0", "?q=x&limit=51", "?q=x&limit=ten"] {
        assert_error(app.docs_search(bad).await, 400, "invalid_request_error").await;
    }
    let few: Value = app.docs_search("?q=the").await.json().await.unwrap();
    assert!(few["data"].as_array().unwrap().len() <= 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_pages_that_answers_link_to_are_served() {
    let app = spawn_app().await;
    let body = ok_json(app.docs_search("?q=partitioned%20cookie%20widget").await).await;
    let hit = &body["data"][0];
    let url = hit["url"].as_str().unwrap();
    let r = app.get(url).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let slug = hit["slug"].as_str().unwrap();
    assert!(!slug.is_empty(), "the best hit is a section: {hit}");
    assert!(
        html.contains(&format!("id=\"{slug}\"")),
        "anchor {slug} exists"
    );
    assert_error(app.get("/docs/nope.md").await, 404, "not_found_error").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_unknown_routes_and_wrong_methods_get_error_objects() {
    let app = spawn_app().await;
    assert_error(
        app.post_raw("/api/paste-assistant-thread", "{not json")
            .await,
        400,
        "invalid_request_error",
    )
    .await;
    assert_error(
        app.post_raw("/api/paste-assistant-message", "[1,2]").await,
        400,
        "invalid_request_error",
    )
    .await;
    let big = format!(
        "{{\"threadId\":\"x\",\"message\":\"{}\"}}",
        "a".repeat(1024 * 1024 + 10)
    );
    assert_error(
        app.post_raw("/api/paste-assistant-message", big).await,
        413,
        "invalid_request_error",
    )
    .await;
    assert_error(app.get("/api/no-such-route").await, 404, "not_found_error").await;
    let r = app
        .bodiless(reqwest::Method::DELETE, "/api/paste-assistant-threads")
        .await;
    assert_error(r, 405, "invalid_request_error").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_when_the_database_does() {
    let app = spawn_app().await;
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_from_one_session_get_429_with_retry_after() {
    let app = spawn_app_with(Settings {
        vars: vec![("RATE_LIMIT_SESSION_PER_MIN", "3".into())],
    })
    .await;
    for _ in 0..3 {
        assert_eq!(app.create_thread(&json!({})).await.status(), 200);
    }
    let r = app.create_thread(&json!({})).await;
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    assert_error(r, 429, "rate_limit_error").await;
    // Reading is not limited, and another session has its own budget.
    assert_eq!(app.list_threads("").await.status(), 200);
    assert_eq!(
        app.other_session().create_thread(&json!({})).await.status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_from_one_address_get_429() {
    let app = spawn_app_with(Settings {
        vars: vec![("RATE_LIMIT_ADDR_PER_MIN", "2".into())],
    })
    .await;
    assert_eq!(app.create_thread(&json!({})).await.status(), 200);
    assert_eq!(
        app.other_session().create_thread(&json!({})).await.status(),
        200
    );
    assert_error(
        app.other_session().create_thread(&json!({})).await,
        429,
        "rate_limit_error",
    )
    .await;
}

/// The fields OpenAI's schema marks required (reference/openai-assistants-openapi.yaml).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_carry_every_field_openais_schema_requires() {
    let app = spawn_app().await;
    let (tid, run) = app.ask("What is a thread?").await;
    let thread: Value = app.get_thread(&tid).await.json().await.unwrap();
    let messages: Value = app.list_messages(&tid, "").await.json().await.unwrap();
    let steps = app.steps(&tid, run["id"].as_str().unwrap()).await;
    let required: [(&Value, &[&str]); 4] = [
        (
            &thread,
            &["id", "object", "created_at", "tool_resources", "metadata"],
        ),
        (
            &messages["data"][1],
            &[
                "id",
                "object",
                "created_at",
                "thread_id",
                "status",
                "incomplete_details",
                "completed_at",
                "incomplete_at",
                "role",
                "content",
                "assistant_id",
                "run_id",
                "attachments",
                "metadata",
            ],
        ),
        (
            &run,
            &[
                "id",
                "object",
                "created_at",
                "thread_id",
                "assistant_id",
                "status",
                "required_action",
                "last_error",
                "expires_at",
                "started_at",
                "cancelled_at",
                "failed_at",
                "completed_at",
                "model",
                "instructions",
                "tools",
                "metadata",
                "usage",
                "incomplete_details",
                "max_prompt_tokens",
                "max_completion_tokens",
                "truncation_strategy",
                "tool_choice",
                "parallel_tool_calls",
                "response_format",
            ],
        ),
        (
            &steps["data"][0],
            &[
                "id",
                "object",
                "created_at",
                "assistant_id",
                "thread_id",
                "run_id",
                "type",
                "status",
                "step_details",
                "last_error",
                "expired_at",
                "cancelled_at",
                "failed_at",
                "completed_at",
                "metadata",
                "usage",
            ],
        ),
    ];
    for (object, keys) in required {
        for key in keys {
            assert!(object.get(*key).is_some(), "{key} missing from {object}");
        }
    }
}

/// A docs answer without its snippet is no answer: the offline model quotes code blocks whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_answer_quotes_the_snippet_it_is_about() {
    let app = spawn_app().await;
    let tid = app
        .answered("How do I embed the widget on my docs site?")
        .await;
    let answer = app.answer_text(&tid).await;
    assert!(
        answer.contains("```html\n<script src=\"https://ASSISTANT/widget.js\""),
        "{answer}"
    );
    let fences = answer
        .lines()
        .filter(|l| l.trim_start().starts_with("```"))
        .count();
    assert_eq!(fences % 2, 0, "every code block is whole: {answer}");
}

/// On a host page that declares no charset, a script served without one is read in the
/// page's (the close button's "×" became "Ã—"): text says it is UTF-8, and the widget's
/// script is ASCII anyway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_assets_say_they_are_utf8_and_the_widget_script_is_ascii() {
    use crate::helpers::{free_port, new_client, server_command, wait_healthy};
    let site = tempfile::tempdir().unwrap();
    let script =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../public/widget.js")).unwrap();
    assert!(script.is_ascii(), "public/widget.js holds only ASCII");
    std::fs::write(site.path().join("widget.js"), &script).unwrap();
    let port = free_port();
    let db = format!("sqlite://{}/assets.db", site.path().display());
    let mut server = server_command(port, &db)
        .env("LEPTOS_SITE_ROOT", site.path())
        .env("ASSISTANT_NAME", "Café Docs")
        .spawn()
        .expect("the server binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = new_client();
    wait_healthy(&client, &base).await;
    for (path, expected) in [
        ("/widget.js", "text/javascript; charset=utf-8"),
        ("/admin/style.css", "text/css; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
    ] {
        let r = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(content_type(&r), expected, "{path}");
    }
    // The widget's default title is the assistant's name, still in ASCII.
    let served = client
        .get(format!("{base}/widget.js"))
        .send()
        .await
        .unwrap();
    let served = served.text().await.unwrap();
    assert!(served.is_ascii());
    assert!(
        served.contains(r#"(data.title || "Caf\u00e9 Docs")"#),
        "the name as the default title"
    );
    crate::helpers::stop(&mut server);
}
