use serde_json::{Value, json};

use crate::helpers::{Settings, assert_error, body_of, data_field, spawn_app, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posted_message_is_the_first_message_of_the_thread() {
    let app = spawn_app().await;
    let tid = app.new_thread().await;
    let r = app
        .post_message(&tid, "How do I configure the database?")
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["run"]["object"], "thread.run");
    let l: Value = app.list_messages(&tid, "").await.json().await.unwrap();
    assert_eq!(
        l["data"][0]["content"][0]["text"]["value"],
        "How do I configure the database?"
    );
    assert_eq!(l["data"][0]["role"], "user");
    assert_eq!(l["data"][0]["object"], "thread.message");
    assert_eq!(l["data"][0]["thread_id"], tid.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_runs_to_completed_with_an_answer_from_the_docs() {
    let app = spawn_app().await;
    let (tid, run) = app.ask("How do I set DATABASE_URL to use Postgres?").await;
    assert_eq!(run["status"], "completed", "{run}");
    assert!(run["completed_at"].as_i64().is_some());
    assert!(run["started_at"].as_i64().is_some());
    assert_eq!(run["last_error"], Value::Null);
    assert_eq!(run["required_action"], Value::Null);
    assert_eq!(run["model"], "offline-docs-search");
    assert_eq!(run["tools"][0]["function"]["name"], "get_relevant_docs");
    assert!(run["usage"]["total_tokens"].as_u64().unwrap() > 0);

    let l: Value = app.list_messages(&tid, "").await.json().await.unwrap();
    let data = l["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[1]["role"], "assistant");
    assert_eq!(data[1]["run_id"], run["id"]);
    let answer = data[1]["content"][0]["text"]["value"].as_str().unwrap();
    assert!(
        answer.contains("](/docs/"),
        "the answer links to docs pages: {answer}"
    );

    let rid = run["id"].as_str().unwrap();
    let steps: Value = app.run_steps(&tid, rid).await.json().await.unwrap();
    let steps = steps["data"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0]["type"], "tool_calls");
    assert_eq!(steps[0]["status"], "completed");
    let call = &steps[0]["step_details"]["tool_calls"][0]["function"];
    assert_eq!(call["name"], "get_relevant_docs");
    let args: Value = serde_json::from_str(call["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args["query"], "How do I set DATABASE_URL to use Postgres?");
    let output: Value = serde_json::from_str(call["output"].as_str().unwrap()).unwrap();
    assert!(!output["results"].as_array().unwrap().is_empty());
    assert_eq!(steps[1]["type"], "message_creation");
    assert_eq!(
        steps[1]["step_details"]["message_creation"]["message_id"],
        data[1]["id"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_the_docs_do_not_cover_gets_an_honest_answer() {
    let app = spawn_app().await;
    let tid = app.answered("zzqx wvvy").await;
    let answer = app.answer_text(&tid).await;
    assert!(
        answer.starts_with("The docs don't cover “zzqx wvvy”"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_are_refused_and_nothing_is_stored() {
    let app = spawn_app_with(Settings {
        vars: vec![("MAX_MESSAGE_CHARS", "100".into())],
    })
    .await;
    let tid = app.new_thread().await;
    for (body, status, kind) in [
        (
            json!({"threadId": tid, "message": ""}),
            400,
            "invalid_request_error",
        ),
        (
            json!({"threadId": tid, "message": "  \n "}),
            400,
            "invalid_request_error",
        ),
        (
            json!({"threadId": tid, "message": "x".repeat(101)}),
            400,
            "invalid_request_error",
        ),
        (json!({"threadId": tid}), 400, "invalid_request_error"),
        (json!({"message": "hi"}), 400, "invalid_request_error"),
        (
            json!({"threadId": 5, "message": "hi"}),
            400,
            "invalid_request_error",
        ),
        (
            json!({"threadId": "thread_0000000000000000000000", "message": "hi"}),
            404,
            "not_found_error",
        ),
        (
            json!({"threadId": "../etc", "message": "hi"}),
            400,
            "invalid_request_error",
        ),
    ] {
        let r = app.post_json("/api/paste-assistant-message", &body).await;
        assert_error(r, status, kind).await;
    }
    let l: Value = app.list_messages(&tid, "").await.json().await.unwrap();
    assert_eq!(l["data"], json!([]));
    // 100 characters is still fine.
    assert_eq!(app.post_message(&tid, &"y".repeat(100)).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_while_a_run_is_active_is_a_conflict_and_is_not_stored() {
    let app = spawn_app().await;
    let tid = app.new_thread().await;
    // A run that stays queued: stored directly, without an executor.
    let message = server::store::MessageRow::new(&tid, "user", "first".into(), None, 1);
    let run = server::store::RunRow {
        status: app::api::RunStatus::InProgress,
        ..server::store::RunRow::queued(&tid, &message.id, "m", "i", 1, i64::MAX / 2)
    };
    app.store
        .insert_message_and_run(Some(&message), &run)
        .await
        .unwrap();
    assert_error(
        app.post_message(&tid, "second").await,
        409,
        "conflict_error",
    )
    .await;
    let l: Value = app.list_messages(&tid, "").await.json().await.unwrap();
    assert_eq!(l["data"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_listed_oldest_first_and_can_be_reversed_and_paged() {
    let app = spawn_app().await;
    let (tid, _) = app.ask("What is the offline model?").await;
    let r = app.post_message(&tid, "And the widget?").await;
    let rid = r.json::<Value>().await.unwrap()["run"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.wait_for_run(&tid, &rid).await;
    let asc: Value = app.list_messages(&tid, "").await.json().await.unwrap();
    let roles = data_field(&asc, "role");
    assert_eq!(roles, ["user", "assistant", "user", "assistant"]);
    let desc = body_of(app.list_messages(&tid, "?order=desc&limit=1").await).await;
    assert_eq!(desc["data"][0]["id"], asc["data"][3]["id"]);
    assert_eq!(desc["has_more"], true);
    let after = asc["data"][1]["id"].as_str().unwrap();
    let rest = body_of(app.list_messages(&tid, &format!("?after={after}")).await).await;
    assert_eq!(rest["data"].as_array().unwrap().len(), 2);
    assert_eq!(rest["data"][0]["id"], asc["data"][2]["id"]);
}
