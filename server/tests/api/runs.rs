use std::time::Duration;

use app::api::RunStatus;
use serde_json::Value;
use server::ids::now_secs;
use server::store::{MessageRow, RunRow};

use crate::helpers::{Settings, assert_error, spawn_app, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_malformed_run_ids_are_refused() {
    let app = spawn_app().await;
    let tid = app.new_thread().await;
    assert_error(
        app.get_run(&tid, "run_0000000000000000000000").await,
        404,
        "not_found_error",
    )
    .await;
    assert_error(
        app.get_run(&tid, "bogus").await,
        400,
        "invalid_request_error",
    )
    .await;
    assert_error(
        app.run_steps(&tid, "run_0000000000000000000000").await,
        404,
        "not_found_error",
    )
    .await;
    // A real run asked for under another thread of the same session is not found either.
    let (_, run) = app.ask("What is a run?").await;
    let rid = run["id"].as_str().unwrap();
    assert_error(app.get_run(&tid, rid).await, 404, "not_found_error").await;
}

fn stranded_run(thread_id: &str, status: RunStatus, expires_at: i64) -> (MessageRow, RunRow) {
    let question = "How do I deploy with Postgres?".to_string();
    let message = MessageRow::new(thread_id, "user", question, None, now_secs());
    let run = RunRow {
        status,
        started_at: Some(now_secs()),
        // A lease that has not run out: only a restart (SQLite: one instance) reclaims it now.
        lease_until: Some(now_secs() + 30),
        ..RunRow::queued(
            thread_id,
            &message.id,
            "offline-docs-search",
            "Answer from the docs.",
            now_secs(),
            expires_at,
        )
    };
    (message, run)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_left_by_a_dead_process_are_resumed_or_expired_on_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/shared.db", dir.path().display());
    let settings = || Settings {
        vars: vec![("DATABASE_URL", url.clone())],
    };
    let first = spawn_app_with(settings()).await;
    let store = first.store.clone();
    let mut stranded = Vec::new();
    for status in [
        RunStatus::Queued,
        RunStatus::InProgress,
        RunStatus::RequiresAction,
    ] {
        let tid = first.new_thread().await;
        let (m, r) = stranded_run(&tid, status, now_secs() + 600);
        store.insert_message_and_run(Some(&m), &r).await.unwrap();
        stranded.push(r.id);
    }
    let tid = first.new_thread().await;
    let (m, overdue) = stranded_run(&tid, RunStatus::InProgress, now_secs() - 1);
    store
        .insert_message_and_run(Some(&m), &overdue)
        .await
        .unwrap();

    // "Restart": the first process stops executing (it held none of these runs: their leases
    // are another process's) and a new one opens the same database. Left running, the first
    // would be a second live instance on one SQLite file, which the product does not support,
    // racing the new one for the runs it re-queues.
    first.assistant.hand_back_runs().await;
    let second = spawn_app_with(settings()).await;
    let store = second.store.clone();
    for rid in &stranded {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut status = store.run_by_id(rid).await.unwrap().unwrap().status;
        while status.is_active() {
            assert!(std::time::Instant::now() < deadline, "run {rid} ends");
            tokio::time::sleep(Duration::from_millis(100)).await;
            status = store.run_by_id(rid).await.unwrap().unwrap().status;
        }
        assert_eq!(status, RunStatus::Completed, "run {rid} was resumed");
    }
    let run = store.run_by_id(&overdue.id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Expired);
    let error: Value = serde_json::from_str(run.last_error.as_deref().unwrap()).unwrap();
    assert!(error["message"].as_str().unwrap().contains("time limit"));
    assert_eq!(
        store.count("messages").await.unwrap(),
        4 + 3,
        "answers were added, nothing lost"
    );
    // The conversation shows why the overdue run has no answer (same browser, new process).
    let html = first
        .client
        .get(second.url(&format!("/t/{tid}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("took too long"), "{html}");
    // And the thread takes the next message.
    let r = first
        .client
        .post(second.url("/api/paste-assistant-message"))
        .json(&serde_json::json!({"threadId": tid, "message": "Try again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_run_reaches_a_terminal_status_and_the_thread_takes_the_next_message() {
    let app = spawn_app().await;
    let tid = app.answered("How do I embed the widget?").await;
    let rid = app.send(&tid, "Thanks, and Slack?").await;
    assert_eq!(app.wait_for_run(&tid, &rid).await["status"], "completed");
}
