//! Kill the server (SIGKILL) while runs wait on a slow model or write their answers, start it
//! again: every run ends, nothing acknowledged is lost.
use std::{process::Child, time::Duration};

use serde_json::Value;

use crate::fake_model::{FakeModel, Step, held_stream, streamed};
use crate::helpers::{ask_at, free_port, new_client, server_command, wait_healthy, wait_run_at};
use crate::sse::{all_events, cursor, delta_text, open_at, read_events};

fn start_server(port: u16, db: &str, model_url: &str) -> Child {
    server_command(port, db)
        .env("SESSION_SECRET", "restart-secret-restart-secret-restart-01")
        .env("OPENAI_BASE_URL", model_url)
        .env("OPENAI_MODEL", "fake-model")
        .env("OPENAI_TIMEOUT_SECS", "30")
        .env("RUN_TIME_LIMIT_SECS", "60")
        .env("MAX_ACTIVE_RUNS_PER_SESSION", "0")
        .env("MAX_ACTIVE_RUNS_PER_ADDR", "0")
        .env("RATE_LIMIT_READS_ADDR_PER_MIN", "0")
        .spawn()
        .expect("the server binary starts")
}

/// A server on a new database in a folder of its own, answered by `fake`, up: (its folder
/// with its port and database URL, the process, its base URL, a client).
async fn first_start(
    fake: &FakeModel,
) -> (
    (tempfile::TempDir, u16, String),
    Child,
    String,
    reqwest::Client,
) {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/restart.db", dir.path().display());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = new_client();
    let server = start_server(port, &db, &fake.base_url);
    wait_healthy(&client, &base).await;
    ((dir, port, db), server, base, client)
}

async fn get_json(client: &reqwest::Client, url: String) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_survive_a_sigkill_of_the_server() {
    let fake = FakeModel::start().await;
    fake.set_fallback(Step::Delay(Duration::from_secs(30), Box::new(Step::Auto)));
    let (dir, mut server, base, client) = first_start(&fake).await;
    let (port, db) = (dir.1, &dir.2);
    let mut runs = Vec::new();
    for i in 0..5 {
        runs.push(ask_at(&client, &base, &format!("Question {i}")).await);
    }
    // Every run is now waiting on the slow model.
    fake.wait_for_requests(runs.len()).await;
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();

    fake.set_fallback(Step::Auto);
    let mut server = start_server(port, db, &fake.base_url);
    wait_healthy(&client, &base).await;
    for (i, (tid, rid)) in runs.iter().enumerate() {
        let run = wait_run_at(&client, &base, tid, rid, Duration::from_secs(20)).await;
        assert_eq!(
            run["status"], "completed",
            "run {rid} resumed after the restart: {run}"
        );
        let l: Value = get_json(
            &client,
            format!("{base}/api/paste-assistant-messages/{tid}"),
        )
        .await;
        assert_eq!(
            l["data"][0]["content"][0]["text"]["value"],
            format!("Question {i}"),
            "the question was kept"
        );
        assert_eq!(l["data"].as_array().unwrap().len(), 2, "exactly one answer");
    }
    crate::helpers::stop(&mut server);
}

/// Killed mid-answer, the run is resumed and writes its answer again: the words written before
/// stay as an `incomplete` message, the new answer is a message of its own, and a reader that
/// reconnects with its `Last-Event-ID` is told so — never the new text spliced at the old
/// offset.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_mid_answer_writes_a_new_answer_and_its_stream_says_so() {
    let fake = FakeModel::start().await;
    let (half, _never) = held_stream(&["Partly ", "written "], &["never sent"]);
    fake.script([half, streamed(&["A new ", "answer."])]);
    let (dir, mut server, base, client) = first_start(&fake).await;
    let (port, db) = (dir.1, &dir.2);
    let (tid, rid) = ask_at(&client, &base, "How do buttons work?").await;
    let mut rx = read_events(open_at(&client, &base, &tid, &rid, None).await);
    let mut seen = Vec::new();
    while delta_text(&seen) != "Partly written " {
        let e = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("the first words are streamed")
            .expect("the stream is open");
        seen.push(e);
    }
    // Stored too (at most 250 ms after it was written), then the process dies. The server is
    // another process with no signal to wait on, so the stored message is read again as soon
    // as each read answers, until it holds the words.
    let messages = format!("{base}/api/paste-assistant-messages/{tid}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while get_json(&client, messages.clone()).await["data"][1]["content"][0]["text"]["value"]
        != "Partly written "
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the partial answer is saved"
        );
    }
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    drop(rx);

    let mut server = start_server(port, db, &fake.base_url);
    wait_healthy(&client, &base).await;
    let last = seen.last().unwrap().id.clone();
    let rest = all_events(read_events(
        open_at(&client, &base, &tid, &rid, Some(&last)).await,
    ))
    .await;
    let names: Vec<&str> = rest.iter().map(|e| e.event.as_str()).collect();
    let ended = names.iter().position(|n| *n == "thread.message.incomplete");
    let created = names.iter().position(|n| *n == "thread.message.created");
    assert!(
        ended.is_some() && created.is_some() && ended < created,
        "the old answer ends before the new one begins: {names:?}"
    );
    let (ended, created) = (ended.unwrap(), created.unwrap());
    let old: Value = serde_json::from_str(&rest[ended].data).unwrap();
    assert_eq!(old["status"], "incomplete");
    assert_eq!(old["content"][0]["text"]["value"], "Partly written ");
    assert!(
        delta_text(&rest[..ended]).is_empty(),
        "nothing the reader had is sent again: {rest:?}"
    );
    assert_eq!(delta_text(&rest[created..]), "A new answer.");
    assert_eq!(names.last(), Some(&"done"));
    assert!(names.contains(&"thread.run.completed"), "{names:?}");
    let mut ids: Vec<(i64, usize)> = vec![cursor(&last)];
    ids.extend(rest.iter().map(|e| cursor(&e.id)));
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");

    let list = get_json(&client, messages).await;
    let shown: Vec<(&str, &str)> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["status"].as_str().unwrap(),
                m["content"][0]["text"]["value"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("completed", "How do buttons work?"),
            ("incomplete", "Partly written "),
            ("completed", "A new answer.")
        ]
    );
    crate::helpers::stop(&mut server);
}
