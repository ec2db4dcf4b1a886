//! Readers rate answers: `PUT …/messages/{mid}/feedback` stores (and changes) a rating, the
//! message object shows it in `metadata.feedback`, `DELETE` removes it; only the caller's own
//! answers, and bad values get a clear 400.
use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::{TestApp, body_of, ok_json, spawn_app};

fn feedback_path(tid: &str, mid: &str) -> String {
    format!("/api/paste-assistant-thread/{tid}/messages/{mid}/feedback")
}

async fn rate(app: &TestApp, tid: &str, mid: &str, body: &Value) -> Response {
    app.rate(tid, mid, body).await
}

async fn unrate(app: &TestApp, tid: &str, mid: &str) -> Response {
    app.bodiless(reqwest::Method::DELETE, &feedback_path(tid, mid))
        .await
}

/// The thread's messages, oldest first.
async fn messages(app: &TestApp, tid: &str) -> Vec<Value> {
    let list = ok_json(app.list_messages(tid, "?order=asc").await).await;
    list["data"].as_array().unwrap().clone()
}

/// A thread with one answered question: (thread, question id, answer id).
async fn answered(app: &TestApp) -> (String, String, String) {
    let tid = app.answered("How do I deploy with Postgres?").await;
    let m = messages(app, &tid).await;
    let id = |i: usize| m[i]["id"].as_str().unwrap().to_string();
    assert_eq!(m[1]["role"], "assistant");
    (tid, id(0), id(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_rate_answers_and_can_change_or_remove_the_rating() {
    let app = spawn_app().await;
    let (tid, _, answer) = answered(&app).await;

    let up = ok_json(rate(&app, &tid, &answer, &json!({"rating": "up"})).await).await;
    assert_eq!(up["object"], "thread.message.feedback");
    assert_eq!(up["message_id"], answer.as_str());
    assert_eq!(up["thread_id"], tid.as_str());
    assert_eq!(up["rating"], "up");
    assert_eq!(up["reason"], Value::Null);
    assert_eq!(messages(&app, &tid).await[1]["metadata"]["feedback"], "up");

    // Changed: not helpful, with a reason and the reader's words.
    let down = ok_json(
        rate(
            &app,
            &tid,
            &answer,
            &json!({"rating": "down", "reason": "incomplete", "comment": "  No example for Docker.  "}),
        )
        .await,
    )
    .await;
    assert_eq!(down["rating"], "down");
    assert_eq!(down["reason"], "incomplete");
    assert_eq!(down["comment"], "No example for Docker.");
    assert_eq!(down["created_at"], up["created_at"], "one rating, changed");
    assert_eq!(
        messages(&app, &tid).await[1]["metadata"]["feedback"],
        "down"
    );

    let gone = ok_json(unrate(&app, &tid, &answer).await).await;
    assert_eq!(gone["object"], "thread.message.feedback.deleted");
    assert_eq!(gone["deleted"], true);
    assert!(messages(&app, &tid).await[1]["metadata"]["feedback"].is_null());
    let again = ok_json(unrate(&app, &tid, &answer).await).await;
    assert_eq!(again["deleted"], false, "nothing left to remove");

    // The thread goes with its ratings.
    ok_json(rate(&app, &tid, &answer, &json!({"rating": "up"})).await).await;
    ok_json(app.delete_thread(&tid).await).await;
    assert_eq!(
        rate(&app, &tid, &answer, &json!({"rating": "up"}))
            .await
            .status(),
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_callers_answers_are_rated_and_bad_values_are_refused() {
    let app = spawn_app().await;
    let (tid, question, answer) = answered(&app).await;
    let up = json!({"rating": "up"});

    // Someone else's answer, a question, an unknown answer: as missing as each other.
    let other = app.other_session();
    for (who, mid) in [(&other, &answer), (&app, &question)] {
        let r = rate(who, &tid, mid, &up).await;
        assert_eq!(r.status(), 404, "{mid}");
        assert_eq!(unrate(who, &tid, mid).await.status(), 404);
    }
    let unknown = "msg_unknown0000000000000000";
    assert_eq!(rate(&app, &tid, unknown, &up).await.status(), 404);
    let malformed = rate(&app, &tid, "msg_a'b", &up).await;
    assert_eq!(malformed.status(), 400);

    let long = "x".repeat(1001);
    for (body, says) in [
        (json!({}), "`rating`"),
        (json!({"rating": "meh"}), "`rating`"),
        (json!({"rating": "up", "reason": "wrong"}), "reason"),
        (json!({"rating": "down", "reason": "boring"}), "`reason`"),
        (json!({"rating": "down", "comment": long}), "1000"),
        (json!({"rating": "down", "stars": 5}), "stars"),
        (json!({"rating": 1}), "rating"),
    ] {
        let r = rate(&app, &tid, &answer, &body).await;
        assert_eq!(r.status(), 400, "{body}");
        let e = body_of(r).await;
        let message = e["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{body}: {message}");
    }
    // Not JSON at all.
    let r = app
        .client
        .put(app.url(&feedback_path(&tid, &answer)))
        .header("content-type", "text/plain")
        .body("up")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    // Nothing of that was stored.
    assert!(messages(&app, &tid).await[1]["metadata"]["feedback"].is_null());

    // The longest comment, every reason.
    let most = "é".repeat(1000);
    for reason in ["wrong", "incomplete", "off_topic"] {
        let body = json!({"rating": "down", "reason": reason, "comment": most});
        let stored = ok_json(rate(&app, &tid, &answer, &body).await).await;
        assert_eq!(stored["reason"], reason);
        assert_eq!(stored["comment"], most.as_str());
    }
}
