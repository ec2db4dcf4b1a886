//! Limits on what one browser or address can make the server do, and trusting a proxy only
//! when told to.
use std::time::Duration;

use serde_json::Value;

use crate::fake_model::{FakeModel, Step};
use crate::helpers::{Settings, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_has_a_bounded_number_of_answers_in_progress() {
    let fake = FakeModel::start().await;
    fake.set_fallback(Step::Delay(Duration::from_secs(3), Box::new(Step::Auto)));
    let app = spawn_app_with(Settings {
        vars: vec![
            ("OPENAI_BASE_URL", fake.base_url.clone()),
            ("MAX_ACTIVE_RUNS_PER_SESSION", "2".into()),
        ],
    })
    .await;
    let mut runs = Vec::new();
    for i in 0..2 {
        let tid = app.new_thread().await;
        let rid = app.send(&tid, &format!("Slow question {i}")).await;
        runs.push((tid, rid));
    }
    let third = app.new_thread().await;
    let r = app.post_message(&third, "One too many").await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "5");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_active_runs");
    assert!(body["error"]["message"].as_str().unwrap().contains("wait"));
    let l: Value = app.list_messages(&third, "").await.json().await.unwrap();
    assert_eq!(l["data"].as_array().unwrap().len(), 0, "nothing stored");
    // Another browser is not affected.
    let other = app.other_session();
    let tid = other.new_thread().await;
    assert_eq!(other.post_message(&tid, "Mine").await.status(), 200);
    // Once an answer is done, there is room again.
    fake.set_fallback(Step::Auto);
    let (tid, rid) = &runs[0];
    assert_eq!(app.wait_for_run(tid, rid).await["status"], "completed");
    assert_eq!(app.post_message(&third, "Now?").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_headers_are_believed_only_with_trust_proxy() {
    for trust in [false, true] {
        let app = spawn_app_with(Settings {
            vars: vec![
                ("TRUST_PROXY", trust.to_string()),
                ("RATE_LIMIT_ADDR_PER_MIN", "2".into()),
                ("RATE_LIMIT_SESSION_PER_MIN", "0".into()),
            ],
        })
        .await;
        // The session cookie is Secure when the proxy says the browser uses HTTPS.
        let r = reqwest::Client::new()
            .get(app.url("/"))
            .header("x-forwarded-proto", "https")
            .send()
            .await
            .unwrap();
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        let name = if trust {
            "__Host-pa_session="
        } else {
            "pa_session="
        };
        assert!(cookie.starts_with(name), "trust={trust}: {cookie}");
        assert_eq!(
            cookie.ends_with("; Secure"),
            trust,
            "trust={trust}: {cookie}"
        );
        // The prefixed cookie carries the same session.
        let pair = cookie.split(';').next().unwrap().to_string();
        let r = reqwest::Client::new()
            .get(app.url("/api/paste-assistant-threads"))
            .header("cookie", pair)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers().get("set-cookie").is_none(), "no new session");
        // Clients behind the proxy are counted apart only when it is trusted; a forged
        // X-Forwarded-For from a client is otherwise ignored.
        let post = |addr: &'static str| {
            let client = reqwest::Client::new();
            let url = app.url("/api/paste-assistant-thread");
            async move {
                client
                    .post(url)
                    .header("x-forwarded-for", addr)
                    .json(&serde_json::json!({}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        let statuses = [
            post("203.0.113.1").await,
            post("203.0.113.2").await,
            post("203.0.113.3").await,
            post("203.0.113.1").await,
            post("203.0.113.1").await,
        ];
        let expected = if trust {
            [200, 200, 200, 200, 429]
        } else {
            [200, 200, 429, 429, 429]
        };
        assert_eq!(statuses, expected, "trust={trust}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_site_cannot_make_a_visitors_browser_change_anything() {
    let app = crate::helpers::spawn_app().await;
    let tid = app.new_thread().await;
    let threads = || app.url("/api/paste-assistant-thread");
    let count = || async {
        let list: Value = app.list_threads("").await.json().await.unwrap();
        list["data"].as_array().unwrap().len()
    };
    // The attack of the issue: a form on another site posts text/plain with the visitor's
    // cookie. Browsers say where it came from; both signs are refused.
    let attacks = [
        vec![
            ("origin", "https://evil.example"),
            ("content-type", "text/plain"),
        ],
        vec![
            ("sec-fetch-site", "cross-site"),
            ("content-type", "text/plain"),
        ],
        vec![
            ("sec-fetch-site", "same-site"),
            ("content-type", "application/json"),
        ],
        vec![("origin", "null"), ("content-type", "application/json")],
    ];
    let post = |url: String, headers: Vec<(&'static str, String)>, body: &'static str| {
        let mut req = app.client.post(url).body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        async move { req.send().await.unwrap() }
    };
    for headers in &attacks {
        let owned = headers.iter().map(|(k, v)| (*k, v.to_string())).collect();
        let r = post(threads(), owned, "{}").await;
        assert_eq!(r.status(), 403, "{headers:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "cross_site_request", "{body}");
    }
    // Server functions too (the pages' own calls).
    let form = (
        "content-type",
        "application/x-www-form-urlencoded".to_string(),
    );
    let cross_site = ("sec-fetch-site", "cross-site".to_string());
    let r = post(app.url("/api/create_thread"), vec![cross_site, form], "").await;
    assert_eq!(r.status(), 403);
    // A non-JSON body from a client that sends neither header is refused as such.
    let text = ("content-type", "text/plain".to_string());
    assert_eq!(post(threads(), vec![text], "{}").await.status(), 415);
    assert_eq!(count().await, 1, "nothing was created");
    // The site's own pages, and clients without browser headers, keep working.
    let own = vec![
        ("origin", app.address.clone()),
        ("sec-fetch-site", "same-origin".to_string()),
        ("content-type", "application/json".to_string()),
    ];
    assert_eq!(post(threads(), own, "{}").await.status(), 200);
    assert_eq!(
        app.create_thread(&serde_json::json!({})).await.status(),
        200
    );
    let cancel_url = app.url(&format!(
        "/api/paste-assistant-thread/{tid}/run/run_x/cancel"
    ));
    let cancel = post(cancel_url, vec![], "").await;
    assert_ne!(cancel.status(), 415, "an empty body needs no content type");
    assert_eq!(count().await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_stalled_connections_neither_delay_others_nor_stay_open() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(Settings {
        vars: vec![("HEADER_READ_TIMEOUT_SECS", "1".into())],
    })
    .await;
    let host = app.address.trim_start_matches("http://").to_string();
    // Half the connections send nothing, half send part of a request and stop.
    let mut stalled = Vec::new();
    for i in 0..300 {
        let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
        if i % 2 == 0 {
            stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .await
                .unwrap();
        }
        stalled.push(stream);
    }
    let started = std::time::Instant::now();
    let r = app.get("/api/paste-assistant-threads").await;
    assert_eq!(r.status(), 200);
    eprintln!(
        "a request beside 300 stalled connections took {:?}",
        started.elapsed()
    );
    // Past the header timeout the server has closed every one of them.
    for mut stream in stalled {
        let mut buf = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf)).await;
        assert!(
            read.is_ok(),
            "a stalled connection was still open after 10 s"
        );
    }
}
