use super::prelude::*;
use axum::{
    extract::Path,
    response::{Html, IntoResponse, Response},
};

use crate::markdown::escape;

pub fn router() -> Router<Assistant> {
    Router::new()
        .route("/api/docs-search", get(search))
        .route("/docs/{*path}", get(page))
        .route("/api/docs-reindex", post(reindex))
        .route("/llms.txt", get(|a: State<Assistant>| llms(a, false)))
        .route("/llms-full.txt", get(|a: State<Assistant>| llms(a, true)))
}

/// Operators: re-reads `DOCS_DIR` now (the watcher does it within `DOCS_WATCH_SECS` anyway)
/// and starts a crawl of every `DOCS_SITE_URL` (answered at once; `/readyz` shows its end).
/// Needs `Authorization: Bearer $ADMIN_TOKEN`; the old index answers searches until the new
/// one is ready.
async fn reindex(State(a): State<Assistant>, Bearer(token): Bearer) -> JsonResult {
    let done = a.reindex_docs(token.as_deref()).await?;
    Ok(Json(json!({
        "object": "docs.index",
        "pages": done.stats.pages,
        "sections": done.stats.sections,
        "passages": done.stats.passages,
        "build_ms": done.stats.build_ms as u64,
        "previous_pages": done.previous_pages,
        "sites": done.sites,
    })))
}

#[derive(Deserialize)]
struct SearchParams {
    q: Option<String>,
    limit: Option<String>,
}

async fn search(State(a): State<Assistant>, ApiQuery(p): ApiQuery<SearchParams>) -> JsonResult {
    let limit = match p.limit.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(raw.parse::<usize>().map_err(|_| {
            ApiError::BadRequest(format!(
                "`limit` must be a number from 1 to {}",
                crate::service::SEARCH_MAX_LIMIT
            ))
        })?),
    };
    let hits = a.search_docs(p.q.as_deref().unwrap_or(""), limit).await?;
    let data: Vec<Value> = hits
        .into_iter()
        .map(|h| json!({"path": h.path, "title": h.title, "heading": h.heading, "slug": h.slug, "content": h.content, "score": h.score, "url": h.url}))
        .collect();
    Ok(Json(json!({ "data": data })))
}

/// `llms.txt` and `llms-full.txt` (llmstxt.org): the docs for coding agents and other readers
/// of plain text, made from the current index.
async fn llms(State(a): State<Assistant>, full: bool) -> Response {
    match a.llms_txt(full) {
        Ok(text) => (
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; charset=utf-8",
                ),
                (axum::http::header::CACHE_CONTROL, "public, max-age=300"),
            ],
            text,
        )
            .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// A docs page rendered for reading, where answers link to when no docs site is configured.
async fn page(State(a): State<Assistant>, Path(path): Path<String>) -> Response {
    let page = match a.docs_page(&path) {
        Ok(page) => page,
        Err(e) => return ApiError::from(e).into_response(),
    };
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>{title} · Docs</title>\
         <link rel=\"stylesheet\" href=\"/pkg/paste-assistant.css\"></head><body class=\"docs-page\">\
         <main class=\"docs-main\"><p><a href=\"/\">← Paste Assistant</a></p>{body}</main></body></html>",
        title = escape(&page.title),
        body = page.html,
    ))
    .into_response()
}
