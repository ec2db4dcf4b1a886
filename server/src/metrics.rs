//! Prometheus-style metrics at `/metrics`: HTTP requests by method, route and status, chat model
//! call latency by outcome, and runs by status (read from the database, so every instance
//! reports the same totals). Counters live in one process-wide registry.
use std::{
    collections::BTreeMap,
    fmt::Write,
    sync::{LazyLock, Mutex},
    time::Duration,
};

/// Upper bounds (seconds) of the model latency histogram's buckets.
const BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    upstream: Mutex<BTreeMap<&'static str, Histogram>>,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::default);

pub fn global() -> &'static Metrics {
    &METRICS
}

impl Metrics {
    /// One HTTP request served; `route` is the matched route pattern, never the raw path.
    pub fn request(&self, method: &str, route: &str, status: u16) {
        let mut map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
    }

    /// One call of the chat model ("ok", "retryable" or "fatal") and how long it took.
    pub fn upstream_call(&self, outcome: &'static str, took: Duration) {
        let mut map = self.upstream.lock().unwrap_or_else(|e| e.into_inner());
        let h = map.entry(outcome).or_default();
        let secs = took.as_secs_f64();
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// The text exposition format; `runs` is the count of runs by status.
    pub fn render(&self, runs: &[(String, i64)]) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP paste_assistant_http_requests_total HTTP requests by method, route and status.\n\
             # TYPE paste_assistant_http_requests_total counter\n",
        );
        for ((method, route, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "paste_assistant_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                label(route)
            );
        }
        out.push_str(
            "# HELP paste_assistant_runs Runs in the database by status.\n\
             # TYPE paste_assistant_runs gauge\n",
        );
        for (status, n) in runs {
            let _ = writeln!(
                out,
                "paste_assistant_runs{{status=\"{}\"}} {n}",
                label(status)
            );
        }
        out.push_str(
            "# HELP paste_assistant_upstream_request_duration_seconds Chat model calls by outcome.\n\
             # TYPE paste_assistant_upstream_request_duration_seconds histogram\n",
        );
        let name = "paste_assistant_upstream_request_duration_seconds";
        for (outcome, h) in self
            .upstream
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            for (le, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "{name}_bucket{{outcome=\"{outcome}\",le=\"{le}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "{name}_bucket{{outcome=\"{outcome}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "{name}_sum{{outcome=\"{outcome}\"}} {}", h.sum);
            let _ = writeln!(out, "{name}_count{{outcome=\"{outcome}\"}} {}", h.count);
        }
        out
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_gauges_and_histograms() {
        let m = Metrics::default();
        m.request("GET", "/healthz", 200);
        m.request("GET", "/healthz", 200);
        m.request("POST", "/api/paste-assistant-message", 409);
        m.upstream_call("ok", Duration::from_millis(300));
        m.upstream_call("ok", Duration::from_secs(3));
        let text = m.render(&[("completed".into(), 7), ("fa\"iled".into(), 1)]);
        assert!(text.contains(
            "paste_assistant_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ));
        assert!(text.contains("status=\"409\"} 1"));
        assert!(text.contains("paste_assistant_runs{status=\"completed\"} 7"));
        assert!(text.contains("paste_assistant_runs{status=\"fa\\\"iled\"} 1"));
        let h = "paste_assistant_upstream_request_duration_seconds";
        assert!(text.contains(&format!("{h}_bucket{{outcome=\"ok\",le=\"0.25\"}} 0")));
        assert!(text.contains(&format!("{h}_bucket{{outcome=\"ok\",le=\"0.5\"}} 1")));
        assert!(text.contains(&format!("{h}_bucket{{outcome=\"ok\",le=\"5\"}} 2")));
        assert!(text.contains(&format!("{h}_bucket{{outcome=\"ok\",le=\"+Inf\"}} 2")));
        assert!(text.contains(&format!("{h}_count{{outcome=\"ok\"}} 2")));
    }
}
