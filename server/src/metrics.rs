//! Prometheus metrics at `/metrics`: HTTP requests by method, route and status, chat model call
//! latency by outcome, and runs by status (read from the database at each scrape, so every
//! instance reports the same totals). Recorded with the `metrics` macros into one process-wide
//! `metrics-exporter-prometheus` recorder, which renders the text format.
use std::{
    sync::{Mutex, OnceLock},
    time::Duration,
};

use app::api::RunStatus;
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

pub const REQUESTS: &str = "paste_assistant_http_requests_total";
pub const RUNS: &str = "paste_assistant_runs";
pub const UPSTREAM: &str = "paste_assistant_upstream_request_duration_seconds";

/// Upper bounds (seconds) of the model latency histogram's buckets.
const BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

fn recorder() -> PrometheusRecorder {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(UPSTREAM.into()), &BUCKETS)
        .expect("the bucket list is not empty")
        .build_recorder();
    metrics::with_local_recorder(&recorder, describe);
    recorder
}

fn describe() {
    metrics::describe_counter!(REQUESTS, "HTTP requests by method, route and status.");
    metrics::describe_gauge!(RUNS, "Runs in the database by status.");
    metrics::describe_histogram!(UPSTREAM, "Chat model calls by outcome.");
}

/// The process-wide recorder, installed on first use.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed: /metrics stays empty");
        }
        handle
    })
}

/// One HTTP request served; `route` is the matched route pattern, never the raw path.
pub fn request(method: &str, route: &str, status: u16) {
    handle();
    metrics::counter!(REQUESTS, "method" => method_label(method), "route" => route.to_string(),
        "status" => status.to_string())
    .increment(1);
}

/// The method as a label: one of HTTP's standard methods, or `OTHER`. A client may send any
/// token as a method, and every new label value is a series kept for the life of the process.
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("OTHER")
}

/// One call of the chat model ("ok", "retryable" or "fatal") and how long it took.
pub fn upstream_call(outcome: &'static str, took: Duration) {
    handle();
    metrics::histogram!(UPSTREAM, "outcome" => outcome).record(took.as_secs_f64());
}

/// The text exposition format. `runs` is the count of runs by status as the database has them
/// now (`None`: the database did not answer, the last counts stay).
pub fn render(runs: Option<&[(String, i64)]>) -> String {
    let handle = handle();
    // Setting the gauges and rendering are one step, so two scrapes never mix their counts.
    static SCRAPE: Mutex<()> = Mutex::new(());
    let _one_at_a_time = SCRAPE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(runs) = runs {
        set_runs(runs);
    }
    handle.render()
}

/// Every status gets a value, 0 when no run has it, so a status that empties does not keep
/// its last count.
fn set_runs(runs: &[(String, i64)]) {
    for status in RunStatus::ALL {
        let n = runs
            .iter()
            .find(|(s, _)| s == status.as_str())
            .map_or(0, |(_, n)| *n);
        metrics::gauge!(RUNS, "status" => status.as_str()).set(n as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("PROPFIND"), "OTHER");
        assert_eq!(method_label("XYZZY-1"), "OTHER");
        assert_eq!(method_label("get"), "OTHER");
    }

    #[test]
    fn renders_counters_gauges_and_histograms() {
        let recorder = recorder();
        metrics::with_local_recorder(&recorder, || {
            metrics::counter!(REQUESTS, "method" => "GET", "route" => "/healthz", "status" => "200")
                .increment(2);
            metrics::counter!(REQUESTS, "method" => "POST", "route" => "/a\"b", "status" => "409")
                .increment(1);
            metrics::histogram!(UPSTREAM, "outcome" => "ok").record(0.3);
            metrics::histogram!(UPSTREAM, "outcome" => "ok").record(3.0);
            set_runs(&[("completed".into(), 7), ("failed".into(), 1)]);
        });
        let text = recorder.handle().render();
        let h = UPSTREAM;
        for line in [
            "# TYPE paste_assistant_http_requests_total counter".to_string(),
            "paste_assistant_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
                .into(),
            "route=\"/a\\\"b\",status=\"409\"} 1".into(),
            "paste_assistant_runs{status=\"completed\"} 7".into(),
            "paste_assistant_runs{status=\"queued\"} 0".into(),
            format!("# TYPE {h} histogram"),
            format!("{h}_bucket{{outcome=\"ok\",le=\"0.25\"}} 0"),
            format!("{h}_bucket{{outcome=\"ok\",le=\"0.5\"}} 1"),
            format!("{h}_bucket{{outcome=\"ok\",le=\"5\"}} 2"),
            format!("{h}_bucket{{outcome=\"ok\",le=\"+Inf\"}} 2"),
            format!("{h}_count{{outcome=\"ok\"}} 2"),
        ] {
            assert!(text.contains(&line), "{line} in:\n{text}");
        }
    }
}
