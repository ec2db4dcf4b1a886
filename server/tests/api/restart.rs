//! Kill the server (SIGKILL) while runs wait on a slow model, start it again: every run ends,
//! nothing acknowledged is lost.
use std::{process::Child, time::Duration};

use serde_json::Value;

use crate::fake_model::{FakeModel, Step};
use crate::helpers::{ask_at, free_port, new_client, server_command, wait_healthy, wait_run_at};

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

async fn get_json(client: &reqwest::Client, url: String) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_survive_a_sigkill_of_the_server() {
    let fake = FakeModel::start().await;
    fake.set_fallback(Step::Delay(Duration::from_secs(30), Box::new(Step::Auto)));
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/restart.db", dir.path().display());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = new_client();

    let mut server = start_server(port, &db, &fake.base_url);
    wait_healthy(&client, &base).await;
    let mut runs = Vec::new();
    for i in 0..5 {
        runs.push(ask_at(&client, &base, &format!("Question {i}")).await);
    }
    // Every run is now waiting on the slow model.
    fake.wait_for_requests(runs.len()).await;
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();

    fake.set_fallback(Step::Auto);
    let mut server = start_server(port, &db, &fake.base_url);
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
    server.kill().unwrap();
    let _ = server.wait();
}
