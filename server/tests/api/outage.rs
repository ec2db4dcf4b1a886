//! The database going away and coming back: the server reports it (`/healthz`, `/readyz`
//! 503), refuses work with a 503 error object that says to retry (never a 500 or a hang), the
//! run it was writing ends once the database is back, and everything works again without a
//! restart. The database is Postgres reached through a TCP relay the test can cut, as a
//! network outage or a database restart would; so it runs in the Postgres pass.
use std::{sync::Arc, time::Duration};

use serde_json::{Value, json};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
};

use crate::fake_model::{FakeModel, Step};
use crate::helpers::{
    Settings, assert_error, data_field, fresh_database, on_postgres, spawn_app_with, wait_healthy,
};

/// Relays TCP connections to Postgres until cut; while cut it closes every connection, open
/// or new.
struct Relay {
    port: u16,
    up: watch::Sender<bool>,
}

impl Relay {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, _) = watch::channel(true);
        let state = Arc::new(up.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut up = state.subscribe();
                if !*up.borrow() {
                    continue; // dropped: the connection closes at once
                }
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = up.wait_for(|up| !up) => {}
                    }
                });
            }
        });
        Self { port, up }
    }

    fn cut(&self) {
        self.up.send_replace(false);
    }

    fn restore(&self) {
        self.up.send_replace(true);
    }
}

async fn status(app: &crate::helpers::TestApp, path: &str) -> u16 {
    app.get(path).await.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Postgres: runs in the TEST_DATABASE=postgres pass (--include-ignored)"]
async fn the_database_going_away_is_reported_refused_cleanly_and_recovered_from() {
    assert!(
        on_postgres(),
        "the relay stands between the server and Postgres"
    );
    let dir = tempfile::tempdir().unwrap();
    let direct = fresh_database(dir.path()).await;
    let (scheme_user, rest) = direct.split_once('@').unwrap();
    let (host, name) = rest.split_once('/').unwrap();
    let relay = Relay::start(host.to_string()).await;
    let relayed = format!("{scheme_user}@127.0.0.1:{}/{name}", relay.port);

    let fake = FakeModel::start().await;
    fake.set_fallback(Step::Auto);
    let app = spawn_app_with(Settings {
        vars: vec![
            ("DATABASE_URL", relayed),
            ("OPENAI_BASE_URL", fake.base_url.clone()),
            ("OPENAI_MODEL", "fake-model".into()),
            ("RUN_LEASE_SECS", "3".into()),
        ],
    })
    .await;
    assert_eq!(status(&app, "/healthz").await, 200);

    // A run is waiting for the model when the database goes away.
    let release = fake.hold_next();
    let tid = app.new_thread().await;
    let rid = app.send(&tid, "What is a thread?").await;
    fake.wait_for_requests(1).await;
    relay.cut();

    assert_eq!(status(&app, "/healthz").await, 503);
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), 503);
    let ready: Value = r.json().await.unwrap();
    assert_eq!(ready["database"], "unavailable", "{ready}");
    // Work is refused with a message that says to retry, not a 500.
    let r = app.create_thread(&json!({})).await;
    assert_eq!(r.headers()["retry-after"], "5");
    let message = assert_error(r, 503, "server_error").await;
    assert!(message.contains("retry"), "{message}");
    let r = app
        .get(&format!("/api/paste-assistant-thread/{tid}/run/{rid}"))
        .await;
    assert_eq!(r.status(), 503);
    // The model answers now; the run cannot save the answer and stops trying.
    let mut executing = app.assistant.runs_executing();
    release.notify_one();
    tokio::time::timeout(Duration::from_secs(20), executing.wait_for(|n| *n == 0))
        .await
        .expect("the run gave up")
        .unwrap();
    let asked_before = fake.requests().len();

    relay.restore();
    wait_healthy(&app.client, &app.address).await;
    assert_eq!(status(&app, "/readyz").await, 200);
    // The interrupted run is taken up again once its lease is over, asks the model again and
    // is answered.
    let run = app.wait_for_run(&tid, &rid).await;
    assert_eq!(run["status"], "completed", "{run}");
    assert!(
        fake.requests().len() > asked_before,
        "the run was executed a second time"
    );
    let (_, run) = app.ask("How do I deploy with Postgres?").await;
    assert_eq!(run["status"], "completed", "{run}");
    let list: Value = app.list_messages(&tid, "").await.json().await.unwrap();
    let roles = data_field(&list, "role");
    assert_eq!(
        roles,
        ["user", "assistant"],
        "one answer, nothing lost or doubled"
    );
}
