//! Nobody spends the operator's model budget but people asking about the docs: limits a new
//! cookie does not reset (answers in progress per address, daily token budgets), a ceiling of
//! runs per instance, and bounded work per run and per thread.
use std::time::Duration;

use serde_json::{Value, json};

use crate::fake_model::{FakeModel, Step, answer, tool_calls};
use crate::helpers::{Settings, TestApp, assert_error, spawn_app_with};

/// A server answering from `fake`, behind a trusted proxy (so tests pick client addresses),
/// with the per-session caps off and `extra` settings.
async fn app_with(fake: &FakeModel, extra: &[(&'static str, &str)]) -> TestApp {
    let mut vars = vec![
        ("OPENAI_BASE_URL", fake.base_url.clone()),
        ("OPENAI_API_KEY", "sk-test".to_string()),
        ("TRUST_PROXY", "true".to_string()),
        ("MAX_ACTIVE_RUNS_PER_SESSION", "0".to_string()),
        ("RATE_LIMIT_SESSION_PER_MIN", "0".to_string()),
        ("RATE_LIMIT_ADDR_PER_MIN", "0".to_string()),
    ];
    for (k, v) in extra {
        vars.retain(|(key, _)| key != k);
        vars.push((k, v.to_string()));
    }
    spawn_app_with(Settings { vars }).await
}

/// A fake that answers every question with `text`, a server with `setting` on it, and a thread.
async fn always_answering(
    text: &str,
    setting: (&'static str, &str),
) -> (FakeModel, TestApp, String) {
    let fake = FakeModel::start().await;
    fake.set_fallback(answer(text));
    let app = app_with(&fake, &[setting]).await;
    let tid = app.new_thread().await;
    (fake, app, tid)
}

async fn messages_of(app: &TestApp, tid: &str) -> usize {
    let list: Value = app.list_messages(tid, "").await.json().await.unwrap();
    list["data"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_has_a_bounded_number_of_answers_in_progress_whatever_its_cookies() {
    let fake = FakeModel::start().await;
    fake.set_fallback(Step::Delay(Duration::from_secs(30), Box::new(Step::Auto)));
    let app = app_with(&fake, &[("MAX_ACTIVE_RUNS_PER_ADDR", "2")]).await;
    // Two browsers (two cookies) in one IPv6 /64 use up its allowance …
    for ip in ["2001:db8:7:1::10", "2001:db8:7:1:ffff::20"] {
        let visitor = app.session_from(ip);
        let tid = visitor.new_thread().await;
        visitor.send(&tid, "A slow question").await;
    }
    // … so a third cookie from that /64 is refused, and nothing is stored.
    let fresh = app.session_from("2001:db8:7:1::30");
    let tid = fresh.new_thread().await;
    let r = fresh.post_message(&tid, "One more").await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "5");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_active_runs", "{body}");
    assert_eq!(messages_of(&fresh, &tid).await, 0, "nothing stored");
    // Another network is not affected.
    let elsewhere = app.session_from("2001:db8:7:2::1");
    let tid = elsewhere.new_thread().await;
    assert_eq!(elsewhere.post_message(&tid, "Mine").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_beyond_the_instance_ceiling_wait_queued_and_start_in_order() {
    let fake = FakeModel::start().await;
    let release = fake.hold_next();
    // A ceiling of one makes the order visible: each run starts only when the one before ends.
    let app = app_with(&fake, &[("MAX_RUNNING_RUNS", "1")]).await;
    let mut runs = Vec::new();
    for i in 0..4 {
        let visitor = app.session_from(&format!("198.51.100.{i}"));
        let tid = visitor.new_thread().await;
        let rid = visitor.send(&tid, &format!("Queued question {i}")).await;
        runs.push((visitor, tid, rid));
    }
    fake.wait_for_requests(1).await;
    for (visitor, tid, rid) in &runs[1..] {
        let run: Value = visitor.get_run(tid, rid).await.json().await.unwrap();
        assert_eq!(run["status"], "queued", "beyond the ceiling: {run}");
    }
    assert_eq!(
        fake.requests().len(),
        1,
        "no second model call while one runs"
    );
    release.notify_one();
    for (visitor, tid, rid) in &runs {
        assert_eq!(visitor.wait_for_run(tid, rid).await["status"], "completed");
    }
    // Each run's first model call came in the order the questions were asked.
    let firsts: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.body["messages"].as_array().unwrap().len() == 2)
        .map(|r| {
            r.body["messages"][1]["content"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let asked: Vec<String> = (0..4).map(|i| format!("Queued question {i}")).collect();
    assert_eq!(firsts, asked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_daily_budget_refuses_new_questions_for_that_address_only() {
    let fake = FakeModel::start().await;
    // Each fake call reports 15 tokens; a question costs one call (the run searched first).
    let app = app_with(&fake, &[("TOKEN_BUDGET_PER_ADDR_PER_DAY", "15")]).await;
    let visitor = app.session_from("203.0.113.5");
    let (tid, run) = visitor.ask("What is a button?").await;
    assert_eq!(run["status"], "completed");
    let fresh = visitor.session_from("203.0.113.5");
    let fresh_thread = fresh.new_thread().await;
    for (who, tid) in [(&visitor, &tid), (&fresh, &fresh_thread)] {
        let r = who.post_message(tid, "And a link?").await;
        let status = r.status();
        let retry: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 429, "{body}");
        assert_eq!(body["error"]["code"], "budget_exhausted");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("midnight UTC"),
            "{body}"
        );
        assert!((1..=86_400).contains(&retry), "until midnight: {retry}");
    }
    assert_eq!(messages_of(&visitor, &tid).await, 2, "nothing stored");
    assert_eq!(
        messages_of(&fresh, &fresh_thread).await,
        0,
        "nothing stored"
    );
    // Simple completions count and are refused too.
    let again = app.session_from("203.0.113.5");
    let r = again.simple_completion(&json!({"prompt": "Title?"})).await;
    assert_eq!(r.status(), 429);
    // Another address still has its share.
    let other = app.session_from("203.0.113.6");
    assert_eq!(other.ask("What is a link?").await.1["status"], "completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_budget_for_everyone_is_shared_through_the_database() {
    let fake = FakeModel::start().await;
    let app = app_with(&fake, &[("TOKEN_BUDGET_PER_DAY", "1000")]).await;
    let visitor = app.session_from("203.0.113.9");
    let tid = visitor.new_thread().await;
    assert_eq!(visitor.post_message(&tid, "Hello?").await.status(), 200);
    // Another instance's visitors spent the rest today.
    let today = server::engine::today();
    app.store
        .add_tokens(today, Some("198.51.100.77"), 1000)
        .await
        .unwrap();
    let newcomer = app.session_from("192.0.2.1");
    let tid = newcomer.new_thread().await;
    let message = assert_error(
        newcomer.post_message(&tid, "Anyone there?").await,
        429,
        "rate_limit_error",
    )
    .await;
    assert!(
        message.contains("as many questions as it can today"),
        "{message}"
    );
    assert_eq!(messages_of(&newcomer, &tid).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_sent_to_the_model_is_trimmed_oldest_first() {
    let (fake, app, tid) = always_answering("Noted.", ("MODEL_CONTEXT_TOKENS", "1200")).await;
    for i in 0..4 {
        // About 500 tokens each.
        let question = format!("Question {i}: {}", "word ".repeat(400));
        assert_eq!(
            app.send_and_wait(&tid, &question).await["status"],
            "completed"
        );
    }
    let last = fake.requests().last().unwrap().body.clone();
    let messages = last["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system", "the instructions stay");
    let newest = messages.last().unwrap()["content"].as_str().unwrap();
    assert!(
        newest.starts_with("Question 3:"),
        "the newest question stays"
    );
    let all = serde_json::to_string(messages).unwrap();
    assert!(
        !all.contains("Question 0:") && !all.contains("Question 1:"),
        "{all}"
    );
    // What is left beside the instructions (which hold the run's search results and always
    // stay) fits.
    let size: usize = messages
        .iter()
        .skip(1)
        .map(|m| m["content"].as_str().unwrap_or("").len())
        .sum();
    assert!(size / 4 <= 1200, "{size} characters");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_eight_tool_calls_run_per_round() {
    let fake = FakeModel::start().await;
    let calls: Vec<(String, String)> = (0..10)
        .map(|i| {
            (
                format!("call_{i}"),
                format!("{{\"query\": \"button {i}\"}}"),
            )
        })
        .collect();
    let borrowed: Vec<(&str, &str, &str)> = calls
        .iter()
        .map(|(id, args)| (id.as_str(), "get_relevant_docs", args.as_str()))
        .collect();
    fake.script([tool_calls(&borrowed), answer("Done.")]);
    let app = app_with(&fake, &[]).await;
    let (tid, run) = app.ask("Many searches?").await;
    assert_eq!(run["status"], "completed");
    let steps = app.steps(&tid, run["id"].as_str().unwrap()).await;
    // The model's round (the run's own search is the first step).
    let outputs: Vec<Value> = steps["data"][1]["step_details"]["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| serde_json::from_str(c["function"]["output"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(outputs.len(), 10, "every call has an output");
    assert!(outputs[..8].iter().all(|o| o.get("results").is_some()));
    for o in &outputs[8..] {
        assert!(o["error"].as_str().unwrap().contains("at most 8"), "{o}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_thread_asks_the_person_to_start_a_new_one() {
    let (_fake, app, tid) = always_answering("Yes.", ("MAX_THREAD_MESSAGES", "4")).await;
    for question in ["One?", "Two?"] {
        assert_eq!(
            app.send_and_wait(&tid, question).await["status"],
            "completed"
        );
    }
    let message = assert_error(
        app.post_message(&tid, "Three?").await,
        400,
        "invalid_request_error",
    )
    .await;
    assert!(message.contains("new thread"), "{message}");
    assert_eq!(messages_of(&app, &tid).await, 4, "nothing stored");
    let fresh = app.new_thread().await;
    assert_eq!(app.post_message(&fresh, "Three?").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_limited_per_address_but_probes_are_not() {
    let fake = FakeModel::start().await;
    let app = app_with(&fake, &[("RATE_LIMIT_READS_ADDR_PER_MIN", "3")]).await;
    let reader = app.session_from("198.51.100.40");
    for _ in 0..3 {
        assert_eq!(
            reader.get("/api/paste-assistant-threads").await.status(),
            200
        );
    }
    let r = reader.get("/api/paste-assistant-threads").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    // A new cookie does not reset it; the health probe and another address are not limited.
    let again = app.session_from("198.51.100.40");
    assert_eq!(
        again.get("/api/paste-assistant-threads").await.status(),
        429
    );
    assert_eq!(again.get("/healthz").await.status(), 200);
    let other = app.session_from("198.51.100.41");
    assert_eq!(
        other.get("/api/paste-assistant-threads").await.status(),
        200
    );
}
