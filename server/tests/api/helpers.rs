//! `spawn_app`: the whole server on port 0 with a fresh database, and one client method per
//! route. The database is SQLite in the test's temporary folder, or with `TEST_DATABASE=postgres`
//! a new database of its own on `TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), so the same tests cover both.
use std::{collections::HashMap, path::PathBuf, time::Duration};

use reqwest::{Client, Response};
use serde_json::{Value, json};
use server::{config::Config, startup::Application, store::Store};

pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub assistant: server::service::Assistant,
    /// A connection of the test's own to the server's database, to look at (or plant) rows
    /// the API does not show.
    pub store: Store,
    _dir: tempfile::TempDir,
}

/// Options of a test server beyond the defaults.
#[derive(Default)]
pub struct Settings {
    pub vars: Vec<(&'static str, String)>,
}

pub fn docs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs")
}

/// The Paste docs (`PASTE_CORPUS`, the shared corpus or the fetched copy), as a docs team's
/// folder; a test that needs them fails when they are missing.
pub fn paste_docs() -> String {
    let dir = server::docs::eval::paste_corpus();
    assert!(
        dir.is_dir(),
        "the Paste docs are missing at {}: run scripts/fetch-paste-docs",
        dir.display()
    );
    dir.display().to_string()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Settings::default()).await
}

pub async fn spawn_app_with(settings: Settings) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut vars: HashMap<&str, String> = HashMap::new();
    vars.insert("LEPTOS_SITE_ADDR", "127.0.0.1:0".into());
    vars.insert("DATABASE_URL", fresh_database(dir.path()).await);
    // With TEST_LOG=1 a test prints the server's log (debug for our crate), so a failing test
    // shows what the server did; otherwise only warnings, dropped.
    let verbose = std::env::var("TEST_LOG").is_ok_and(|v| !v.is_empty() && v != "0");
    vars.insert("DOCS_DIR", docs_dir().display().to_string());
    vars.insert(
        "SESSION_SECRET",
        "test-secret-test-secret-test-secret-0123".into(),
    );
    for (k, v) in settings.vars {
        vars.insert(k, v);
    }
    // An empty value unsets a default (`DOCS_DIR`: only the sites are the docs).
    vars.retain(|_, v| !v.is_empty());
    if verbose {
        server::telemetry::init("info,server=debug,sqlx=warn", std::io::stderr);
    } else {
        server::telemetry::init("warn", std::io::sink);
    }
    let database_url = vars["DATABASE_URL"].clone();
    let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("test configuration");
    let options = server::startup::leptos_options().unwrap();
    let app = Application::build(config, options)
        .await
        .expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let assistant = app.assistant();
    tokio::spawn(app.run_until_stopped());
    // The docs are indexed after the server starts; the tests expect them in from the start.
    assistant.docs_ready().await;
    let store = Store::connect(&database_url)
        .await
        .expect("the test opens the server's database");
    TestApp {
        address,
        client: new_client(),
        assistant,
        store,
        _dir: dir,
    }
}

/// Whether the API tests run against Postgres (`TEST_DATABASE=postgres`).
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE").as_deref() == Ok("postgres")
}

/// A new, empty database for one test server.
pub async fn fresh_database(dir: &std::path::Path) -> String {
    if !on_postgres() {
        return format!("sqlite://{}/test.db", dir.display());
    }
    use rand::Rng;
    use sqlx::Connection;
    let admin = std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let name = format!("pa_t_{:016x}", rand::rng().random::<u64>());
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("TEST_DATABASE=postgres: cannot connect to {admin}: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create the test database");
    let _ = conn.close().await;
    let (base, _) = admin
        .rsplit_once('/')
        .expect("a database URL ends in /name");
    format!("{base}/{name}")
}

/// A browser of its own: a new session.
pub fn new_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

impl TestApp {
    /// Another browser talking to the same server.
    pub fn other_session(&self) -> TestApp {
        TestApp {
            address: self.address.clone(),
            client: new_client(),
            assistant: self.assistant.clone(),
            store: self.store.clone(),
            _dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Another browser, whose requests a trusted proxy says come from `ip` (the server must
    /// run with `TRUST_PROXY=true`).
    pub fn session_from(&self, ip: &str) -> TestApp {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-forwarded-for", ip.parse().unwrap());
        TestApp {
            client: Client::builder()
                .cookie_store(true)
                .default_headers(headers)
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            ..self.other_session()
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> Response {
        self.client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// A request without a body (nor a content type).
    pub async fn bodiless(&self, method: reqwest::Method, path: &str) -> Response {
        self.client
            .request(method, self.url(path))
            .send()
            .await
            .unwrap()
    }

    /// A GET in this session with one extra request header.
    pub async fn get_with(&self, path: &str, header: &str, value: &str) -> Response {
        self.client
            .get(self.url(path))
            .header(header, value)
            .send()
            .await
            .unwrap()
    }

    /// Rates answer `mid` of thread `tid` with `body` (`PUT …/feedback`).
    pub async fn rate(&self, tid: &str, mid: &str, body: &Value) -> Response {
        self.client
            .put(self.url(&format!(
                "/api/paste-assistant-thread/{tid}/messages/{mid}/feedback"
            )))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn create_thread(&self, body: &Value) -> Response {
        self.post_json("/api/paste-assistant-thread", body).await
    }

    /// Creates a thread and returns its id.
    pub async fn new_thread(&self) -> String {
        let r = self.create_thread(&json!({})).await;
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn get_thread(&self, tid: &str) -> Response {
        self.get(&format!("/api/paste-assistant-thread/{tid}"))
            .await
    }

    pub async fn list_threads(&self, query: &str) -> Response {
        self.get(&format!("/api/paste-assistant-threads{query}"))
            .await
    }

    pub async fn put_thread(&self, tid: &str, body: &Value) -> Response {
        self.client
            .put(self.url(&format!("/api/paste-assistant-thread/{tid}")))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete_thread(&self, tid: &str) -> Response {
        self.client
            .delete(self.url(&format!("/api/paste-assistant-thread/{tid}")))
            .send()
            .await
            .unwrap()
    }

    pub async fn post_message(&self, tid: &str, message: &str) -> Response {
        self.post_json(
            "/api/paste-assistant-message",
            &json!({"threadId": tid, "message": message}),
        )
        .await
    }

    pub async fn list_messages(&self, tid: &str, query: &str) -> Response {
        self.get(&format!("/api/paste-assistant-messages/{tid}{query}"))
            .await
    }

    pub async fn get_run(&self, tid: &str, rid: &str) -> Response {
        self.get(&format!("/api/paste-assistant-thread/{tid}/run/{rid}"))
            .await
    }

    pub async fn run_steps(&self, tid: &str, rid: &str) -> Response {
        self.get(&format!(
            "/api/paste-assistant-thread/{tid}/run/{rid}/steps"
        ))
        .await
    }

    pub async fn simple_completion(&self, body: &Value) -> Response {
        self.post_json("/api/paste-assistant-simple-completion", body)
            .await
    }

    pub async fn docs_search(&self, query: &str) -> Response {
        self.get(&format!("/api/docs-search{query}")).await
    }

    /// `POST /api/docs-reindex`, with `Authorization: Bearer <token>` when given.
    pub async fn docs_reindex(&self, token: Option<&str>) -> Response {
        let mut req = self.client.post(self.url("/api/docs-reindex"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// The run's steps, as a list object.
    pub async fn steps(&self, tid: &str, rid: &str) -> Value {
        self.run_steps(tid, rid).await.json().await.unwrap()
    }

    /// Posts `message` to thread `tid` (it must be accepted); the run's id.
    pub async fn send(&self, tid: &str, message: &str) -> String {
        post_at(&self.client, &self.address, tid, message).await
    }

    /// Posts `message` to thread `tid` and waits for its run to end; the ended run.
    pub async fn send_and_wait(&self, tid: &str, message: &str) -> Value {
        let rid = self.send(tid, message).await;
        self.wait_for_run(tid, &rid).await
    }

    /// Asks `question` in a new thread and waits for its answer, which must come; the thread.
    pub async fn answered(&self, question: &str) -> String {
        let (tid, run) = self.ask(question).await;
        assert_eq!(run["status"], "completed", "{run}");
        tid
    }

    /// Waits until `ready` holds (at most 20 s, else the test fails), looking again each time a
    /// run on this server changes: no fixed pauses.
    pub async fn wait_until<F, Fut>(&self, what: &str, mut ready: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        // Subscribed before the first look, so a change in between is not missed.
        let mut changes = self.assistant.run_changes();
        let waited = async {
            while !ready().await {
                let _ = changes.changed().await;
            }
        };
        if tokio::time::timeout(Duration::from_secs(20), waited)
            .await
            .is_err()
        {
            panic!("{what}: not within 20 s");
        }
    }

    /// The text of the thread's last answer.
    pub async fn answer_text(&self, tid: &str) -> String {
        let list = body_of(self.list_messages(tid, "").await).await;
        let data = list["data"].as_array().unwrap();
        let answer = data
            .iter()
            .rev()
            .find(|m| m["role"] == "assistant")
            .unwrap();
        answer["content"][0]["text"]["value"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Polls the run until it is terminal (at most 20 s, else the test fails) and returns it.
    pub async fn wait_for_run(&self, tid: &str, rid: &str) -> Value {
        wait_run_at(
            &self.client,
            &self.address,
            tid,
            rid,
            Duration::from_secs(20),
        )
        .await
    }

    /// Asks a question on a new thread and waits for the run to end.
    pub async fn ask(&self, question: &str) -> (String, Value) {
        let (tid, rid) = ask_at(&self.client, &self.address, question).await;
        let run = self.wait_for_run(&tid, &rid).await;
        (tid, run)
    }
}

/// Asserts the API.md error object and returns its message.
pub async fn assert_error(r: Response, status: u16, kind: &str) -> String {
    assert_eq!(r.status().as_u16(), status, "status");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], kind, "{body}");
    let message = body["error"]["message"].as_str().unwrap().to_string();
    assert!(!message.is_empty());
    message
}

/// A free TCP port on 127.0.0.1 (for the server binary run as a process).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The real server binary on `port` and database `db`, quiet, with the docs folder and a fixed
/// session secret; add settings with `.env(…)` and start it with `.spawn()`.
/// Ends a server process the test started (SIGKILL) and reaps it.
pub fn stop(server: &mut std::process::Child) {
    let _ = server.kill();
    let _ = server.wait();
}

pub fn server_command(port: u16, db: &str) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_OUTPUT_NAME", "paste-assistant")
        .env("DATABASE_URL", db)
        .env("DOCS_DIR", docs_dir())
        .env("SESSION_SECRET", "process-secret-process-secret-process-01")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    command
}

/// Waits until the server at `base` answers `/healthz`.
pub async fn wait_healthy(client: &Client, base: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{base} did not become healthy");
}

/// The `key` of each object of a list's `data` (ids, roles) in order.
pub fn data_field<'a>(list: &'a Value, key: &str) -> Vec<&'a str> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item[key].as_str().unwrap())
        .collect()
}

/// Serves `router` on a free local port over HTTP/1.1 and h2c (fake upstreams); its
/// `http://127.0.0.1:port` root.
pub async fn serve_local(router: axum::Router) -> String {
    server::startup::serve_local(router).await.unwrap()
}

/// A response's `Content-Type`.
pub fn content_type(response: &Response) -> &str {
    response.headers()["content-type"].to_str().unwrap()
}

/// The JSON body of a response that must be a 200.
pub async fn ok_json(response: Response) -> Value {
    assert_eq!(response.status(), 200, "{}", response.url());
    response.json().await.unwrap()
}

/// A response's JSON body.
pub async fn body_of(response: Response) -> Value {
    response.json().await.unwrap()
}

pub async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// Against a server process at `base`: starts a thread with `question`; (thread, run).
pub async fn ask_at(client: &reqwest::Client, base: &str, question: &str) -> (String, String) {
    let t = json_of(
        client
            .post(format!("{base}/api/paste-assistant-thread"))
            .json(&serde_json::json!({})),
    )
    .await;
    let tid = t["id"].as_str().unwrap().to_string();
    let rid = post_at(client, base, &tid, question).await;
    (tid, rid)
}

/// Against a server process at `base`: posts `message` to thread `tid`; the run's id.
pub async fn post_at(client: &reqwest::Client, base: &str, tid: &str, message: &str) -> String {
    let r = client
        .post(format!("{base}/api/paste-assistant-message"))
        .json(&serde_json::json!({"threadId": tid, "message": message}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["run"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Whether a run object's status is terminal.
pub fn is_terminal(run: &Value) -> bool {
    run["status"]
        .as_str()
        .and_then(|s| s.parse::<app::api::RunStatus>().ok())
        .is_some_and(|s| s.is_terminal())
}

/// Polls the run on `base` every 100 ms until it is terminal; fails the test when it is not
/// within `within`.
pub async fn wait_run_at(
    client: &reqwest::Client,
    base: &str,
    tid: &str,
    rid: &str,
    within: Duration,
) -> Value {
    let deadline = std::time::Instant::now() + within;
    loop {
        let run =
            json_of(client.get(format!("{base}/api/paste-assistant-thread/{tid}/run/{rid}"))).await;
        if is_terminal(&run) {
            return run;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "run {rid} did not end within {within:?}: {run}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What a fake server (the model, Slack) answers next: the scripted answers in order, then the
/// fallback, then the fake's default.
pub struct Script<T> {
    queue: std::sync::Mutex<std::collections::VecDeque<T>>,
    fallback: std::sync::Mutex<Option<T>>,
}

impl<T> Default for Script<T> {
    fn default() -> Self {
        Self {
            queue: Default::default(),
            fallback: Default::default(),
        }
    }
}

impl<T: Clone> Script<T> {
    pub fn extend(&self, answers: impl IntoIterator<Item = T>) {
        self.queue.lock().unwrap().extend(answers);
    }

    pub fn set_fallback(&self, answer: T) {
        *self.fallback.lock().unwrap() = Some(answer);
    }

    pub fn next_or(&self, default: T) -> T {
        let next = self.queue.lock().unwrap().pop_front();
        next.or_else(|| self.fallback.lock().unwrap().clone())
            .unwrap_or(default)
    }
}
