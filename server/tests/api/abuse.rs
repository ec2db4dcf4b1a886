//! Limits on what one browser or address can make the server do, and trusting a proxy only
//! when told to.
use std::time::Duration;

use serde_json::Value;

use crate::fake_model::{FakeModel, Step};
use crate::helpers::{Settings, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_has_a_bounded_number_of_answers_in_progress() {
    let fake = FakeModel::start().await;
    fake.set_fallback(Step::Delay(Duration::from_secs(3), Box::new(Step::Auto)));
    let app = spawn_app_with(Settings {
        vars: vec![
            ("OPENAI_BASE_URL", fake.base_url.clone()),
            ("MAX_ACTIVE_RUNS_PER_SESSION", "2".into()),
        ],
    })
    .await;
    let mut runs = Vec::new();
    for i in 0..2 {
        let tid = app.new_thread().await;
        let rid = app.send(&tid, &format!("Slow question {i}")).await;
        runs.push((tid, rid));
    }
    let third = app.new_thread().await;
    let r = app.post_message(&third, "One too many").await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "5");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_active_runs");
    assert!(body["error"]["message"].as_str().unwrap().contains("wait"));
    let l: Value = app.list_messages(&third, "").await.json().await.unwrap();
    assert_eq!(l["data"].as_array().unwrap().len(), 0, "nothing stored");
    // Another browser is not affected.
    let other = app.other_session();
    let tid = other.new_thread().await;
    assert_eq!(other.post_message(&tid, "Mine").await.status(), 200);
    // Once an answer is done, there is room again.
    fake.set_fallback(Step::Auto);
    let (tid, rid) = &runs[0];
    assert_eq!(app.wait_for_run(tid, rid).await["status"], "completed");
    assert_eq!(app.post_message(&third, "Now?").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_headers_are_believed_only_with_trust_proxy() {
    for trust in [false, true] {
        let app = spawn_app_with(Settings {
            vars: vec![
                ("TRUST_PROXY", trust.to_string()),
                ("RATE_LIMIT_ADDR_PER_MIN", "2".into()),
                ("RATE_LIMIT_SESSION_PER_MIN", "0".into()),
            ],
        })
        .await;
        // The session cookie is Secure when the proxy says the browser uses HTTPS.
        let r = reqwest::Client::new()
            .get(app.url("/"))
            .header("x-forwarded-proto", "https")
            .send()
            .await
            .unwrap();
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(cookie.starts_with("pa_session="));
        assert_eq!(
            cookie.ends_with("; Secure"),
            trust,
            "trust={trust}: {cookie}"
        );
        // Clients behind the proxy are counted apart only when it is trusted; a forged
        // X-Forwarded-For from a client is otherwise ignored.
        let post = |addr: &'static str| {
            let client = reqwest::Client::new();
            let url = app.url("/api/paste-assistant-thread");
            async move {
                client
                    .post(url)
                    .header("x-forwarded-for", addr)
                    .json(&serde_json::json!({}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        let statuses = [
            post("203.0.113.1").await,
            post("203.0.113.2").await,
            post("203.0.113.3").await,
            post("203.0.113.1").await,
            post("203.0.113.1").await,
        ];
        let expected = if trust {
            [200, 200, 200, 200, 429]
        } else {
            [200, 200, 429, 429, 429]
        };
        assert_eq!(statuses, expected, "trust={trust}");
    }
}
