//! One browser-like session: its cookie, its questions, following each run, and the record of
//! every request's time.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// What the sessions measured.
#[derive(Default)]
pub struct Record {
    /// Route → latencies in ms.
    pub routes: BTreeMap<&'static str, Vec<f64>>,
    /// "route status" → count, for answers that were not 200.
    pub errors: BTreeMap<String, usize>,
    /// End-to-end time of each run (message posted → the poll that saw it end), in ms.
    pub runs: Vec<f64>,
    pub in_flight: usize,
    pub most_in_flight: usize,
}

pub type Shared = Arc<Mutex<Record>>;

pub fn note(record: &Shared, route: &'static str, started: Instant, status: u16) {
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
pub struct Session {
    pub client: reqwest::Client,
    pub base: String,
    pub cookie: Option<String>,
    pub record: Shared,
}

impl Session {
    /// Sends `request` with the session's cookie (keeping the one the first answer sets); a
    /// request that got no answer is noted as status 0.
    pub async fn send(
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
    pub async fn call(
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
    pub async fn ask(&mut self, deadline: Instant, follow: Follow) {
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
    pub async fn poll(
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
    pub async fn read_events(&mut self, url: &str, give_up: Instant) -> bool {
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
pub fn is_terminal(status: &str) -> bool {
    status
        .parse::<app::api::RunStatus>()
        .is_ok_and(app::api::RunStatus::is_terminal)
}

/// How a session follows its run.
#[derive(Clone, Copy)]
pub enum Follow {
    Poll(Duration),
    Events,
}
