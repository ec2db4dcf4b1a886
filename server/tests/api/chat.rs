//! What the chat page gets from the service beyond API.md: sources under answers, renaming,
//! retrying a failed question, and the headers, cookies and compression the page and the
//! widget rely on.
use std::time::Duration;

use app::api::{ErrorKind, ItemKind};
use app::service::{AssistantService, ClientAddr, SessionId};
use serde_json::json;

use crate::fake_model::{FakeModel, Step, status};
use crate::helpers::{Settings, TestApp, json_of, spawn_app, spawn_app_with};

const SESSION: &str = "session-under-test";

/// The pages' calls come from no known address here.
const ADDR: ClientAddr = ClientAddr(None);

fn session() -> SessionId {
    SessionId(SESSION.to_string())
}

/// The pages' view of the service.
fn ui(app: &TestApp) -> &dyn AssistantService {
    &app.assistant
}

/// Waits until the thread has no active run.
async fn settle(app: &TestApp, tid: &str) {
    for _ in 0..200 {
        let view = ui(app).thread_view(&session(), tid, 50).await.unwrap();
        if view.active_run.is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the run did not end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_list_the_docs_pages_their_run_searched() {
    let app = spawn_app().await;
    let thread = ui(&app).create_thread(&session(), &ADDR).await.unwrap();
    ui(&app)
        .send_message(
            &session(),
            &ADDR,
            &thread.id,
            "How do I deploy with Postgres?",
        )
        .await
        .unwrap();
    settle(&app, &thread.id).await;
    let view = ui(&app)
        .thread_view(&session(), &thread.id, 50)
        .await
        .unwrap();
    assert_eq!(view.items.len(), 2, "{view:?}");
    let answer = &view.items[1];
    assert_eq!(answer.kind, ItemKind::Assistant);
    assert!(!answer.sources.is_empty(), "{answer:?}");
    assert!(answer.sources.len() <= 6);
    for source in &answer.sources {
        assert!(source.url.starts_with("/docs/"), "{source:?}");
        assert!(
            !source.url.contains('#'),
            "a page, not a section: {source:?}"
        );
        assert!(!source.title.is_empty());
    }
    let urls: Vec<&str> = answer.sources.iter().map(|s| s.url.as_str()).collect();
    assert!(urls.contains(&"/docs/deployment.md"), "{urls:?}");
    let unique: std::collections::HashSet<&str> = urls.iter().copied().collect();
    assert_eq!(unique.len(), urls.len(), "each page once: {urls:?}");
    // Questions have none.
    assert!(view.items[0].sources.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_renames_a_thread_and_the_generated_title_does_not_overwrite_it() {
    let app = spawn_app().await;
    let s = session();
    let thread = ui(&app).create_thread(&s, &ADDR).await.unwrap();
    let renamed = ui(&app)
        .rename_thread(&s, &thread.id, "  My   Postgres\nnotes ")
        .await
        .unwrap();
    assert_eq!(renamed.title, "My Postgres notes");
    // The REST API sees it as threadTitle.
    let id = server::ids::ThreadId::parse(&thread.id).unwrap();
    let row = app.assistant.thread(SESSION, &id).await.unwrap();
    assert!(
        row.metadata
            .contains("\"threadTitle\":\"My Postgres notes\"")
    );
    // A title generated later (the first message's) keeps the person's.
    let titled = ui(&app)
        .title_thread(&s, &ADDR, &thread.id, "How do I deploy?")
        .await
        .unwrap();
    assert_eq!(titled.title, "My Postgres notes");

    for bad in ["", "   ", &"x".repeat(121)] {
        let e = ui(&app)
            .rename_thread(&s, &thread.id, bad)
            .await
            .unwrap_err();
        assert!(e.kind == ErrorKind::BadRequest, "{bad:?}: {e:?}");
    }
    let e = ui(&app)
        .rename_thread(&SessionId("someone-else".into()), &thread.id, "Mine")
        .await
        .unwrap_err();
    assert!(e.kind == ErrorKind::NotFound, "{e:?}");
    let list = ui(&app).list_threads(&s).await.unwrap();
    assert_eq!(list[0].title, "My Postgres notes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_question_can_be_retried_and_the_answer_replaces_the_error() {
    let fake = FakeModel::start().await;
    let app = spawn_app_with(Settings {
        vars: vec![
            ("OPENAI_BASE_URL", fake.base_url.clone()),
            ("OPENAI_API_KEY", "sk-test-key".into()),
            ("OPENAI_MAX_RETRIES", "0".into()),
        ],
    })
    .await;
    let s = session();
    let thread = ui(&app).create_thread(&s, &ADDR).await.unwrap();
    // Nothing to retry on an empty thread.
    let e = ui(&app).retry_run(&s, &ADDR, &thread.id).await.unwrap_err();
    assert!(e.kind == ErrorKind::Conflict, "{e:?}");

    fake.script([status(401, json!({"error": {"message": "bad key"}}))]);
    ui(&app)
        .send_message(&s, &ADDR, &thread.id, "What is Paste?")
        .await
        .unwrap();
    settle(&app, &thread.id).await;
    let view = ui(&app).thread_view(&s, &thread.id, 50).await.unwrap();
    let kinds: Vec<ItemKind> = view.items.iter().map(|i| i.kind).collect();
    assert_eq!(kinds, vec![ItemKind::User, ItemKind::Error]);
    assert!(
        view.items[1].retry,
        "the last question's error offers Retry"
    );

    // The retry's model call is held until the second retry has been refused.
    let release = fake.hold_next();
    fake.set_fallback(Step::Auto);
    let run = ui(&app).retry_run(&s, &ADDR, &thread.id).await.unwrap();
    assert!(!run.is_terminal(), "{run:?}");
    // While it runs, a second retry is refused.
    let second = ui(&app).retry_run(&s, &ADDR, &thread.id).await.unwrap_err();
    assert_eq!(second.kind, ErrorKind::Conflict, "{second:?}");
    release.notify_one();
    settle(&app, &thread.id).await;
    let view = ui(&app).thread_view(&s, &thread.id, 50).await.unwrap();
    let kinds: Vec<ItemKind> = view.items.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        vec![ItemKind::User, ItemKind::Assistant],
        "one question, its answer, no error: {view:?}"
    );
    // The question was not stored twice, and it has an answer now: nothing left to retry.
    assert_eq!(app.store.count("messages").await.unwrap(), 2);
    let e = ui(&app).retry_run(&s, &ADDR, &thread.id).await.unwrap_err();
    assert!(e.kind == ErrorKind::Conflict, "{e:?}");
    // Another session cannot retry it.
    let e = ui(&app)
        .retry_run(&SessionId("someone-else".into()), &ADDR, &thread.id)
        .await
        .unwrap_err();
    assert!(e.kind == ErrorKind::NotFound, "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_frame_rules_and_both_session_cookies() {
    let app = spawn_app().await;
    let r = app.get("/").await;
    assert_eq!(r.status(), 200);
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    assert!(cookies[1].starts_with("pa_embed="));
    for attribute in ["Secure", "SameSite=None", "Partitioned", "HttpOnly"] {
        assert!(cookies[1].contains(attribute), "{cookies:?}");
    }
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.ends_with("frame-ancestors 'self'"), "{csp}");
    // Scripts: this site's files, and inline ones only with this response's nonce.
    assert!(csp.contains("script-src 'self' 'nonce-"), "{csp}");
    assert!(!csp.contains("'unsafe-eval'") && csp.contains("object-src 'none'"));
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce")
        .to_string();
    assert_eq!(r.headers()["x-frame-options"], "SAMEORIGIN");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        r.headers()["referrer-policy"],
        "strict-origin-when-cross-origin"
    );
    let html = r.text().await.unwrap();
    let scripts = html.matches("<script").count();
    assert!(scripts > 0, "{html}");
    let with_nonce = html
        .split("<script")
        .skip(1)
        .filter(|tag| {
            tag.split('>')
                .next()
                .is_some_and(|attrs| attrs.contains(&format!("nonce=\"{nonce}\"")))
        })
        .count();
    assert_eq!(
        with_nonce, scripts,
        "every script carries the nonce: {html}"
    );
    // Another response, another nonce.
    let again = app.get("/").await;
    assert!(
        !again.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains(&nonce)
    );
    // CORS is closed: no cross-origin grants, preflight included.
    let preflight = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            app.url("/api/paste-assistant-threads"),
        )
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let cross = app
        .get_with(
            "/api/paste-assistant-threads",
            "origin",
            "https://evil.example",
        )
        .await;
    assert!(cross.headers().get("access-control-allow-origin").is_none());

    // The widget's page may be framed by any site unless an allow-list is set.
    let r = app.get("/embed").await;
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.ends_with("frame-ancestors *"), "{csp}");
    assert!(r.headers().get("x-frame-options").is_none());
    let html = r.text().await.unwrap();
    assert!(html.contains("thread-picker"), "the compact view");
    assert!(!html.contains("class=\"sidebar\""), "no full-page sidebar");

    let limited = spawn_app_with(Settings {
        vars: vec![(
            "WIDGET_ALLOWED_ORIGINS",
            "https://docs.example.com, http://127.0.0.1:3213".into(),
        )],
    })
    .await;
    let r = limited.get("/embed").await;
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.ends_with("frame-ancestors 'self' https://docs.example.com http://127.0.0.1:3213"),
        "{csp}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embed_cookie_alone_carries_the_session() {
    let app = spawn_app().await;
    let r = app.get("/").await;
    let embed_cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("pa_embed="))
        .unwrap();
    let pair = embed_cookie.split(';').next().unwrap().to_string();
    // What a cross-site iframe sends: only the partitioned cookie.
    let client = reqwest::Client::new();
    let created: serde_json::Value = json_of(
        client
            .post(app.url("/api/paste-assistant-thread"))
            .header("cookie", &pair)
            .json(&json!({})),
    )
    .await;
    let tid = created["id"].as_str().unwrap();
    let r = client
        .get(app.url(&format!("/api/paste-assistant-thread/{tid}")))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "same session with the embed cookie");
    assert!(r.headers().get("set-cookie").is_none(), "no new session");
    let r = client
        .get(app.url(&format!("/api/paste-assistant-thread/{tid}")))
        .header("cookie", "pa_embed=forged.c2lnbmF0dXJl")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "a forged cookie is another session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_are_compressed_when_the_browser_asks() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    for encoding in ["gzip", "br"] {
        let r = client
            .get(app.url("/"))
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-encoding"], encoding);
    }
    let r = client.get(app.url("/")).send().await.unwrap();
    assert!(r.headers().get("content-encoding").is_none());
    assert!(r.text().await.unwrap().contains("Paste Assistant"));
}
