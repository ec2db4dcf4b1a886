//! The REST API of API.md. Each module exposes `router()`; [`api_router`] merges them.
pub mod client;
pub mod error;
pub mod extract;
pub mod headers;
pub mod limits;
pub mod requests;
pub mod session;

mod completion;
mod docs;
mod messages;
mod threads;

use axum::{
    Router,
    extract::State,
    http::{StatusCode, Uri},
    response::IntoResponse,
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

async fn healthz(State(assistant): State<Assistant>) -> impl IntoResponse {
    match assistant.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// Ready for traffic: the database answers and the docs index is loaded.
async fn readyz(State(assistant): State<Assistant>) -> impl IntoResponse {
    let pages = assistant.engine.docs().stats.pages;
    match assistant.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({
                "status": "ready", "database": "ok", "docs_pages": pages
            })),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "readiness: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({
                    "status": "unavailable", "database": "unavailable", "docs_pages": pages
                })),
            )
                .into_response()
        }
    }
}

/// The OpenAPI description of these routes (used by the schemathesis fuzz run).
async fn openapi() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        include_str!("../../openapi/openapi.json"),
    )
}

/// Prometheus text format (see `crate::metrics`).
async fn metrics(State(assistant): State<Assistant>) -> impl IntoResponse {
    let runs = match assistant.store.runs_by_status().await {
        Ok(runs) => runs,
        Err(e) => {
            tracing::error!(error = %e, "metrics: could not count runs");
            Vec::new()
        }
    };
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::global().render(&runs),
    )
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
