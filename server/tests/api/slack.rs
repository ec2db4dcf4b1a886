//! Slack notices against a local receiver standing in for `chat.postMessage`: it checks the
//! token, channel, text and `thread_ts`, and can be slow, down or answer `ok: false`.
use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Json, Router, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use serde_json::{Value, json};

use crate::helpers::{Settings, TestApp, spawn_app_with};

const TOKEN: &str = "xoxb-test-token-not-for-logs";
const CHANNEL: &str = "C0DOCS";

/// How the receiver answers one call.
#[derive(Clone)]
enum Answer {
    Ok,
    Status(u16),
    NotOk(&'static str),
    /// Answers once the test releases it.
    Held(Arc<tokio::sync::Notify>),
}

#[derive(Clone, Debug)]
struct Call {
    authorization: Option<String>,
    body: Value,
}

#[derive(Default)]
struct Receiver {
    calls: Mutex<Vec<Call>>,
    script: crate::helpers::Script<Answer>,
    next_ts: Mutex<u32>,
    /// Woken by each call.
    arrived: tokio::sync::Notify,
}

async fn post_message(
    State(r): State<Arc<Receiver>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    r.calls.lock().unwrap().push(Call {
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body,
    });
    r.arrived.notify_waiters();
    let answer = r.script.next_or(Answer::Ok);
    let ok = || {
        let mut n = r.next_ts.lock().unwrap();
        *n += 1;
        (
            StatusCode::OK,
            Json(json!({"ok": true, "channel": CHANNEL, "ts": format!("1700000000.{:06}", *n)})),
        )
    };
    match answer {
        Answer::Ok => ok(),
        Answer::Status(code) => (
            StatusCode::from_u16(code).unwrap(),
            Json(json!({"ok": false, "error": "down"})),
        ),
        Answer::NotOk(error) => (StatusCode::OK, Json(json!({"ok": false, "error": error}))),
        Answer::Held(release) => {
            release.notified().await;
            ok()
        }
    }
}

async fn start_receiver() -> (String, Arc<Receiver>) {
    let receiver = Arc::new(Receiver::default());
    let app = Router::new()
        .route("/api/chat.postMessage", post(post_message))
        .with_state(receiver.clone());
    (crate::helpers::serve_local(app).await + "/api", receiver)
}

async fn app_with_slack(url: &str) -> TestApp {
    spawn_app_with(Settings {
        vars: vec![
            ("SLACK_BOT_TOKEN", TOKEN.to_string()),
            ("SLACK_CHANNEL", CHANNEL.to_string()),
            ("SLACK_API_URL", url.to_string()),
        ],
    })
    .await
}

/// Waits until the receiver has `n` calls.
async fn calls(r: &Receiver, n: usize, within: Duration) -> Vec<Call> {
    let arrived = async {
        loop {
            // Registered before the count is read, so a call in between is not missed.
            let next = r.arrived.notified();
            tokio::pin!(next);
            next.as_mut().enable();
            if r.calls.lock().unwrap().len() >= n {
                return;
            }
            next.await;
        }
    };
    let _ = tokio::time::timeout(within, arrived).await;
    r.calls.lock().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_thread_and_its_messages_are_posted_to_slack_in_one_slack_thread() {
    let (url, receiver) = start_receiver().await;
    let app = app_with_slack(&url).await;
    let tid = app.new_thread().await;
    let got = calls(&receiver, 1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(got[0].body["channel"], CHANNEL);
    assert_eq!(
        got[0].body["text"],
        format!("New Paste Assistant thread created: {tid}")
    );
    assert!(got[0].body.get("thread_ts").is_none());
    // The ts Slack returned is kept with the thread.
    for _ in 0..100 {
        if app.store.slack_ts(&tid).await.unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ts = app.store.slack_ts(&tid).await.unwrap().unwrap();
    assert_eq!(ts, "1700000000.000001");

    for question in ["How do I deploy?", "And with Postgres?"] {
        let rid = app.send(&tid, question).await;
        app.wait_for_run(&tid, &rid).await;
    }
    let got = calls(&receiver, 3, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 3, "{got:?}");
    for (call, text) in got[1..]
        .iter()
        .zip(["How do I deploy?", "And with Postgres?"])
    {
        assert_eq!(call.body["channel"], CHANNEL);
        assert_eq!(call.body["text"], text);
        assert_eq!(
            call.body["thread_ts"], ts,
            "a reply in the thread's Slack thread"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_right_after_its_thread_waits_for_the_announcement() {
    let (url, receiver) = start_receiver().await;
    // The announcement hangs until released: the person's requests are answered meanwhile,
    // and the message's notice still becomes its reply once Slack answers.
    let release = Arc::new(tokio::sync::Notify::new());
    receiver.script.extend([Answer::Held(release.clone())]);
    let app = app_with_slack(&url).await;
    let tid = app.new_thread().await;
    let r = app.post_message(&tid, "Quick question").await;
    assert_eq!(
        r.status(),
        200,
        "a hanging Slack does not hold up the person"
    );
    assert_eq!(calls(&receiver, 1, Duration::from_secs(10)).await.len(), 1);
    assert!(
        app.store.slack_ts(&tid).await.unwrap().is_none(),
        "Slack has not answered yet"
    );
    release.notify_one();
    let got = calls(&receiver, 2, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1].body["text"], "Quick question");
    assert_eq!(got[1].body["thread_ts"], "1700000000.000001");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_down_is_retried_in_the_background_and_never_fails_the_request() {
    let (url, receiver) = start_receiver().await;
    receiver
        .script
        .extend([Answer::Status(503), Answer::NotOk("ratelimited")]);
    let app = app_with_slack(&url).await;
    let r = app.create_thread(&json!({})).await;
    assert_eq!(r.status(), 200, "Slack failing does not fail the request");
    let tid = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let got = calls(&receiver, 3, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 3, "two failures, then delivered: {got:?}");
    assert!(
        got.iter()
            .all(|c| c.body["text"] == format!("New Paste Assistant thread created: {tid}"))
    );
    // A message's notice is posted once it finds the thread's ts stored: then it is there.
    app.send(&tid, "Still there?").await;
    calls(&receiver, 4, Duration::from_secs(10)).await;
    assert_eq!(
        app.store.slack_ts(&tid).await.unwrap().as_deref(),
        Some("1700000000.000001")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slack_that_keeps_refusing_is_given_up_after_a_bounded_number_of_attempts() {
    let (url, receiver) = start_receiver().await;
    receiver
        .script
        .set_fallback(Answer::NotOk("channel_not_found"));
    let app = app_with_slack(&url).await;
    let tid = app.new_thread().await;
    let rid = app.send(&tid, "Is anyone there?").await;
    assert_eq!(app.wait_for_run(&tid, &rid).await["status"], "completed");
    // 5 attempts for the announcement (0.5 + 1 + 2 + 4 s of waits), then no more; the message's
    // notice never gets a thread ts and gives up too, without calling Slack.
    let got = calls(&receiver, 6, Duration::from_secs(12)).await;
    assert_eq!(got.len(), server::slack::ATTEMPTS as usize, "{got:?}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(receiver.calls.lock().unwrap().len(), 5);
    assert!(app.store.slack_ts(&tid).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitors_text_arrives_as_text_without_mentions_links_or_previews() {
    let (url, receiver) = start_receiver().await;
    let app = app_with_slack(&url).await;
    let tid = app.new_thread().await;
    let hostile = format!(
        "<!channel> your account is locked: <https://evil.example|Reset password> & {}",
        "x".repeat(5_000)
    );
    app.send(&tid, &hostile).await;
    let got = calls(&receiver, 2, Duration::from_secs(10)).await;
    let text = got[1].body["text"].as_str().unwrap();
    assert!(
        text.starts_with(
            "&lt;!channel&gt; your account is locked: &lt;https://evil.example|Reset password&gt; &amp; "
        ),
        "{text}"
    );
    assert!(!text.contains('<') && !text.contains('>'));
    let unescaped = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    assert!(hostile.starts_with(unescaped.trim_end_matches('…')));
    assert_eq!(
        unescaped.chars().count(),
        3_001,
        "cut at 3,000 characters and marked"
    );
    for call in &got {
        assert_eq!(call.body["unfurl_links"], false);
        assert_eq!(call.body["unfurl_media"], false);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_threads_from_one_address_does_not_flood_the_channel() {
    let (url, receiver) = start_receiver().await;
    let app = spawn_app_with(Settings {
        vars: vec![
            ("SLACK_BOT_TOKEN", TOKEN.to_string()),
            ("SLACK_CHANNEL", CHANNEL.to_string()),
            ("SLACK_API_URL", url.to_string()),
            ("SLACK_NOTICES_ADDR_PER_MIN", "3".to_string()),
            ("TRUST_PROXY", "true".to_string()),
        ],
    })
    .await;
    let flooder = app.session_from("203.0.113.66");
    let mut flood = Vec::new();
    for _ in 0..8 {
        flood.push(flooder.new_thread().await);
    }
    // Each notice is allowed or dropped before its request is answered, so once another
    // address's notice is in, every notice the flood will ever cause has been sent.
    let other = app.session_from("203.0.113.67").new_thread().await;
    let got = calls(&receiver, 4, Duration::from_secs(10)).await;
    let texts: Vec<&str> = got
        .iter()
        .map(|c| c.body["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 4, "{texts:?}");
    assert!(texts.iter().any(|t| t.ends_with(&other)), "{texts:?}");
    for tid in &flood[..3] {
        assert!(texts.iter().any(|t| t.ends_with(tid.as_str())), "{texts:?}");
    }
}
