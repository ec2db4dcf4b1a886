//! Answers written as the model streams them: the upstream stream assembled (or a server that
//! does not stream, remembered), the answer stored from its first words as an `in_progress`
//! message, and a stream that breaks off keeping what was written.
use std::time::Duration;

use serde_json::{Value, json};

use crate::fake_model::{FakeModel, Part, Step, held_stream, streamed, text_chunk, tool_calls};
use crate::helpers::{TestApp, body_of, content_type};
use crate::sse::{all_events, cursor, delta_text, open_at, read_events};

async fn app_with(fake: &FakeModel, extra: &[(&'static str, &str)]) -> TestApp {
    let mut vars = vec![
        ("OPENAI_BASE_URL", fake.base_url.clone()),
        ("OPENAI_MODEL", "fake-model".to_string()),
        ("OPENAI_MAX_RETRIES", "1".to_string()),
    ];
    for (k, v) in extra {
        vars.retain(|(key, _)| key != k);
        vars.push((k, v.to_string()));
    }
    crate::helpers::spawn_app_with(crate::helpers::Settings { vars }).await
}

/// The thread's assistant message, if any.
async fn answer_of(app: &TestApp, tid: &str) -> Option<Value> {
    let list = body_of(app.list_messages(tid, "").await).await;
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "assistant")
        .cloned()
}

fn text(message: &Value) -> &str {
    message["content"][0]["text"]["value"].as_str().unwrap()
}

fn search_call() -> Step {
    tool_calls(&[("call_1", "get_relevant_docs", r#"{"query":"buttons"}"#)])
}

/// The same search, streamed: the call's arguments in two pieces.
fn streamed_search_call() -> Step {
    let call = |delta: Value| {
        Part::Data(json!({"choices": [{"index": 0, "delta": {"tool_calls": [delta]}}]}).to_string())
    };
    Step::Stream(vec![
        call(
            json!({"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_relevant_docs", "arguments": "{\"query\":"}}),
        ),
        call(json!({"index": 0, "function": {"arguments": "\"buttons\"}"}})),
        Part::Data(
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
                .to_string(),
        ),
        Part::Data("[DONE]".into()),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_answer_is_assembled_and_stored_whole() {
    let fake = FakeModel::start().await;
    fake.script([
        streamed_search_call(),
        streamed(&["Use the ", "`Button`", " component."]),
    ]);
    let app = app_with(&fake, &[]).await;
    let (tid, run) = app.ask("How do buttons work?").await;
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(
        run["usage"]["total_tokens"], 15,
        "usage from the stream's own chunk"
    );
    let steps = app.steps(&tid, run["id"].as_str().unwrap()).await;
    // The model's own search, after the run's (the first step).
    let call = &steps["data"][1]["step_details"]["tool_calls"][0]["function"];
    assert_eq!(
        call["arguments"], r#"{"query":"buttons"}"#,
        "assembled from its pieces"
    );
    let answer = answer_of(&app, &tid).await.unwrap();
    assert_eq!(text(&answer), "Use the `Button` component.");
    assert_eq!(answer["status"], "completed");
    assert!(answer["completed_at"].is_i64());
    for request in fake.requests() {
        assert_eq!(request.body["stream"], true, "{}", request.body);
        assert_eq!(request.body["stream_options"]["include_usage"], true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_answers_plain_json_is_asked_without_stream_from_then_on() {
    let fake = FakeModel::start().await;
    let app = app_with(&fake, &[]).await;
    let (_, run) = app.ask("What is a thread?").await;
    assert_eq!(run["status"], "completed", "{run}");
    let requests = fake.requests();
    assert_eq!(requests[0].body["stream"], true);
    assert!(
        requests[1..].iter().all(|r| r.body.get("stream").is_none()),
        "remembered for the model"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_refuses_stream_is_asked_again_without_it() {
    let fake = FakeModel::start().await;
    fake.script([crate::fake_model::status(
        400,
        json!({"error": {"message": "stream is not supported", "type": "invalid_request_error"}}),
    )]);
    let app = app_with(&fake, &[]).await;
    let (_, run) = app.ask("What is a thread?").await;
    assert_eq!(run["status"], "completed", "{run}");
    let requests = fake.requests();
    assert_eq!(requests[0].body["stream"], true);
    assert!(requests[1].body.get("stream").is_none());
    assert!(requests[2..].iter().all(|r| r.body.get("stream").is_none()));
}

/// A server answering from `fake`, which searches and then writes `answer`: a question asked
/// in a new thread, and its answer stored as begun; (app, thread, run).
async fn answer_begun(fake: &FakeModel, answer: Step) -> (TestApp, String, String) {
    fake.script([search_call(), answer]);
    let app = app_with(fake, &[]).await;
    let tid = app.new_thread().await;
    let rid = app.send(&tid, "How do buttons work?").await;
    app.wait_until("the answer was stored before it was complete", || async {
        answer_of(&app, &tid).await.is_some()
    })
    .await;
    (app, tid, rid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_is_stored_while_it_is_written() {
    let fake = FakeModel::start().await;
    let (answer, release) = held_stream(&["First words, "], &["then the rest."]);
    // A poll sees the answer so far, in progress.
    let (app, tid, rid) = answer_begun(&fake, answer).await;
    let partial = answer_of(&app, &tid).await.unwrap();
    assert_eq!(partial["status"], "in_progress", "{partial}");
    assert_eq!(text(&partial), "First words, ");
    assert!(partial["completed_at"].is_null());
    release.notify_one();
    assert_eq!(app.wait_for_run(&tid, &rid).await["status"], "completed");
    let whole = answer_of(&app, &tid).await.unwrap();
    assert_eq!(whole["id"], partial["id"], "the same message, now whole");
    assert_eq!(text(&whole), "First words, then the rest.");
    assert_eq!(whole["status"], "completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_breaks_off_fails_the_run_and_keeps_what_was_written() {
    for (name, ending) in [
        ("cut", vec![]),
        ("broken line", vec![Part::Data("{not json".into())]),
        ("silence", vec![Part::Pause(Duration::from_secs(30))]),
    ] {
        let fake = FakeModel::start().await;
        let mut parts = vec![text_chunk("Half of "), text_chunk("an answer")];
        parts.extend(ending);
        fake.script([search_call(), Step::Stream(parts)]);
        let app = app_with(&fake, &[("OPENAI_IDLE_TIMEOUT_SECS", "1")]).await;
        let (tid, run) = app.ask("How do buttons work?").await;
        assert_eq!(run["status"], "failed", "{name}: {run}");
        let error = run["last_error"]["message"].as_str().unwrap();
        assert!(
            error.contains("mid-answer") || error.contains("stream"),
            "{name}: {error}"
        );
        let answer = answer_of(&app, &tid).await.expect(name);
        assert_eq!(text(&answer), "Half of an answer", "{name}");
        assert_eq!(answer["status"], "incomplete", "{name}");
        assert_eq!(
            answer["incomplete_details"]["reason"], "run_failed",
            "{name}"
        );
        assert_eq!(
            fake.requests().len(),
            2,
            "{name}: no retry once text was written"
        );
        // The next question gets a whole answer.
        fake.set_fallback(Step::Auto);
        let rid = app.send(&tid, "Again?").await;
        assert_eq!(
            app.wait_for_run(&tid, &rid).await["status"],
            "completed",
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_mid_answer_keeps_the_words_written_so_far() {
    let fake = FakeModel::start().await;
    let never = std::sync::Arc::new(tokio::sync::Notify::new());
    let parts = vec![text_chunk("The beginning"), Part::Wait(never)];
    let (app, tid, rid) = answer_begun(&fake, Step::Stream(parts)).await;
    let r = app
        .post_raw(
            &format!("/api/paste-assistant-thread/{tid}/run/{rid}/cancel"),
            "",
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.wait_for_run(&tid, &rid).await["status"], "cancelled");
    let answer = answer_of(&app, &tid).await.unwrap();
    assert_eq!(text(&answer), "The beginning");
    assert_eq!(answer["status"], "incomplete");
    assert_eq!(answer["incomplete_details"]["reason"], "run_cancelled");
}

async fn open_events(app: &TestApp, tid: &str, rid: &str, last: Option<&str>) -> reqwest::Response {
    open_at(&app.client, &app.address, tid, rid, last).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_shows_the_answer_as_it_is_written_and_resumes_without_gaps() {
    let fake = FakeModel::start().await;
    let (answer, release) = held_stream(
        &["Use the ", "`Button` "],
        &["component, ", "and see [Button](/docs/button)."],
    );
    fake.script([streamed_search_call(), answer]);
    let app = app_with(&fake, &[]).await;
    let tid = app.new_thread().await;
    let rid = app.send(&tid, "How do buttons work?").await;
    let r = open_events(&app, &tid, &rid, None).await;
    assert_eq!(r.status(), 200);
    assert!(content_type(&r).starts_with("text/event-stream"));
    assert_eq!(r.headers()["cache-control"], "no-cache");
    assert_eq!(r.headers()["x-accel-buffering"], "no");
    assert!(
        r.headers().get("content-encoding").is_none(),
        "never compressed"
    );
    let mut rx = read_events(r);
    // The first words arrive while the model is still writing.
    let mut early = Vec::new();
    loop {
        let e = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("events arrive")
            .expect("the stream stays open");
        let delta = e.event == "thread.message.delta";
        early.push(e);
        if delta {
            break;
        }
    }
    let run: Value = body_of(app.get_run(&tid, &rid).await).await;
    assert_eq!(
        run["status"], "in_progress",
        "a delta came before the run ended"
    );
    release.notify_one();
    let mut events = early;
    events.extend(all_events(rx).await);
    let names: Vec<&str> = events
        .iter()
        .map(|e| e.event.as_str())
        .filter(|e| *e != "thread.message.delta")
        .collect();
    assert_eq!(
        names,
        [
            "thread.run.created",
            "thread.run.queued",
            "thread.run.in_progress",
            // The run's own search, then the model's.
            "thread.run.step.created",
            "thread.run.requires_action",
            "thread.run.step.completed",
            "thread.run.in_progress",
            "thread.run.step.created",
            "thread.run.requires_action",
            "thread.run.step.completed",
            "thread.run.in_progress",
            "thread.run.step.created",
            "thread.message.created",
            "thread.message.completed",
            "thread.run.step.completed",
            "thread.run.completed",
            "done",
        ]
    );
    let deltas: Vec<&crate::sse::Sse> = events
        .iter()
        .filter(|e| e.event == "thread.message.delta")
        .collect();
    assert!(deltas.len() >= 2, "the text came in pieces: {deltas:?}");
    for d in &deltas {
        let d: Value = serde_json::from_str(&d.data).unwrap();
        assert_eq!(d["object"], "thread.message.delta");
    }
    let whole = "Use the `Button` component, and see [Button](/docs/button).";
    assert_eq!(
        delta_text(&events),
        whole,
        "increments, never the text so far"
    );
    let done = events.last().unwrap();
    assert_eq!(done.data, "[DONE]");
    // Ids are unique and increasing.
    let ids: Vec<(i64, usize)> = events.iter().map(|e| cursor(&e.id)).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    // Reconnecting after any event gives exactly what followed it; a finished run replays at once.
    for at in [0, 5, 9, events.len() - 3] {
        let again = all_events(read_events(
            open_events(&app, &tid, &rid, Some(&events[at].id)).await,
        ))
        .await;
        let rest: Vec<(String, String)> = events[at + 1..]
            .iter()
            .map(|e| (e.event.clone(), e.data.clone()))
            .filter(|(name, _)| name != "thread.message.delta")
            .collect();
        let got: Vec<(String, String)> = again
            .iter()
            .map(|e| (e.event.clone(), e.data.clone()))
            .filter(|(name, _)| name != "thread.message.delta")
            .collect();
        assert_eq!(got, rest, "after event {at}");
        let text_after = delta_text(&again);
        let had = cursor(&events[at].id).1;
        assert_eq!(
            text_after,
            whole[had..],
            "after event {at}: no gap, no duplicate"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_reads_a_runs_events_and_bad_ids_are_refused() {
    let fake = FakeModel::start().await;
    let app = app_with(&fake, &[]).await;
    let (tid, run) = app.ask("What is a thread?").await;
    let rid = run["id"].as_str().unwrap();
    let other = app.other_session();
    let r = open_events(&other, &tid, rid, None).await;
    assert_eq!(r.status(), 404);
    let r = open_events(&app, &tid, rid, Some("not-an-id")).await;
    assert_eq!(r.status(), 400);
    let events = all_events(read_events(open_events(&app, &tid, rid, None).await)).await;
    assert_eq!(
        events.last().unwrap().event,
        "done",
        "a finished run replays at once"
    );
    assert!(events.iter().any(|e| e.event == "thread.message.delta"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_get_the_answer_so_far_as_safe_html() {
    let fake = FakeModel::start().await;
    fake.script([
        streamed_search_call(),
        streamed(&["Use **bold** ", "and <script>alert(1)</script>."]),
    ]);
    let app = app_with(&fake, &[]).await;
    let (tid, run) = app.ask("How do buttons work?").await;
    let rid = run["id"].as_str().unwrap();
    let r = app
        .get(&format!(
            "/api/paste-assistant-thread/{tid}/run/{rid}/events?render=html"
        ))
        .await;
    let events = all_events(read_events(r)).await;
    assert!(events.iter().all(|e| e.event != "thread.message.delta"));
    let html: Vec<String> = events
        .iter()
        .filter(|e| e.event == "thread.message.html")
        .map(|e| {
            serde_json::from_str::<Value>(&e.data).unwrap()["html"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    let last = html
        .last()
        .unwrap_or_else(|| panic!("an HTML event: {names:?}"));
    assert!(last.contains("<strong>bold</strong>"), "{last}");
    assert!(!last.contains("<script"), "safe HTML: {last}");
    let r = app
        .get(&format!(
            "/api/paste-assistant-thread/{tid}/run/{rid}/events?render=xml"
        ))
        .await;
    assert_eq!(r.status(), 400);
}
