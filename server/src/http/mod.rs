//! The REST API of API.md. Each module exposes `router()`; [`api_router`] merges them.
/// Refusing requests that another site makes a browser send.
pub mod csrf;
/// Errors as API.md's error objects.
pub mod error;
/// Extractors whose rejections are error objects: JSON bodies, queries, typed paths, bearer.
pub mod extract;
/// Security headers (CSP with a nonce, frame ancestors).
pub mod headers;
/// Rate limits per session and per client address.
pub mod limits;
/// The MCP server for coding agents (`/mcp`).
pub mod mcp;

/// Largest request body accepted (API.md).
pub const BODY_LIMIT: usize = 1024 * 1024;
/// Who the peer is: the client address and whether it came over HTTPS.
pub mod peer;
/// What the route modules share.
mod prelude;
/// Request ids, request logs and request metrics.
pub mod requests;
/// Signed anonymous session cookies.
pub mod session;

mod admin;
mod completion;
mod docs;
mod messages;
mod threads;

use axum::{
    Router,
    extract::State,
    http::{StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;

use crate::service::Assistant;
use crate::store::Page;
use error::ApiError;

pub fn api_router() -> Router<Assistant> {
    Router::new()
        .merge(threads::router())
        .merge(messages::router())
        .merge(completion::router())
        .merge(docs::router())
        .merge(admin::router())
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/openapi.json", get(openapi))
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
}

/// Unknown `/api/…` routes answer with the error object, not the app's HTML 404 page.
pub async fn api_not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("No route {}.", uri.path()))
}

async fn healthz(State(assistant): State<Assistant>) -> Response {
    match assistant.health().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

/// Ready for traffic: the database answers and the docs index is loaded.
async fn readyz(State(assistant): State<Assistant>) -> Response {
    let ready = assistant.readiness().await;
    let (status, word) = if ready.database && ready.docs {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    let database = if ready.database { "ok" } else { "unavailable" };
    let docs = if ready.docs { "ok" } else { "indexing" };
    let body = serde_json::json!({
        "status": word, "database": database, "docs": docs, "docs_pages": ready.docs_pages,
        "docs_sources": ready.docs_sources,
        "runs_executing": ready.runs_executing
    });
    (status, axum::Json(body)).into_response()
}

/// The OpenAPI description of these routes (used by the schemathesis fuzz run).
async fn openapi() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        include_str!("../../openapi/openapi.json"),
    )
}

/// Prometheus text format (see `crate::metrics`).
async fn metrics(
    State(assistant): State<Assistant>,
    extract::Bearer(bearer): extract::Bearer,
) -> Result<impl IntoResponse, ApiError> {
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        assistant.metrics(bearer.as_deref()).await?,
    ))
}

/// `?limit=&after=&order=` of the list routes.
#[derive(Deserialize)]
pub struct ListParams {
    limit: Option<String>,
    after: Option<String>,
    order: Option<String>,
}

impl ListParams {
    /// The page to fetch (one row more than `limit`, to know `has_more`) and the limit.
    pub fn page(&self, default_descending: bool) -> Result<(Page, usize), ApiError> {
        let limit = match self.limit.as_deref() {
            None | Some("") => 20,
            Some(raw) => match raw.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => n,
                _ => {
                    return Err(ApiError::BadRequest(
                        "`limit` must be a number from 1 to 100".into(),
                    ));
                }
            },
        };
        let descending = match self.order.as_deref() {
            None | Some("") => default_descending,
            Some("asc") => false,
            Some("desc") => true,
            Some(_) => {
                return Err(ApiError::BadRequest(
                    "`order` must be `asc` or `desc`".into(),
                ));
            }
        };
        let after = self.after.clone().filter(|a| !a.is_empty());
        Ok((
            Page {
                limit: limit as i64 + 1,
                after,
                descending,
            },
            limit,
        ))
    }
}
