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
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::{Json, Router, response::IntoResponse, routing::post};
use rand::Rng;
use serde_json::{Value, json};

#[derive(Clone, Copy)]
struct Model {
    latency: Duration,
    token: Duration,
    tokens: usize,
}

impl Model {
    /// How long the model itself takes for one answer.
    fn time(&self) -> Duration {
        self.latency + self.token * self.tokens as u32
    }
}

/// The fake model: after `latency`, `tokens` words `token` apart (streamed when asked).
async fn fake_model(model: Model) -> String {
    let app = Router::new().route(
        "/v1/chat/completions",
        post(move |Json(request): Json<Value>| async move {
            tokio::time::sleep(model.latency).await;
            if request["stream"] != true {
                let text = "word ".repeat(model.tokens);
                return Json(json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]})).into_response();
            }
            let stream = futures_util::stream::unfold(0usize, move |i| async move {
                if i > model.tokens {
                    return None;
                }
                let line = if i == model.tokens {
                    "data: [DONE]\n\n".to_string()
                } else {
                    tokio::time::sleep(model.token).await;
                    let chunk = json!({"choices": [{"index": 0, "delta": {"content": "word "}, "finish_reason": null}]});
                    format!("data: {chunk}\n\n")
                };
                Some((Ok::<_, std::convert::Infallible>(line), i + 1))
            });
            (
                [("content-type", "text/event-stream")],
                axum::body::Body::from_stream(stream),
            )
                .into_response()
        }),
    );
    let root = server::startup::serve_local(app)
        .await
        .expect("the fake model listens on a free port");
    format!("{root}/v1")
}

/// What the sessions measured.
#[derive(Default)]
struct Record {
    /// Route → latencies in ms.
    routes: BTreeMap<&'static str, Vec<f64>>,
    /// "route status" → count, for answers that were not 200.
    errors: BTreeMap<String, usize>,
    /// End-to-end time of each run (message posted → the poll that saw it end), in ms.
    runs: Vec<f64>,
    in_flight: usize,
    most_in_flight: usize,
}

type Shared = Arc<Mutex<Record>>;

fn note(record: &Shared, route: &'static str, started: Instant, status: u16) {
    let mut r = record.lock().unwrap();
    r.routes
        .entry(route)
        .or_default()
        .push(started.elapsed().as_secs_f64() * 1000.0);
    if status != 200 {
        *r.errors.entry(format!("{route} {status}")).or_default() += 1;
    }
}

#[derive(Clone)]
struct Session {
    client: reqwest::Client,
    base: String,
    cookie: Option<String>,
    record: Shared,
}

impl Session {
    /// Sends `request` with the session's cookie (keeping the one the first answer sets); a
    /// request that got no answer is noted as status 0.
    async fn send(
        &mut self,
        route: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Option<(reqwest::Response, Instant)> {
        let request = match &self.cookie {
            Some(c) => request.header("cookie", c),
            None => request,
        };
        let started = Instant::now();
        let Ok(response) = request.send().await else {
            note(&self.record, route, started, 0);
            return None;
        };
        if self.cookie.is_none()
            && let Some(set) = response
                .headers()
                .get("set-cookie")
                .and_then(|v| v.to_str().ok())
        {
            self.cookie = set.split(';').next().map(str::to_string);
        }
        Some((response, started))
    }

    /// A JSON route: its time includes reading the body.
    async fn call(
        &mut self,
        route: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Option<Value> {
        let (response, started) = self.send(route, request).await?;
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.ok();
        note(&self.record, route, started, status);
        (status == 200).then_some(body).flatten()
    }

    /// One question in a new thread, its run followed to the end, then the thread's messages.
    async fn ask(&mut self, deadline: Instant, follow: Follow) {
        let base = self.base.clone();
        self.call(
            "GET /api/paste-assistant-threads",
            self.client
                .get(format!("{base}/api/paste-assistant-threads")),
        )
        .await;
        let thread = self
            .call(
                "POST /api/paste-assistant-thread",
                self.client
                    .post(format!("{base}/api/paste-assistant-thread"))
                    .json(&json!({})),
            )
            .await;
        let Some(tid) = thread.and_then(|t| t["id"].as_str().map(str::to_string)) else {
            return;
        };
        let posted = Instant::now();
        let message = json!({"threadId": tid, "message": "How do I deploy with Postgres?"});
        let run = self
            .call(
                "POST /api/paste-assistant-message",
                self.client
                    .post(format!("{base}/api/paste-assistant-message"))
                    .json(&message),
            )
            .await;
        let Some(rid) = run.and_then(|r| r["run"]["id"].as_str().map(str::to_string)) else {
            return;
        };
        {
            let mut r = self.record.lock().unwrap();
            r.in_flight += 1;
            r.most_in_flight = r.most_in_flight.max(r.in_flight);
        }
        let run_url = format!("{base}/api/paste-assistant-thread/{tid}/run/{rid}");
        let give_up = deadline + Duration::from_secs(150);
        let ended = match follow {
            Follow::Poll(every) => self.poll(&run_url, posted, every, give_up).await,
            Follow::Events => self.read_events(&run_url, give_up).await,
        };
        {
            let mut r = self.record.lock().unwrap();
            r.in_flight -= 1;
            if ended {
                r.runs.push(posted.elapsed().as_secs_f64() * 1000.0);
            }
        }
        self.call(
            "GET /api/paste-assistant-messages/{tid}",
            self.client
                .get(format!("{base}/api/paste-assistant-messages/{tid}")),
        )
        .await;
    }

    /// Polls the run every `every` from `posted` (this session's phase) until it ends.
    async fn poll(
        &mut self,
        url: &str,
        posted: Instant,
        every: Duration,
        give_up: Instant,
    ) -> bool {
        let mut next = posted + every;
        loop {
            tokio::time::sleep_until(next.into()).await;
            next += every;
            let run = self
                .call(
                    "GET /api/paste-assistant-thread/{tid}/run/{rid}",
                    self.client.get(url),
                )
                .await;
            if run
                .as_ref()
                .and_then(|r| r["status"].as_str())
                .is_some_and(is_terminal)
            {
                return true;
            }
            if Instant::now() > give_up {
                return false;
            }
        }
    }

    /// Reads the run's event stream until its terminal event (the route's time is until the
    /// response's headers).
    async fn read_events(&mut self, url: &str, give_up: Instant) -> bool {
        const ROUTE: &str = "GET …/run/{rid}/events (to headers)";
        let request = self.client.get(format!("{url}/events"));
        let Some((mut response, started)) = self.send(ROUTE, request).await else {
            return false;
        };
        note(&self.record, ROUTE, started, response.status().as_u16());
        let mut pending = String::new();
        loop {
            let chunk = tokio::time::timeout_at(give_up.into(), response.chunk()).await;
            let Ok(Ok(Some(bytes))) = chunk else {
                return false;
            };
            pending.push_str(&String::from_utf8_lossy(&bytes));
            while let Some(end) = pending.find('\n') {
                let line: String = pending.drain(..=end).collect();
                if let Some(event) = line.trim_end().strip_prefix("event: ")
                    && let Some(status) = event.strip_prefix("thread.run.")
                    && is_terminal(status)
                {
                    return true;
                }
            }
        }
    }
}

/// Whether `status` names a run status that is terminal (the project's one life cycle).
fn is_terminal(status: &str) -> bool {
    status
        .parse::<app::api::RunStatus>()
        .is_ok_and(app::api::RunStatus::is_terminal)
}

/// How a session follows its run.
#[derive(Clone, Copy)]
enum Follow {
    Poll(Duration),
    Events,
}

/// The `p`th percentile of sorted milliseconds (the docs benchmark's, in microseconds).
fn pct(sorted: &[f64], p: f64) -> f64 {
    let micros: Vec<u128> = sorted.iter().map(|ms| (ms * 1000.0) as u128).collect();
    server::docs::eval::percentile(&micros, p) as f64 / 1000.0
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
    let sessions: usize = arg(&args, "--sessions", 200);
    let seconds: u64 = arg(&args, "--seconds", 30);
    let every: f64 = arg(&args, "--every", 10.0);
    let model = Model {
        latency: Duration::from_millis(arg(&args, "--latency-ms", 500)),
        token: Duration::from_millis(arg(&args, "--token-ms", 20)),
        tokens: arg(&args, "--tokens", 20),
    };
    let follow = match arg(&args, "--follow", "poll".to_string()).as_str() {
        "events" => Follow::Events,
        _ => Follow::Poll(Duration::from_secs_f64(arg(&args, "--poll-secs", 1.0))),
    };
    let grow: usize = arg(&args, "--grow", 0);
    let check = args.iter().any(|a| a == "--check");
    let http2 = args.iter().any(|a| a == "--http2");
    // Every SQL statement the server runs, with its time (sqlx's log), for the query plans.
    let log = opt(&args, "--server-log");
    let server_path: String = arg(
        &args,
        "--server",
        std::env::current_exe()
            .ok()
            .and_then(|p| Some(p.parent()?.join("server").display().to_string()))
            .unwrap_or_else(|| "target/release/server".into()),
    );

    let model_url = fake_model(model).await;
    let dir = tempfile_dir();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let postgres = opt(&args, "--postgres");
    if postgres.is_some() && grow > 0 {
        eprintln!("loadgen: --grow fills SQLite only; leave out --postgres or --grow");
        std::process::exit(2);
    }
    let database = match &postgres {
        Some(admin) => create_postgres_database(admin).await,
        None => format!("sqlite://{}/load.db", dir.display()),
    };
    let start =
        || {
            std::process::Command::new(&server_path)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_OUTPUT_NAME", "paste-assistant")
            .env("DATABASE_URL", &database)
            .env("OPENAI_BASE_URL", &model_url)
            .env("OPENAI_MODEL", "load-model")
            .env("OPENAI_HTTP2", if http2 { "always" } else { "auto" })
            // The model's whole answer must fit in one call's time limit (a 120-second model).
            .env(
                "OPENAI_TIMEOUT_SECS",
                (model.time().as_secs() + 60).to_string(),
            )
            .env("RUST_LOG", if log.is_some() { "warn,sqlx::query=debug" } else { "error" })
            .env("SESSION_SECRET", "loadgen-secret-loadgen-secret-loadgen-01")
            .env("DOCS_WATCH_SECS", "0")
            .envs(
                [
                    "RATE_LIMIT_SESSION_PER_MIN",
                    "RATE_LIMIT_ADDR_PER_MIN",
                    "RATE_LIMIT_READS_ADDR_PER_MIN",
                    "MAX_ACTIVE_RUNS_PER_SESSION",
                    "MAX_ACTIVE_RUNS_PER_ADDR",
                    "TOKEN_BUDGET_PER_ADDR_PER_DAY",
                    "MAX_RUNNING_RUNS",
                ]
                .map(|k| (k, "0")),
            )
            .stdout(std::process::Stdio::null())
            .stderr(match &log {
                Some(path) => std::process::Stdio::from(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .expect("--server-log: cannot open the file"),
                ),
                None => std::process::Stdio::null(),
            })
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {server_path}: {e} (build it: cargo build -p server --release)"
                )
            })
        };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(sessions)
        .build()
        .unwrap();
    let mut server = start();
    wait_until_up(&client, &base).await;
    if grow > 0 {
        // The server made the schema; it stops while the history is written.
        let _ = server.kill();
        let _ = server.wait();
        let filled = Instant::now();
        fill(&database, grow).await;
        println!(
            "grew the database to {grow} threads, {} messages, {} runs in {:.1} s ({} MiB)",
            grow * 10,
            grow * 5,
            filled.elapsed().as_secs_f64(),
            std::fs::metadata(dir.join("load.db")).map_or(0, |m| m.len() >> 20)
        );
        server = start();
        wait_until_up(&client, &base).await;
    }

    // The server's memory, sampled while the load runs.
    let pid = server.id();
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
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..sessions {
        let mut session = Session {
            client: client.clone(),
            base: base.clone(),
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
    let elapsed = started.elapsed().as_secs_f64();
    sampler.abort();
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(admin) = &postgres {
        drop_postgres_database(admin).await;
    }

    let r = record.lock().unwrap();
    println!(
        "loadgen: {sessions} sessions, a question every {every} s each for {seconds} s; model {} ms + {} tokens × {} ms",
        model.latency.as_millis(),
        model.tokens,
        model.token.as_millis()
    );
    println!(
        "{:<52} {:>8} {:>9} {:>9} {:>9}",
        "route", "requests", "p50 ms", "p99 ms", "max ms"
    );
    let mut total = 0;
    for (route, times) in &r.routes {
        let mut t = times.clone();
        t.sort_by(f64::total_cmp);
        total += t.len();
        println!(
            "{route:<52} {:>8} {:>9.1} {:>9.1} {:>9.1}",
            t.len(),
            pct(&t, 50.0),
            pct(&t, 99.0),
            t.last().copied().unwrap_or(0.0)
        );
    }
    println!("throughput: {:.1} requests/s", total as f64 / elapsed);
    if r.errors.is_empty() {
        println!("errors: none");
    }
    for (what, n) in &r.errors {
        println!("errors: {what}: {n}");
    }
    let mut runs = r.runs.clone();
    runs.sort_by(f64::total_cmp);
    let model_ms = model.time().as_secs_f64() * 1000.0;
    let seen = match follow {
        Follow::Poll(every) => format!(
            "followed by polls every {} s, so the end is seen up to that late",
            every.as_secs_f64()
        ),
        Follow::Events => "followed by the event stream".to_string(),
    };
    println!(
        "runs: {} ended; end to end p50 {:.0} ms, p99 {:.0} ms (model {:.0} ms; {seen})",
        runs.len(),
        pct(&runs, 50.0),
        pct(&runs, 99.0),
        model_ms
    );
    println!(
        "server overhead (end to end minus model time): p50 {:.0} ms, p99 {:.0} ms",
        pct(&runs, 50.0) - model_ms,
        pct(&runs, 99.0) - model_ms
    );
    println!("runs in flight at most: {}", r.most_in_flight);
    println!("server peak RSS: {} MiB", *peak.lock().unwrap() / 1024);
    if check && (!r.errors.is_empty() || runs.is_empty()) {
        eprintln!("loadgen --check: requests failed or no run ended");
        std::process::exit(1);
    }
}

async fn wait_until_up(client: &reqwest::Client, base: &str) {
    let up = Instant::now();
    while !client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            up.elapsed() < Duration::from_secs(60),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Writes `threads` threads of other sessions, each with five questions, their answers and
/// their completed runs, as a year of history would leave them.
async fn fill(database: &str, threads: usize) {
    use sqlx::Connection;
    let mut db = sqlx::SqliteConnection::connect(database).await.unwrap();
    sqlx::query("PRAGMA synchronous = OFF")
        .execute(&mut db)
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    let start = server::ids::now_secs() - 365 * 86400;
    let answer =
        "Set `DATABASE_URL` to a `postgres://` address; see [Deploying](/docs/deployment). "
            .repeat(6);
    for t in 0..threads {
        let tid = format!("thread_grow{t:013}");
        let at = start + t as i64 * 300;
        sqlx::query(
            "INSERT INTO threads (id, session_id, created_at, metadata) VALUES (?, ?, ?, '{}')",
        )
        .bind(&tid)
        .bind(format!("grown-session-{}", t / 3))
        .bind(at)
        .execute(&mut *tx)
        .await
        .unwrap();
        for q in 0..5 {
            let (qid, aid, rid) = (
                format!("msg_grow{t:013}q{q}"),
                format!("msg_grow{t:013}a{q}"),
                format!("run_grow{t:013}r{q}"),
            );
            let when = at + q * 30;
            sqlx::query("INSERT INTO runs (id, thread_id, message_id, created_at, status, model, instructions, expires_at, completed_at) VALUES (?, ?, ?, ?, 'completed', 'grown', '', ?, ?)")
                .bind(&rid).bind(&tid).bind(&qid).bind(when).bind(when + 600).bind(when + 5)
                .execute(&mut *tx).await.unwrap();
            for (id, role, content, run) in [
                (
                    &qid,
                    "user",
                    "How do I deploy the assistant with Postgres on two servers?",
                    None,
                ),
                (&aid, "assistant", answer.as_str(), Some(&rid)),
            ] {
                sqlx::query("INSERT INTO messages (id, thread_id, created_at, role, content, run_id, metadata, status, completed_at) VALUES (?, ?, ?, ?, ?, ?, '{}', 'completed', ?)")
                    .bind(id).bind(&tid).bind(when).bind(role).bind(content).bind(run).bind(when)
                    .execute(&mut *tx).await.unwrap();
            }
        }
    }
    tx.commit().await.unwrap();
    sqlx::query("ANALYZE").execute(&mut db).await.unwrap();
}

/// The Postgres database of this run (`--postgres`).
fn postgres_database_name() -> String {
    format!("pa_load_{}", std::process::id())
}

/// A new Postgres database for this run, created through `admin`; its URL.
async fn create_postgres_database(admin: &str) -> String {
    use sqlx::Connection;
    let name = postgres_database_name();
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .unwrap_or_else(|e| panic!("--postgres: cannot connect to {admin}: {e}"));
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name}"
    )))
    .execute(&mut conn)
    .await;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("--postgres: CREATE DATABASE");
    let (base, _) = admin
        .rsplit_once('/')
        .expect("--postgres: a URL ending in /database");
    format!("{base}/{name}")
}

async fn drop_postgres_database(admin: &str) {
    use sqlx::Connection;
    let name = postgres_database_name();
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
        {
            eprintln!("loadgen: could not drop {name}: {e}");
        }
    }
}

/// A fresh folder for the database.
fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
