//! `RETENTION_DAYS`: a thread with no new message for longer is deleted with everything
//! about it, by a sweep that is safe to run on several instances at once.
use serde_json::json;

use server::ids::now_secs;

use crate::helpers::{Settings, TestApp, ok_json, spawn_app_with};

const DAY: i64 = 86_400;

async fn app_keeping(days: &str) -> TestApp {
    spawn_app_with(Settings {
        vars: vec![
            ("RETENTION_DAYS", days.into()),
            ("ADMIN_TOKEN", "retention-token-retention-token-0001".into()),
        ],
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_past_the_retention_period_are_deleted_with_everything_about_them() {
    let app = app_keeping("7").await;
    let tid = app.answered("How do I deploy with Postgres?").await;
    let list = ok_json(app.list_messages(&tid, "?order=asc").await).await;
    let answer = list["data"][1]["id"].as_str().unwrap().to_string();
    let r = app.rate(&tid, &answer, &json!({"rating": "up"})).await;
    assert_eq!(r.status(), 200);
    let empty = app.new_thread().await;
    let t0 = now_secs();

    // Within the period: kept.
    let swept = app
        .assistant
        .sweep_retention(t0 + 7 * DAY - 600)
        .await
        .unwrap();
    assert_eq!(swept, 0);
    ok_json(app.get_thread(&tid).await).await;

    // Past it: gone, with its messages, rating and the team's record (two instances sweeping
    // at once delete each thread once, and neither fails).
    let later = t0 + 7 * DAY + 600;
    let (a, b) = tokio::join!(
        app.assistant.sweep_retention(later),
        app.assistant.sweep_retention(later)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 2, "both threads, each once");
    assert_eq!(app.get_thread(&tid).await.status(), 404);
    assert_eq!(app.get_thread(&empty).await.status(), 404);
    assert_eq!(app.list_messages(&tid, "").await.status(), 404);
    let bearer = "Bearer retention-token-retention-token-0001";
    let team = app
        .get_with("/api/admin/questions", "authorization", bearer)
        .await;
    let team = ok_json(team).await;
    assert_eq!(team["total"], 0, "{team}");
    assert_eq!(app.store.count("feedback").await.unwrap(), 0);
    assert_eq!(app.store.count("messages").await.unwrap(), 0);
    assert_eq!(app.store.count("runs").await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_retention_period_nothing_is_deleted_and_the_page_says_so() {
    let app = app_keeping("0").await;
    let tid = app.answered("How do I deploy with Postgres?").await;
    let swept = app
        .assistant
        .sweep_retention(now_secs() + 3650 * DAY)
        .await
        .unwrap();
    assert_eq!(swept, 0);
    ok_json(app.get_thread(&tid).await).await;
    let page = app.get("/").await.text().await.unwrap();
    assert!(page.contains("Conversations are kept until you delete them."));

    let keeping = app_keeping("30").await;
    let page = keeping.get("/").await.text().await.unwrap();
    assert!(
        page.contains("Conversations are deleted 30 days after their last message."),
        "the notice above the composer"
    );
}
