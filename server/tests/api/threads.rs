use serde_json::{Value, json};

use crate::helpers::{assert_error, body_of, data_field, ok_json, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_a_thread_returns_a_thread_object_titled_new_thread() {
    let app = spawn_app().await;
    let t = ok_json(app.create_thread(&json!({})).await).await;
    assert!(t["id"].as_str().unwrap().starts_with("thread_"));
    assert_eq!(t["object"], "thread");
    assert!(t["created_at"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(t["metadata"]["threadTitle"], "New thread");
    assert!(t.get("tool_resources").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_can_be_created_without_a_body_or_with_metadata() {
    let app = spawn_app().await;
    let r = app
        .bodiless(reqwest::Method::POST, "/api/paste-assistant-thread")
        .await;
    assert_eq!(r.status(), 200);
    let t = body_of(
        app.create_thread(&json!({"metadata": {"threadTitle": "Mine", "k": "v"}}))
            .await,
    )
    .await;
    assert_eq!(t["metadata"], json!({"threadTitle": "Mine", "k": "v"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_paste_docsite_thread_flow_works_unchanged() {
    let app = spawn_app().await;
    let tid = app.new_thread().await;
    let r = app
        .put_thread(&tid, &json!({"metadata": {"testKey": "testValue"}}))
        .await;
    assert_eq!(r.status(), 200);
    let t: Value = app.get_thread(&tid).await.json().await.unwrap();
    assert_eq!(t["metadata"]["testKey"], "testValue");
    let d = ok_json(app.delete_thread(&tid).await).await;
    assert_eq!(
        d,
        json!({"id": tid, "object": "thread.deleted", "deleted": true})
    );
    assert_error(app.get_thread(&tid).await, 404, "not_found_error").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_merges_metadata_and_an_empty_string_removes_a_key() {
    let app = spawn_app().await;
    let tid = app.new_thread().await;
    app.put_thread(&tid, &json!({"metadata": {"a": "1", "b": "2"}}))
        .await;
    let t = body_of(
        app.put_thread(&tid, &json!({"metadata": {"a": "", "c": "3"}}))
            .await,
    )
    .await;
    assert_eq!(
        t["metadata"],
        json!({"threadTitle": "New thread", "b": "2", "c": "3"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_over_openais_limits_is_refused() {
    let app = spawn_app().await;
    let tid = app.new_thread().await;
    let many: serde_json::Map<String, Value> =
        (0..16).map(|i| (format!("k{i}"), json!("v"))).collect();
    for metadata in [
        Value::Object(many),
        json!({ "k".repeat(65): "v" }),
        json!({ "k": "v".repeat(513) }),
        json!({ "k": 5 }),
        json!(["not", "an", "object"]),
    ] {
        assert_error(
            app.put_thread(&tid, &json!({ "metadata": metadata })).await,
            400,
            "invalid_request_error",
        )
        .await;
        assert_error(
            app.create_thread(&json!({ "metadata": metadata })).await,
            400,
            "invalid_request_error",
        )
        .await;
    }
    // Nothing was changed by the refused requests.
    let t: Value = app.get_thread(&tid).await.json().await.unwrap();
    assert_eq!(t["metadata"], json!({"threadTitle": "New thread"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_are_listed_newest_first_and_paged() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(app.new_thread().await);
    }
    ids.reverse();
    let l: Value = app.list_threads("").await.json().await.unwrap();
    assert_eq!(l["object"], "list");
    let got = data_field(&l, "id");
    assert_eq!(got, ids);
    assert_eq!(l["has_more"], false);
    let p1: Value = app.list_threads("?limit=2").await.json().await.unwrap();
    assert_eq!(p1["has_more"], true);
    assert_eq!(p1["first_id"], ids[0].as_str());
    assert_eq!(p1["last_id"], ids[1].as_str());
    let after = p1["last_id"].as_str().unwrap();
    let p2 = body_of(app.list_threads(&format!("?limit=2&after={after}")).await).await;
    let got = data_field(&p2, "id");
    assert_eq!(got, ids[2..4].to_vec());
    for bad in [
        "?limit=0",
        "?limit=101",
        "?limit=x",
        "?after=nope",
        "?order=sideways",
    ] {
        assert_error(app.list_threads(bad).await, 400, "invalid_request_error").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_sessions_thread_is_as_missing_as_a_deleted_one() {
    let app = spawn_app().await;
    let tid = app.new_thread().await;
    let (_, run) = app.ask("What is Paste Assistant?").await;
    let rid = run["id"].as_str().unwrap();
    let run_tid = run["thread_id"].as_str().unwrap();
    let other = app.other_session();
    assert_error(other.get_thread(&tid).await, 404, "not_found_error").await;
    assert_error(
        other
            .put_thread(&tid, &json!({"metadata": {"x": "y"}}))
            .await,
        404,
        "not_found_error",
    )
    .await;
    assert_error(other.delete_thread(&tid).await, 404, "not_found_error").await;
    assert_error(other.list_messages(&tid, "").await, 404, "not_found_error").await;
    assert_error(
        other.post_message(&tid, "hello").await,
        404,
        "not_found_error",
    )
    .await;
    assert_error(other.get_run(run_tid, rid).await, 404, "not_found_error").await;
    assert_error(other.run_steps(run_tid, rid).await, 404, "not_found_error").await;
    let l: Value = other.list_threads("").await.json().await.unwrap();
    assert_eq!(l["data"], json!([]));
    // The owner still has everything.
    assert_eq!(app.get_thread(&tid).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_unknown_thread_ids_are_told_apart() {
    let app = spawn_app().await;
    assert_error(app.get_thread("nope").await, 400, "invalid_request_error").await;
    assert_error(
        app.get_thread("thread_has%20space").await,
        400,
        "invalid_request_error",
    )
    .await;
    assert_error(
        app.get_thread("thread_0000000000000000000000").await,
        404,
        "not_found_error",
    )
    .await;
    assert_error(
        app.delete_thread("thread_0000000000000000000000").await,
        404,
        "not_found_error",
    )
    .await;
}
