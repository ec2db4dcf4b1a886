//! 1,000 messages from 50 concurrent sessions while the server is killed with SIGKILL and
//! restarted twice: afterwards every message that got a 200 is stored and every run has ended.
//! SQLite runs in WAL mode with synchronous=NORMAL: a commit is in the WAL file (the OS's page
//! cache) before the 200 goes out, so a killed process loses nothing; only an OS crash or power
//! loss could drop the last commits, which FULL would prevent at a cost on every write. Postgres
//! commits are fsynced by the server.
use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::helpers::{
    free_port, fresh_database, new_client, on_postgres, server_command, wait_healthy,
};

const SESSIONS: usize = 50;
const MESSAGES: usize = 1000;

fn start(port: u16, db: &str) -> std::process::Child {
    server_command(port, db)
        .env("RATE_LIMIT_SESSION_PER_MIN", "0")
        .env("RATE_LIMIT_ADDR_PER_MIN", "0")
        .env("MAX_ACTIVE_RUNS_PER_SESSION", "0")
        .env("MAX_ACTIVE_RUNS_PER_ADDR", "0")
        .env("RATE_LIMIT_READS_ADDR_PER_MIN", "0")
        .env("RUN_LEASE_SECS", "3")
        .spawn()
        .expect("the server binary starts")
}

/// One acknowledged message: its text and the thread it went to.
type Acked = Arc<Mutex<Vec<(String, String)>>>;

/// A session sends messages (each on a new thread, so none waits for an answer) until the
/// shared count reaches MESSAGES; a request that fails (the server is down) is retried.
async fn session(n: usize, base: String, sent: Arc<AtomicUsize>, acked: Acked) {
    let client = new_client();
    let mut i = 0;
    loop {
        if sent.fetch_add(1, Ordering::SeqCst) >= MESSAGES {
            return;
        }
        let text = format!("session {n} message {i}");
        i += 1;
        loop {
            let created = client
                .post(format!("{base}/api/paste-assistant-thread"))
                .json(&json!({}))
                .send()
                .await;
            let Ok(created) = created else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            let Ok(thread) = created.json::<Value>().await else {
                continue;
            };
            let Some(tid) = thread["id"].as_str().map(str::to_string) else {
                continue;
            };
            let posted = client
                .post(format!("{base}/api/paste-assistant-message"))
                .json(&json!({"threadId": tid, "message": text}))
                .send()
                .await;
            match posted {
                Ok(r) if r.status() == 200 => {
                    acked.lock().unwrap().push((text.clone(), tid));
                    break;
                }
                // Not acknowledged: the person would send it again.
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_two_sigkills_and_every_run_ends() {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_database(dir.path()).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let probe = new_client();
    let mut server = start(port, &db);
    wait_healthy(&probe, &base).await;

    let started = Instant::now();
    let sent = Arc::new(AtomicUsize::new(0));
    let acked: Acked = Default::default();
    let tasks: Vec<_> = (0..SESSIONS)
        .map(|n| tokio::spawn(session(n, base.clone(), sent.clone(), acked.clone())))
        .collect();
    let mut kills = 0;
    for at in [MESSAGES / 3, 2 * MESSAGES / 3] {
        while acked.lock().unwrap().len() < at {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        server.kill().unwrap(); // SIGKILL, mid-traffic
        server.wait().unwrap();
        kills += 1;
        tokio::time::sleep(Duration::from_millis(300)).await;
        server = start(port, &db);
        wait_healthy(&probe, &base).await;
    }
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert_eq!(acked.len(), MESSAGES);
    let traffic = started.elapsed();

    // Every acknowledged message is stored, in its thread, exactly once.
    let store = server::store::Store::connect(&db).await.unwrap();
    let mut missing = Vec::new();
    for (text, tid) in &acked {
        let messages = store.all_messages(tid).await.unwrap();
        let copies = messages
            .iter()
            .filter(|m| m.role == "user" && &m.content == text)
            .count();
        if copies != 1 {
            missing.push(format!("{text} in {tid}: {copies} copies"));
        }
    }
    assert!(missing.is_empty(), "lost or doubled: {missing:?}");
    let texts: HashSet<&String> = acked.iter().map(|(t, _)| t).collect();
    assert_eq!(texts.len(), MESSAGES);

    // Every run ends: those the kills interrupted are resumed (SQLite: at start; Postgres:
    // when their lease runs out).
    let deadline = Instant::now() + Duration::from_secs(if on_postgres() { 60 } else { 30 });
    let active = loop {
        let active = store
            .runs_by_status()
            .await
            .unwrap()
            .into_iter()
            .filter(|(status, _)| {
                status
                    .parse::<app::api::RunStatus>()
                    .is_ok_and(|s| s.is_active())
            })
            .map(|(_, n)| n)
            .sum::<i64>();
        if active == 0 || Instant::now() > deadline {
            break active;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(active, 0, "every run reached a terminal status");
    let runs = store.runs_by_status().await.unwrap();
    let total: i64 = runs.iter().map(|(_, n)| n).sum();
    assert!(total >= MESSAGES as i64, "{runs:?}");
    eprintln!(
        "durability: {MESSAGES} acknowledged messages from {SESSIONS} sessions, {kills} SIGKILLs, \
         {traffic:?} of traffic; runs by status {runs:?}"
    );
    crate::helpers::stop(&mut server);
}
