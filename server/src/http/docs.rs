use axum::{
    Json, Router,
    extract::{Path, State},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{error::ApiError, extract::ApiQuery};
use crate::{markdown, service::Assistant};

pub fn router() -> Router<Assistant> {
    Router::new()
        .route("/api/docs-search", get(search))
        .route("/docs/{*path}", get(page))
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
    let hits = tokio::task::spawn_blocking(move || a.search_docs(&q, limit))
        .await
        .map_err(|e| ApiError::Internal(format!("search task failed: {e}")))?;
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
