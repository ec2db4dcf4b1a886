//! Every request gets an id (the caller's `X-Request-Id` when it is sane, else a new one),
//! echoed in the response and carried by every log line written while it is served; one log
//! line per request says how it ended, and the request is counted for `/metrics`.
use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    http::HeaderValue,
    middleware::Next,
    response::Response,
};
use rand::Rng;
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";

fn new_request_id() -> String {
    format!("req_{:016x}", rand::rng().random::<u64>())
}

/// A caller's id is kept when it is short and plain, so it cannot forge log lines.
fn sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

pub async fn middleware(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map(str::to_string)
        .unwrap_or_else(new_request_id);
    let method = req.method().to_string();
    // The route pattern (`/api/paste-assistant-thread/{tid}`), not the path: ids stay out of
    // metric labels.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| route_class(req.uri().path()).to_string());
    let path = req.uri().path().to_string();
    let span = tracing::info_span!("request", request_id = %id, %method, %path);
    let started = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    crate::metrics::global().request(&method, &route, status);
    span.in_scope(|| {
        tracing::info!(
            status,
            ms = started.elapsed().as_millis() as u64,
            "request served"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, v);
    }
    response
}

/// Routes without a matched pattern (pages, files): a coarse class.
fn route_class(path: &str) -> &'static str {
    if path.starts_with("/pkg/") {
        "/pkg/*"
    } else if path.starts_with("/t/") {
        "/t/{id}"
    } else if path.starts_with("/docs/") {
        "/docs/*"
    } else if path.starts_with("/api/") {
        "/api/*"
    } else if path == "/" {
        "/"
    } else if path == "/embed" {
        "/embed"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ids_are_taken_from_callers() {
        assert!(sane("abc-123_x.y"));
        assert!(!sane(""));
        assert!(!sane("a\nb"));
        assert!(!sane("id\" injected=\"1"));
        assert!(!sane(&"x".repeat(65)));
        assert!(new_request_id().starts_with("req_"));
        assert_eq!(route_class("/t/thread_abc"), "/t/{id}");
        assert_eq!(route_class("/pkg/x.wasm"), "/pkg/*");
        assert_eq!(route_class("/wp-admin"), "other");
    }
}
