//! What wraps every request, from tower-http: an id (the caller's `X-Request-Id` when it is
//! sane, else a new one) echoed in the response and carried by every log line written while it
//! is served; one log line per request saying how it ended; a time limit; a panic answered with
//! a 500 error object instead of a dropped connection. Each request is counted for `/metrics`.
use std::time::Duration;

use axum::{
    Router,
    extract::{MatchedPath, Request},
    http::{HeaderName, HeaderValue, StatusCode},
    middleware::{Next, from_fn, map_request, map_response},
    response::{IntoResponse, Response},
};
use rand::Rng;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};
use tracing::Span;

use super::error::ApiError;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The status the time limit answers with; no handler uses it, so [`timed_out`] can give it
/// the error object.
const TIMEOUT_STATUS: StatusCode = StatusCode::GATEWAY_TIMEOUT;

/// Wraps `router` (its routes, pages and files) in the request layers.
pub fn wrap(router: Router, limit: Duration) -> Router {
    // The first layer is the innermost: the id is set before the span is made, and the count
    // sees what the time limit and the panic guard answered.
    router
        .layer(TimeoutLayer::with_status_code(TIMEOUT_STATUS, limit))
        .layer(map_response(timed_out))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                ApiError::Internal("a request handler panicked".into()).into_response()
            },
        ))
        .layer(from_fn(count))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req.headers().get(HEADER).and_then(|v| v.to_str().ok());
                    tracing::info_span!("request", request_id = id.unwrap_or(""),
                        method = %req.method(), path = %req.uri().path())
                })
                .on_request(())
                .on_response(|res: &Response, took: Duration, _: &Span| {
                    let ms = took.as_millis() as u64;
                    tracing::info!(status = res.status().as_u16(), ms, "request served")
                })
                // Server errors are logged with their cause where they happen.
                .on_failure(()),
        )
        .layer(PropagateRequestIdLayer::new(HEADER))
        .layer(SetRequestIdLayer::new(HEADER, NewId))
        .layer(map_request(drop_odd_id))
}

#[derive(Clone, Copy)]
struct NewId;

impl MakeRequestId for NewId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let id = format!("req_{:016x}", rand::rng().random::<u64>());
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// A caller's id is kept when it is short and plain, so it cannot forge log lines.
fn sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// An odd caller id is dropped, so [`NewId`] makes one.
async fn drop_odd_id(mut req: Request) -> Request {
    let keep = req
        .headers()
        .get(HEADER)
        .is_none_or(|v| v.to_str().is_ok_and(sane));
    if !keep {
        req.headers_mut().remove(HEADER);
    }
    req
}

/// The time limit's empty answer becomes the error object.
async fn timed_out(res: Response) -> Response {
    if res.status() == TIMEOUT_STATUS {
        return ApiError::TimedOut.into_response();
    }
    res
}

/// Counts the request by its route pattern (`/api/paste-assistant-thread/{tid}`), not its
/// path: ids stay out of metric labels.
async fn count(req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| route_class(req.uri().path()).to_string());
    let response = next.run(req).await;
    crate::metrics::request(&method, &route, response.status().as_u16());
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
    use axum::{body::Body, routing::get};
    use tower::ServiceExt;

    #[test]
    fn only_plain_ids_are_taken_from_callers() {
        assert!(sane("abc-123_x.y"));
        assert!(!sane(""));
        assert!(!sane("a\nb"));
        assert!(!sane("id\" injected=\"1"));
        assert!(!sane(&"x".repeat(65)));
        assert_eq!(route_class("/t/thread_abc"), "/t/{id}");
        assert_eq!(route_class("/pkg/x.wasm"), "/pkg/*");
        assert_eq!(route_class("/wp-admin"), "other");
    }

    async fn answer(router: Router, path: &str) -> (StatusCode, String, serde_json::Value) {
        let req = axum::http::Request::get(path).body(Body::empty()).unwrap();
        let res = router.oneshot(req).await.unwrap();
        let id = res.headers()[HEADER].to_str().unwrap().to_string();
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .unwrap();
        (
            status,
            id,
            serde_json::from_slice(&body).unwrap_or_default(),
        )
    }

    #[tokio::test]
    async fn a_panic_is_a_500_error_object_with_the_request_id() {
        async fn boom() -> &'static str {
            panic!("boom")
        }
        let router = wrap(
            Router::new().route("/boom", get(boom)),
            Duration::from_secs(5),
        );
        let (status, id, body) = answer(router, "/boom").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(id.starts_with("req_"), "{id}");
        assert_eq!(body["error"]["type"], "server_error");
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_past_the_time_limit_gets_an_error_object() {
        let slow = || async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            "late"
        };
        let router = wrap(
            Router::new().route("/slow", get(slow)),
            Duration::from_secs(2),
        );
        let (status, _, body) = answer(router, "/slow").await;
        assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(body["error"]["code"], "request_timeout");
    }
}
