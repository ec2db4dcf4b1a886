//! Behind a real reverse proxy: nginx (Debian's package, installed by `scripts/setup.sh`) with
//! its default `proxy_buffering on` in front of the server. The event stream's
//! `X-Accel-Buffering: no` must make it pass each delta on as it is written.
use std::{process::Command, time::Duration};

use serde_json::json;

use crate::fake_model::{FakeModel, held_stream, tool_calls};
use crate::helpers::{Settings, free_port, json_of, new_client, spawn_app_with};

const NGINX: &str = "/usr/sbin/nginx";

struct Nginx(std::process::Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// nginx on a free port proxying to `upstream` (host:port), with its buffering defaults.
fn start_nginx(dir: &std::path::Path, upstream: &str) -> (Nginx, u16) {
    assert!(
        std::path::Path::new(NGINX).exists(),
        "nginx is missing: scripts/setup.sh --with-browser installs Debian's nginx"
    );
    let port = free_port();
    let d = dir.display();
    let conf = format!(
        "daemon off; master_process off; pid {d}/nginx.pid; error_log {d}/error.log warn;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n\
           access_log off;\n\
           client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi;\n\
           uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
           server {{\n\
             listen 127.0.0.1:{port};\n\
             location / {{\n\
               proxy_pass http://{upstream};\n\
               proxy_http_version 1.1;\n\
               proxy_set_header Host $host;\n\
               proxy_set_header X-Forwarded-For $remote_addr;\n\
             }}\n\
           }}\n\
         }}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let child = Command::new(NGINX)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nginx starts");
    (Nginx(child), port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deltas_pass_through_a_buffering_nginx_as_they_are_written() {
    let fake = FakeModel::start().await;
    let (answer, release) = held_stream(&["Through the proxy, "], &["and the rest."]);
    fake.script([
        tool_calls(&[("c1", "get_relevant_docs", r#"{"query":"proxy"}"#)]),
        answer,
    ]);
    let app = spawn_app_with(Settings {
        vars: vec![
            ("OPENAI_BASE_URL", fake.base_url.clone()),
            ("TRUST_PROXY", "true".into()),
        ],
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let upstream = app.address.trim_start_matches("http://").to_string();
    let (_nginx, port) = start_nginx(dir.path(), &upstream);
    let base = format!("http://127.0.0.1:{port}");
    let client = new_client();
    crate::helpers::wait_healthy(&client, &base).await;

    let thread = json_of(
        client
            .post(format!("{base}/api/paste-assistant-thread"))
            .json(&json!({})),
    )
    .await;
    let tid = thread["id"].as_str().unwrap().to_string();
    let rid =
        crate::helpers::post_at(&client, &base, &tid, "Does streaming survive a proxy?").await;
    // Wait until the answer has begun, then follow the stream from just before its first
    // words: all that nginx then has to pass on is one small delta (a proxy that buffers
    // holds back exactly such small writes).
    let created_seq = || async {
        let rows = app.store.events_after(&rid, 0).await.unwrap();
        rows.iter()
            .find(|(_, e, _)| e == "thread.message.created")
            .map(|(seq, _, _)| *seq)
    };
    app.wait_until("the answer began", || async {
        created_seq().await.is_some()
    })
    .await;
    let created = created_seq().await.unwrap();
    let response = client
        .get(format!(
            "{base}/api/paste-assistant-thread/{tid}/run/{rid}/events"
        ))
        .header("last-event-id", format!("{created}-0"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let mut seen = String::new();
    // The first words come through while the model holds the rest back.
    let first = read_until(&mut body, &mut seen, "Through the proxy").await;
    assert!(first, "nginx held the delta back: {seen}");
    assert!(seen.contains("event: thread.message.delta"), "{seen}");
    release.notify_one();
    assert!(
        read_until(&mut body, &mut seen, "data: [DONE]").await,
        "{seen}"
    );
    assert!(seen.contains("and the rest."));
}

/// Reads `body` into `seen` until it holds `needle` (true), or 10 s pass or the body ends.
async fn read_until(
    body: &mut (impl futures_util::Stream<Item = reqwest::Result<axum::body::Bytes>> + Unpin),
    seen: &mut String,
    needle: &str,
) -> bool {
    use futures_util::StreamExt;
    let read = async {
        while let Some(Ok(bytes)) = body.next().await {
            seen.push_str(&String::from_utf8_lossy(&bytes));
            if seen.contains(needle) {
                return true;
            }
        }
        false
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .unwrap_or(false)
}
