//! Several server processes on one Postgres database: each run is executed by exactly one of
//! them, either one answers the polls and streams of the same browser session, and the runs of
//! an instance that dies are taken over by the other once their lease runs out. Runs in the
//! Postgres pass of the suite (`TEST_DATABASE=postgres`), which CI always runs.
use std::{
    process::{Child, Command},
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::fake_model::{FakeModel, Part, Step, stream_end, text_chunk};
use crate::helpers::{
    ask_at as ask, free_port, fresh_database, json_of, new_client, on_postgres, server_command,
    wait_healthy, wait_run_at as wait_run,
};
use crate::sse::{Sse, all_events, cursor, delta_text, open_at, read_events};
use tokio::sync::{Notify, mpsc::UnboundedReceiver as Receiver};

const LEASE_SECS: u64 = 3;

/// Several instances share one Postgres: these tests run in that pass only.
fn needs_postgres() {
    assert!(
        on_postgres(),
        "several instances share one Postgres: set TEST_DATABASE=postgres"
    );
}

/// Asks `count` questions "{prefix} 0", "{prefix} 1", … on `base`, one thread each, and returns
/// (question, thread id, run id) for each.
async fn ask_numbered(
    client: &reqwest::Client,
    base: &str,
    prefix: &str,
    count: usize,
) -> Vec<(String, String, String)> {
    let mut asked = Vec::new();
    for i in 0..count {
        let question = format!("{prefix} {i}");
        let (tid, rid) = ask(client, base, &question).await;
        asked.push((question, tid, rid));
    }
    asked
}

fn start_instance_with_lease(port: u16, db: &str, model_url: &str, lease: u64) -> Child {
    server_command(port, db)
        .env("SESSION_SECRET", "shared-secret-shared-secret-shared-0001")
        .env("OPENAI_BASE_URL", model_url)
        .env("OPENAI_MODEL", "fake-model")
        .env("OPENAI_TIMEOUT_SECS", "60")
        .env("RUN_TIME_LIMIT_SECS", "120")
        .env("RUN_LEASE_SECS", lease.to_string())
        .env("RATE_LIMIT_SESSION_PER_MIN", "0")
        .env("RATE_LIMIT_ADDR_PER_MIN", "0")
        .env("MAX_ACTIVE_RUNS_PER_SESSION", "0")
        .env("MAX_ACTIVE_RUNS_PER_ADDR", "0")
        .env("RATE_LIMIT_READS_ADDR_PER_MIN", "0")
        .spawn()
        .expect("the server binary starts")
}

/// Two instances on one new database, by their base URLs, both up, and one browser for both
/// (the session cookie one instance signs is good on the other).
async fn two_instances(fake: &FakeModel, lease: u64) -> ([(String, Child); 2], reqwest::Client) {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_database(dir.path()).await;
    let instances = [(); 2].map(|_| {
        let port = free_port();
        let child = start_instance_with_lease(port, &db, &fake.base_url, lease);
        (format!("http://127.0.0.1:{port}"), child)
    });
    let client = new_client();
    for (base, _) in &instances {
        wait_healthy(&client, base).await;
    }
    (instances, client)
}

/// Model requests made for the thread whose first question is `question`.
fn requests_for(fake: &FakeModel, question: &str) -> usize {
    fake.requests()
        .iter()
        .filter(|r| {
            r.body["messages"].as_array().is_some_and(|m| {
                m.iter()
                    .any(|m| m["role"] == "user" && m["content"] == question)
            })
        })
        .count()
}

async fn answers(client: &reqwest::Client, base: &str, tid: &str) -> usize {
    let l: Value = json_of(client.get(format!("{base}/api/paste-assistant-messages/{tid}"))).await;
    l["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "assistant")
        .count()
}

/// Each of `runs` (question, thread, run) completes on `base` with exactly one answer.
async fn each_answered_once(
    client: &reqwest::Client,
    base: &str,
    runs: &[(String, String, String)],
) {
    for (question, tid, rid) in runs {
        let run = wait_run(client, base, tid, rid, Duration::from_secs(30)).await;
        assert_eq!(run["status"], "completed", "{question}: {run}");
        assert_eq!(
            answers(client, base, tid).await,
            1,
            "{question}: one answer"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Postgres: runs in the TEST_DATABASE=postgres pass (--include-ignored)"]
async fn two_instances_execute_each_run_once_and_take_over_a_dead_ones_runs() {
    needs_postgres();
    let fake = FakeModel::start().await;
    fake.set_fallback(Step::Delay(
        Duration::from_millis(200),
        Box::new(Step::Auto),
    ));
    let ([(a, mut instance_a), (b, mut instance_b)], client) =
        two_instances(&fake, LEASE_SECS).await;

    // Many runs, started on both instances and polled on the other one.
    let started = Instant::now();
    let mut runs = Vec::new();
    for i in 0..24 {
        let (post_on, poll_on) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let question = format!("Shared question {i}");
        let (tid, rid) = ask(&client, post_on, &question).await;
        runs.push((question, tid, rid, poll_on.clone()));
    }
    for (question, tid, rid, poll_on) in &runs {
        let run = wait_run(&client, poll_on, tid, rid, Duration::from_secs(60)).await;
        assert_eq!(run["status"], "completed", "{question}: {run}");
        // The fake model answers each run in one request (from the run's own search): exactly
        // one means exactly one instance executed it.
        assert_eq!(requests_for(&fake, question), 1, "{question} executed once");
        assert_eq!(
            answers(&client, poll_on, tid).await,
            1,
            "{question}: one answer"
        );
    }
    eprintln!(
        "two instances: {} runs completed in {:?}",
        runs.len(),
        started.elapsed()
    );

    // Instance A dies (SIGKILL) while its runs wait on the model: B takes them over once their
    // leases run out, and each is answered once.
    fake.set_fallback(Step::Delay(Duration::from_secs(60), Box::new(Step::Auto)));
    let before = fake.requests().len();
    let stranded = ask_numbered(&client, &a, "Stranded question", 4).await;
    // Each is waiting on the model.
    fake.wait_for_requests(before + stranded.len()).await;
    instance_a.kill().unwrap();
    instance_a.wait().unwrap();
    let killed = Instant::now();
    fake.set_fallback(Step::Auto);
    each_answered_once(&client, &b, &stranded).await;
    let takeover = killed.elapsed();
    eprintln!("takeover of 4 runs after SIGKILL: {takeover:?} (lease {LEASE_SECS} s)");
    assert!(
        takeover < Duration::from_secs(LEASE_SECS * 5),
        "taken over soon after the lease ended: {takeover:?}"
    );
    crate::helpers::stop(&mut instance_b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Postgres: runs in the TEST_DATABASE=postgres pass (--include-ignored)"]
async fn sigterm_finishes_requests_in_flight_and_hands_runs_back_at_once() {
    needs_postgres();
    // A long lease: without the hand-back, B could take A's runs only after 60 s.
    const LONG_LEASE: u64 = 60;
    let fake = FakeModel::start().await;
    fake.set_fallback(Step::Delay(Duration::from_secs(2), Box::new(Step::Auto)));
    let ([(a, mut instance_a), (b, mut instance_b)], client) =
        two_instances(&fake, LONG_LEASE).await;

    let before = fake.requests().len();
    let runs = ask_numbered(&client, &a, "Handed back", 3).await;
    // A request in flight when SIGTERM comes (the title model answers after 2 s).
    let in_flight = {
        let client = client.clone();
        let a = a.clone();
        tokio::spawn(async move {
            client
                .post(format!("{a}/api/paste-assistant-simple-completion"))
                .json(&json!({"prompt": "A title please"}))
                .send()
                .await
        })
    };
    // The runs and the title request are all waiting on the model.
    fake.wait_for_requests(before + runs.len() + 1).await;
    let stop = Instant::now();
    let _ = Command::new("kill")
        .args(["-TERM", &instance_a.id().to_string()])
        .status();
    let response = in_flight
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(response.status(), 200, "finished, not cut off");
    let exit = instance_a.wait().unwrap();
    assert!(exit.success(), "a clean exit: {exit:?}");
    // No new connections once stopped.
    assert!(client.get(format!("{a}/healthz")).send().await.is_err());
    fake.set_fallback(Step::Auto);
    each_answered_once(&client, &b, &runs).await;
    let took = stop.elapsed();
    eprintln!("3 runs handed back on SIGTERM and completed by the other instance in {took:?}");
    assert!(
        took < Duration::from_secs(LONG_LEASE / 2),
        "taken over without waiting for the lease: {took:?}"
    );
    crate::helpers::stop(&mut instance_b);
}

/// A run's stream can be read from either instance: the one executing it tells its readers
/// from memory, the other from what is saved (every 250 ms) and the event log (looked at every
/// 200 ms). Both give the words before the run is over, then the whole answer, with no gap and
/// no duplicate. Prints how far the other instance was behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Postgres: runs in the TEST_DATABASE=postgres pass (--include-ignored)"]
async fn either_instance_streams_a_run_as_it_is_written() {
    needs_postgres();
    let fake = FakeModel::start().await;
    // The model waits for `start` (both readers are connected by then), writes the first words,
    // then waits for `release`.
    let (start, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let mut parts = vec![
        Part::Wait(start.clone()),
        text_chunk("Written "),
        text_chunk("so far. "),
        Part::Wait(release.clone()),
        text_chunk("And the rest."),
    ];
    parts.extend(stream_end());
    fake.script([Step::Stream(parts)]);
    let ([(a, mut instance_a), (b, mut instance_b)], client) =
        two_instances(&fake, LEASE_SECS).await;
    let (tid, rid) = ask(&client, &a, "How do buttons work?").await;
    let mut readers = Vec::new();
    let mut seen = Vec::new();
    for base in [&a, &b] {
        let mut rx = read_events(open_at(&client, base, &tid, &rid, None).await);
        // Connected: the run's first event is in.
        seen.push(vec![rx.recv().await.expect("the stream opens")]);
        readers.push(rx);
    }
    // Each reader has the first words while the model is still held mid-answer.
    async fn first_words(rx: &mut Receiver<Sse>, mut seen: Vec<Sse>) -> (Vec<Sse>, Instant) {
        while delta_text(&seen) != "Written so far. " {
            let e = tokio::time::timeout(Duration::from_secs(20), rx.recv())
                .await
                .expect("the words so far arrive before the run ends")
                .expect("the stream is open");
            assert_ne!(e.event, "thread.run.completed", "{e:?}");
            seen.push(e);
        }
        (seen, Instant::now())
    }
    let [mut rx_a, mut rx_b] = [readers.remove(0), readers.remove(0)];
    let started = Instant::now();
    start.notify_one();
    let ((seen_a, at_a), (seen_b, at_b)) = tokio::join!(
        first_words(&mut rx_a, seen.remove(0)),
        first_words(&mut rx_b, seen.remove(0))
    );
    let (first, second) = (at_a.min(at_b), at_a.max(at_b));
    eprintln!(
        "the model's first words: on the executing instance's stream after {:?}, on the other's after {:?}",
        first - started,
        second - started
    );
    let (readers, seen) = ([rx_a, rx_b], [seen_a, seen_b]);
    release.notify_one();
    for (rx, mut seen) in readers.into_iter().zip(seen) {
        seen.extend(all_events(rx).await);
        assert_eq!(delta_text(&seen), "Written so far. And the rest.");
        let names: Vec<&str> = seen.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(&names[names.len() - 2..], ["thread.run.completed", "done"]);
        let ids: Vec<(i64, usize)> = seen.iter().map(|e| cursor(&e.id)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
    }
    for instance in [&mut instance_a, &mut instance_b] {
        crate::helpers::stop(instance);
    }
}
