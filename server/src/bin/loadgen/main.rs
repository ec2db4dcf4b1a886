//! A load generator (issue 15): starts a fake OpenAI-compatible model (set latency and token
//! rate) and the release server on a fresh SQLite database, then runs N browser-like sessions
//! open loop — each at its own random phase asks a question every `--every` seconds in a new
//! thread (listing its threads first, as the sidebar does) and follows the run until it ends,
//! polling every `--poll-secs` on its own phase or reading the run's event stream, then lists
//! the thread's messages — and prints the latency of each route, errors by status, throughput,
//! the end-to-end time of runs minus the model's own time (the server's overhead), the runs in
//! flight and the server's peak RSS. `--grow N` first fills the database with N threads of ten
//! messages each (other readers' history), so the same load can be compared on a big database.
//!
//! Usage: cargo run -p server --release --bin loadgen -- [--sessions 200] [--seconds 30]
//!        [--every 10] [--latency-ms 500] [--token-ms 20] [--tokens 20] [--follow poll|events]
//!        [--poll-secs 1] [--grow 0] [--check] [--server-log FILE] [--server PATH] [--http2]
//!        [--postgres URL]
//! `--postgres URL` (a database to connect to for `CREATE DATABASE`, such as
//! `postgres://postgres@127.0.0.1:5432/test`) runs the server on a fresh Postgres database of
//! its own, dropped at the end, instead of SQLite (the peak RSS is the server's alone).
//! `--http2` has the server call the fake model over HTTP/2 (h2c, `OPENAI_HTTP2=always`), as
//! it does OpenAI's API over TLS; without it every model call has a connection of its own.
//! `--check` exits non-zero when any request failed or no run ended (CI's smoke run).
mod database;
mod instance;
mod model;
mod report;
mod session;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;

use model::Model;
use session::{Follow, Session, Shared};

/// The command line.
pub struct Options {
    pub sessions: usize,
    pub seconds: u64,
    pub every: f64,
    pub model: Model,
    pub follow: Follow,
    pub grow: usize,
    pub check: bool,
    pub http2: bool,
    /// Every SQL statement the server runs, with its time (sqlx's log), for the query plans.
    pub log: Option<String>,
    pub server_path: String,
    pub postgres: Option<String>,
}

impl Options {
    fn parse(args: &[String]) -> Self {
        Self {
            sessions: arg(args, "--sessions", 200),
            seconds: arg(args, "--seconds", 30),
            every: arg(args, "--every", 10.0),
            model: Model {
                latency: Duration::from_millis(arg(args, "--latency-ms", 500)),
                token: Duration::from_millis(arg(args, "--token-ms", 20)),
                tokens: arg(args, "--tokens", 20),
            },
            follow: match arg(args, "--follow", "poll".to_string()).as_str() {
                "events" => Follow::Events,
                _ => Follow::Poll(Duration::from_secs_f64(arg(args, "--poll-secs", 1.0))),
            },
            grow: arg(args, "--grow", 0),
            check: args.iter().any(|a| a == "--check"),
            http2: args.iter().any(|a| a == "--http2"),
            log: opt(args, "--server-log"),
            server_path: arg(
                args,
                "--server",
                std::env::current_exe()
                    .ok()
                    .and_then(|p| Some(p.parent()?.join("server").display().to_string()))
                    .unwrap_or_else(|| "target/release/server".into()),
            ),
            postgres: opt(args, "--postgres"),
        }
    }
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    opt(args, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The value after `name`, if given.
fn opt(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let o = Options::parse(&args);
    if o.postgres.is_some() && o.grow > 0 {
        eprintln!("loadgen: --grow fills SQLite only; leave out --postgres or --grow");
        std::process::exit(2);
    }
    let model_url = model::fake_model(o.model).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(o.sessions)
        .build()
        .unwrap();
    let mut server = instance::Instance::start(&o, &model_url, &client).await;

    // The server's memory, sampled while the load runs.
    let pid = server.child.id();
    let peak = Arc::new(Mutex::new(0u64));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                let now = server::docs::eval::proc_status_kib(&pid.to_string(), "VmRSS");
                {
                    let mut p = peak.lock().unwrap();
                    *p = (*p).max(now);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    let record: Shared = Arc::default();
    let started = Instant::now();
    run_sessions(&o, &client, &server.base, &record, started).await;
    let elapsed = started.elapsed().as_secs_f64();
    sampler.abort();
    server.stop().await;

    let r = record.lock().unwrap();
    let runs = report::print(&o, &r, elapsed, *peak.lock().unwrap());
    if o.check && (!r.errors.is_empty() || runs == 0) {
        eprintln!("loadgen --check: requests failed or no run ended");
        std::process::exit(1);
    }
}

/// The sessions, open loop until the deadline, each at its own random phase.
async fn run_sessions(
    o: &Options,
    client: &reqwest::Client,
    base: &str,
    record: &Shared,
    started: Instant,
) {
    let deadline = started + Duration::from_secs(o.seconds);
    let (every, follow) = (o.every, o.follow);
    let mut tasks = Vec::new();
    for _ in 0..o.sessions {
        let mut session = Session {
            client: client.clone(),
            base: base.to_string(),
            cookie: None,
            record: record.clone(),
        };
        let phase = Duration::from_secs_f64(rand::rng().random_range(0.0..every));
        tasks.push(tokio::spawn(async move {
            // The session's cookie first (any answer sets one), then open loop: question k
            // starts at phase + k × every, whatever the earlier ones are doing.
            let _ = session
                .call(
                    "GET /healthz",
                    session.client.get(format!("{}/healthz", session.base)),
                )
                .await;
            let mut asks = Vec::new();
            let mut at = started + phase;
            while at < deadline {
                tokio::time::sleep_until(at.into()).await;
                let mut s = session.clone();
                asks.push(tokio::spawn(async move { s.ask(deadline, follow).await }));
                at += Duration::from_secs_f64(every);
            }
            for a in asks {
                let _ = a.await;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}
