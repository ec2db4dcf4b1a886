use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, header},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{error::ApiError, extract::ApiQuery};
use crate::{markdown, service::Assistant};

pub fn router() -> Router<Assistant> {
    Router::new()
        .route("/api/docs-search", get(search))
        .route("/docs/{*path}", get(page))
        .route("/api/docs-reindex", post(reindex))
}

/// Operators: re-reads `DOCS_DIR` now (the watcher does it within `DOCS_WATCH_SECS` anyway).
/// Needs `Authorization: Bearer $ADMIN_TOKEN`; the old index answers searches until the new
/// one is ready.
async fn reindex(State(a): State<Assistant>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let Some(expected) = &a.config.admin_token else {
        return Err(ApiError::Forbidden(
            "Re-indexing over HTTP is off: set ADMIN_TOKEN on the server to turn it on.".into(),
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        None => {
            return Err(ApiError::Unauthorized(
                "Send the admin token as `Authorization: Bearer <ADMIN_TOKEN>`.".into(),
            ));
        }
        Some(token) if !same_secret(token, expected.expose()) => {
            return Err(ApiError::Unauthorized(
                "The admin token is not valid.".into(),
            ));
        }
        Some(_) => {}
    }
    let (stats, previous) = a.reindex_docs().await?;
    Ok(Json(json!({
        "object": "docs.index",
        "pages": stats.pages,
        "sections": stats.sections,
        "passages": stats.passages,
        "build_ms": stats.build_ms as u64,
        "previous_pages": previous,
    })))
}

/// Compares in time that depends on the lengths only, not on where the first difference is.
fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Deserialize)]
struct SearchParams {
    q: Option<String>,
    limit: Option<String>,
}

async fn search(
    State(a): State<Assistant>,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<Json<Value>, ApiError> {
    let q = p.q.unwrap_or_default();
    if q.trim().is_empty() {
        return Err(ApiError::BadRequest("`q` is required".into()));
    }
    if q.chars().count() > 1_000 {
        return Err(ApiError::BadRequest(
            "`q` is longer than 1000 characters".into(),
        ));
    }
    let limit = match p.limit.as_deref() {
        None | Some("") => 10,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=50).contains(&n) => n,
            _ => {
                return Err(ApiError::BadRequest(
                    "`limit` must be a number from 1 to 50".into(),
                ));
            }
        },
    };
    let hits = a.search_docs(&q, limit).await;
    let data: Vec<Value> = hits
        .into_iter()
        .map(|h| json!({"path": h.path, "title": h.title, "heading": h.heading, "slug": h.slug, "content": h.content, "score": h.score, "url": h.url}))
        .collect();
    Ok(Json(json!({ "data": data })))
}

/// A docs page rendered for reading, where answers link to when no docs site is configured.
async fn page(State(a): State<Assistant>, Path(path): Path<String>) -> Response {
    let docs = a.engine.docs();
    let Some(page) = docs.page(&path) else {
        return ApiError::NotFound(format!("No docs page {path}.")).into_response();
    };
    let body = markdown::render_page(&crate::docs::chunk::annotate_headings(&page.markdown));
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>{title} · Docs</title>\
         <link rel=\"stylesheet\" href=\"/pkg/paste-assistant.css\"></head><body class=\"docs-page\">\
         <main class=\"docs-main\"><p><a href=\"/\">← Paste Assistant</a></p>{body}</main></body></html>",
        title = markdown::escape(&page.title)
    ))
    .into_response()
}
