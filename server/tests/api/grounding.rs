//! Answers from the docs with any model: every run searches the docs first (its first step),
//! follow-ups are searched with the thread's earlier questions, questions the docs do not cover
//! are answered as such, and servers that break streaming or refuse tools still answer.
use serde_json::{Value, json};

use crate::fake_model::{FakeModel, Part, Step, status, streamed, text_chunk};
use crate::helpers::{Settings, TestApp, ok_json, paste_docs, spawn_app_with};

async fn remote(fake: &FakeModel, extra: &[(&'static str, &str)]) -> TestApp {
    let mut vars = vec![
        ("OPENAI_BASE_URL", fake.base_url.clone()),
        ("OPENAI_MODEL", "fake-model".to_string()),
        ("OPENAI_TIMEOUT_SECS", "5".to_string()),
        ("OPENAI_MAX_RETRIES", "1".to_string()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    spawn_app_with(Settings { vars }).await
}

async fn offline_on_paste() -> TestApp {
    spawn_app_with(Settings {
        vars: vec![("DOCS_DIR", paste_docs()), ("ADMIN_TOKEN", ADMIN.into())],
    })
    .await
}

/// The run's `get_relevant_docs` calls, in order: (arguments, output), parsed.
async fn searches(app: &TestApp, tid: &str, rid: &str) -> Vec<(Value, Value)> {
    let steps = app.steps(tid, rid).await;
    let mut out = Vec::new();
    let mut list = steps["data"].as_array().unwrap().clone();
    list.sort_by_key(|s| s["created_at"].as_i64());
    for step in list.iter().filter(|s| s["type"] == "tool_calls") {
        for call in step["step_details"]["tool_calls"].as_array().unwrap() {
            let f = &call["function"];
            assert_eq!(f["name"], "get_relevant_docs");
            out.push((
                serde_json::from_str(f["arguments"].as_str().unwrap()).unwrap(),
                serde_json::from_str(f["output"].as_str().unwrap_or("null")).unwrap(),
            ));
        }
    }
    out
}

fn paths(output: &Value) -> Vec<String> {
    output["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect()
}

/// The newest answer of the thread.
async fn answer(app: &TestApp, tid: &str) -> Value {
    let l = ok_json(app.list_messages(tid, "?order=desc").await).await;
    l["data"][0].clone()
}

fn text_of(message: &Value) -> &str {
    message["content"][0]["text"]["value"].as_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_run_searches_the_docs_first_and_the_model_gets_what_the_search_found() {
    let fake = FakeModel::start().await;
    let app = remote(&fake, &[]).await;
    let question = "How do I deploy with Postgres?";
    let (tid, run) = app.ask(question).await;
    assert_eq!(run["status"], "completed", "{run}");
    let rid = run["id"].as_str().unwrap();
    let found = searches(&app, &tid, rid).await;
    assert_eq!(found.len(), 1, "one search, made by the run itself");
    assert_eq!(found[0].0, json!({"query": question}));
    assert!(
        found[0].1["results"][0]["content"]
            .as_str()
            .unwrap()
            .contains("Postgres"),
        "{}",
        found[0].1
    );
    // One model call: the results were in its first request, exactly as the step holds them.
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let system = requests[0].body["messages"][0]["content"].as_str().unwrap();
    let steps = app.steps(&tid, rid).await;
    let step = steps["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["type"] == "tool_calls")
        .unwrap()
        .clone();
    let output = step["step_details"]["tool_calls"][0]["function"]["output"]
        .as_str()
        .unwrap();
    assert!(system.contains(output), "{system}");
    assert!(!system.contains("These results do not cover"), "{system}");
    // The tool is still offered, for a model that wants to search again.
    assert_eq!(
        requests[0].body["tools"][0]["function"]["name"],
        "get_relevant_docs"
    );
    let message = answer(&app, &tid).await;
    assert_eq!(message["metadata"]["covered"], "true", "{message}");
    // The step is on the event stream like any other search, before the answer.
    let body = app
        .get(&format!(
            "/api/paste-assistant-thread/{tid}/run/{rid}/events"
        ))
        .await
        .text()
        .await
        .unwrap();
    let events: Vec<&str> = body
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    let step_created = events.iter().position(|e| *e == "thread.run.step.created");
    let message_created = events.iter().position(|e| *e == "thread.message.created");
    assert!(step_created < message_created, "{events:?}");
    assert!(events.contains(&"thread.run.requires_action"), "{events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_may_still_search_again_in_a_round_of_its_own() {
    let fake = FakeModel::start().await;
    fake.script([crate::fake_model::tool_calls(&[(
        "c1",
        "get_relevant_docs",
        "{\"query\":\"session cookies\"}",
    )])]);
    let app = remote(&fake, &[]).await;
    let (tid, run) = app.ask("How do I deploy with Postgres?").await;
    assert_eq!(run["status"], "completed", "{run}");
    let found = searches(&app, &tid, run["id"].as_str().unwrap()).await;
    assert_eq!(found.len(), 2);
    assert_eq!(found[1].0, json!({"query": "session cookies"}));
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_model_answers_from_the_first_search_without_a_second() {
    let app = offline_on_paste().await;
    let (tid, run) = app.ask("How do I make a button look like a link?").await;
    assert_eq!(run["status"], "completed", "{run}");
    let found = searches(&app, &tid, run["id"].as_str().unwrap()).await;
    assert_eq!(found.len(), 1);
    assert!(
        paths(&found[0].1).contains(&"components/button/index.mdx".to_string()),
        "{:?}",
        paths(&found[0].1)
    );
    let message = answer(&app, &tid).await;
    assert_eq!(message["metadata"]["covered"], "true", "{message}");
    assert!(text_of(&message).starts_with("Here is what the docs say"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_is_searched_with_the_question_before_it() {
    let app = offline_on_paste().await;
    let (tid, first) = app.ask("How do I make a button look like a link?").await;
    assert_eq!(first["status"], "completed");
    let run = app
        .send_and_wait(&tid, "And can it open in a new tab?")
        .await;
    assert_eq!(run["status"], "completed", "{run}");
    let found = searches(&app, &tid, run["id"].as_str().unwrap()).await;
    assert_eq!(
        found[0].0,
        json!({"query": "And can it open in a new tab?", "context": ["How do I make a button look like a link?"]})
    );
    let pages = paths(&found[0].1);
    assert!(
        pages
            .iter()
            .any(|p| p == "components/anchor/index.mdx" || p == "components/button/index.mdx"),
        "{pages:?}"
    );
    // Alone, the same words find neither page (what the context is for).
    let alone = ok_json(app.docs_search("?q=And+can+it+open+in+a+new+tab%3F").await).await;
    let alone: Vec<&str> = alone["data"]
        .as_array()
        .unwrap()
        .iter()
        .take(5)
        .map(|h| h["path"].as_str().unwrap())
        .collect();
    assert!(!alone.contains(&"components/anchor/index.mdx"), "{alone:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_the_docs_do_not_cover_is_answered_as_such_with_the_closest_pages() {
    let app = offline_on_paste().await;
    let (tid, run) = app.ask("How do I bake sourdough bread?").await;
    assert_eq!(run["status"], "completed", "{run}");
    let message = answer(&app, &tid).await;
    assert_eq!(message["metadata"]["covered"], "false", "{message}");
    let text = text_of(&message);
    assert!(
        text.starts_with("The docs don't cover “How do I bake sourdough bread?”"),
        "{text}"
    );
    assert!(text.contains("The closest pages: ["), "{text}");
    assert!(
        !text.contains("> "),
        "no quotes of unrelated sections: {text}"
    );
    // The page shows the notice under that answer, and not under a covered one.
    let html = app.get(&format!("/t/{tid}")).await.text().await.unwrap();
    assert!(html.contains("class=\"not-covered\""), "{html}");
    let (covered, _) = app.ask("How do I make a button look like a link?").await;
    let html = app
        .get(&format!("/t/{covered}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("class=\"not-covered\""));
    // The admin record keeps the same decision.
    let listed = || async {
        let r = app
            .get_with(
                "/api/admin/questions",
                "authorization",
                &format!("Bearer {ADMIN}"),
            )
            .await;
        let body: Value = r.json().await.unwrap();
        body["data"].as_array().cloned().unwrap_or_default()
    };
    app.wait_until("both questions are recorded", || async {
        listed().await.len() == 2
    })
    .await;
    for q in listed().await {
        let bread = q["question"] == "How do I bake sourdough bread?";
        assert_eq!(q["covered"], !bread, "{q}");
    }
}

const ADMIN: &str = "admin-token-admin-token-admin-token-0123";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_model_is_told_when_the_docs_do_not_cover_the_question() {
    let fake = FakeModel::start().await;
    let app = remote(&fake, &[("DOCS_DIR", &paste_docs())]).await;
    let (tid, run) = app.ask("What is the capital of Mongolia?").await;
    assert_eq!(run["status"], "completed", "{run}");
    let system = fake.requests()[0].body["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        system.contains("do not cover the reader's question"),
        "{system}"
    );
    assert!(
        system.contains("do not answer from your own knowledge"),
        "{system}"
    );
    assert_eq!(answer(&app, &tid).await["metadata"]["covered"], "false");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_capped_at_max_answer_tokens() {
    let fake = FakeModel::start().await;
    let app = remote(&fake, &[]).await;
    app.ask("How do I deploy with Postgres?").await;
    assert_eq!(fake.requests()[0].body["max_tokens"], 1024, "the default");
    let fake = FakeModel::start().await;
    let app = remote(&fake, &[("MAX_ANSWER_TOKENS", "64")]).await;
    let (tid, _) = app.ask("How do I deploy with Postgres?").await;
    assert_eq!(fake.requests()[0].body["max_tokens"], 64);
    // Titles keep their own short cap.
    let r = app
        .simple_completion(&json!({"prompt": "Title for: deploying"}))
        .await;
    assert_eq!(r.status(), 200);
    let last = fake.requests().last().unwrap().body.clone();
    assert_ne!(last["max_tokens"], 64, "{last}");
    let _ = tid;
    let fake = FakeModel::start().await;
    let app = remote(&fake, &[("MAX_ANSWER_TOKENS", "0")]).await;
    app.ask("How do I deploy with Postgres?").await;
    assert!(fake.requests()[0].body.get("max_tokens").is_none());
}

/// A stream that breaks before any text, in each shape servers send, is asked for again
/// without `stream`; the process remembers that this server does not stream with tools.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_breaks_before_any_text_is_asked_for_again_whole() {
    let role_only =
        Part::Data(json!({"choices": [{"index": 0, "delta": {"role": "assistant"}}]}).to_string());
    let error = Part::Data(
        json!({"error": {"message": "Automatic streaming tool choice is not supported"}})
            .to_string(),
    );
    for (shape, parts) in [
        ("no chunk at all", vec![]),
        ("no finish_reason nor [DONE]", vec![role_only]),
        ("an error object in the stream", vec![error]),
    ] {
        let fake = FakeModel::start().await;
        fake.script([Step::Stream(parts)]);
        let app = remote(&fake, &[]).await;
        let (tid, run) = app.ask("How do I deploy with Postgres?").await;
        assert_eq!(run["status"], "completed", "{shape}: {run}");
        let requests = fake.requests();
        assert_eq!(requests.len(), 2, "{shape}");
        assert_eq!(requests[0].body["stream"], true, "{shape}");
        assert!(requests[1].body.get("stream").is_none(), "{shape}");
        assert!(requests[1].body.get("tools").is_some(), "{shape}");
        assert!(text_of(&answer(&app, &tid).await).starts_with("From the docs"));
        // Remembered: the next request with tools is not streamed at all.
        let run = app.send_and_wait(&tid, "And with SQLite?").await;
        assert_eq!(run["status"], "completed", "{shape}: {run}");
        let requests = fake.requests();
        assert_eq!(requests.len(), 3, "{shape}");
        assert!(requests[2].body.get("stream").is_none(), "{shape}");
    }
}

/// Text that has reached the reader is never written twice: a stream that breaks after it
/// fails the run (keeping the words), with no second request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_breaks_after_text_is_not_asked_for_again() {
    let fake = FakeModel::start().await;
    fake.script([Step::Stream(vec![text_chunk("Half an ans")])]);
    let app = remote(&fake, &[]).await;
    let (tid, run) = app.ask("How do I deploy with Postgres?").await;
    assert_eq!(run["status"], "failed", "{run}");
    assert_eq!(fake.requests().len(), 1);
    let message = answer(&app, &tid).await;
    assert_eq!(text_of(&message), "Half an ans");
    assert_eq!(message["status"], "incomplete");
    // A whole stream still streams on the same server.
    fake.script([streamed(&["All ", "good."])]);
    let run = app.send_and_wait(&tid, "Again?").await;
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(fake.requests()[1].body["stream"], true);
}

/// Ollama answers a request with tools for a model without tool support with a 400 that says
/// so: the request goes again without tools, and so do all later ones; the docs are still
/// searched first, so answers stay grounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_refuses_tools_gets_requests_without_them() {
    for refusal in [
        json!({"error": {"message": "registry.ollama.ai/library/gemma:2b does not support tools", "type": "api_error", "param": null, "code": null}}),
        json!({"error": {"message": "\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set", "type": "BadRequestError", "code": 400}}),
        json!({"error": {"code": 400, "message": "tools param requires --jinja flag", "type": "invalid_request_error"}}),
    ] {
        let fake = FakeModel::start().await;
        fake.script([status(400, refusal.clone())]);
        fake.set_fallback(streamed(&["Grounded ", "answer."]));
        let app = remote(&fake, &[]).await;
        let (tid, run) = app.ask("How do I deploy with Postgres?").await;
        assert_eq!(run["status"], "completed", "{refusal}: {run}");
        let requests = fake.requests();
        assert_eq!(requests.len(), 2, "{refusal}");
        assert!(requests[0].body.get("tools").is_some());
        assert!(requests[1].body.get("tools").is_none());
        assert!(
            requests[1].body["messages"][0]["content"]
                .as_str()
                .unwrap()
                .contains("Deploying with Postgres"),
            "the search's results are in the instructions"
        );
        assert_eq!(text_of(&answer(&app, &tid).await), "Grounded answer.");
        let run = app.send_and_wait(&tid, "And SQLite?").await;
        assert_eq!(run["status"], "completed");
        let requests = fake.requests();
        assert_eq!(requests.len(), 3);
        assert!(requests[2].body.get("tools").is_none(), "remembered");
        let found = searches(&app, &tid, run["id"].as_str().unwrap()).await;
        assert_eq!(found.len(), 1, "still searched first");
    }
    // A 400 about something else is an error, not a reason to drop the tools.
    let fake = FakeModel::start().await;
    fake.script([status(
        400,
        json!({"error": {"message": "messages: too long"}}),
    )]);
    let app = remote(&fake, &[]).await;
    let (_, run) = app.ask("How do I deploy with Postgres?").await;
    assert_eq!(run["status"], "failed", "{run}");
    assert_eq!(fake.requests().len(), 1);
}

/// The last round offers no tools, so a model that would search forever answers instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_round_offers_no_tools_so_the_model_answers() {
    let fake = FakeModel::start().await;
    let again = crate::fake_model::tool_calls(&[("c", "get_relevant_docs", "{\"query\":\"x\"}")]);
    fake.script([again.clone(), again]);
    let app = remote(&fake, &[("MAX_TOOL_ROUNDS", "3")]).await;
    let (_, run) = app.ask("How do I deploy with Postgres?").await;
    assert_eq!(run["status"], "completed", "{run}");
    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests[1].body.get("tools").is_some());
    assert!(requests[2].body.get("tools").is_none());
}
