//! The docs for coding agents: a Model Context Protocol server at `/mcp` (Streamable HTTP,
//! stateless, so any instance answers any request), written with the official Rust SDK. Its
//! tools are the search the runs use, a page of the index, and (with `MCP_ASK=true`) an answer
//! through a run of its own, within the chat's per-address limits and budgets.
//!
//! In front of it: the Origin rule of the MCP specification (a browser page of another site is
//! refused with 403 unless its origin is in `WIDGET_ALLOWED_ORIGINS`) and the per-address read
//! limit (`limits`), so an agent that loops costs the operator no more than a reader's polls.
use std::sync::Arc;

use axum::{
    Router,
    extract::{Request, State},
    middleware::{Next, from_fn_with_state},
    response::{IntoResponse, Response},
};
use rmcp::{
    Json, ServerHandler,
    handler::server::{router::tool::ToolRouter, tool::Extension, wrapper::Parameters},
    model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig},
    schemars::{self, JsonSchema},
    tool, tool_handler, tool_router,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    },
};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use crate::service::{Assistant, ServiceError};

#[derive(Deserialize, JsonSchema)]
pub struct SearchDocs {
    /// What to look for, in the words the docs would use (1 to 500 characters).
    #[schemars(length(min = 1, max = 500))]
    query: String,
    /// How many sections to return: 1 to 20, default 5 (at most two of one page).
    #[schemars(range(min = 1, max = 20))]
    limit: Option<u32>,
}

#[derive(Serialize, JsonSchema)]
pub struct SearchResults {
    /// Best first.
    results: Vec<SearchResult>,
}

#[derive(Serialize, JsonSchema)]
pub struct SearchResult {
    /// The page's title.
    title: String,
    /// The heading of the section within the page.
    section: String,
    /// The page's path in the docs: what get_doc_page takes.
    path: String,
    /// Where a person reads the section.
    url: String,
    /// The section's text from its best passage on (trimmed).
    content: String,
}

#[derive(Deserialize, JsonSchema)]
pub struct GetDocPage {
    /// A page's `path`, as search_docs results give it.
    #[schemars(length(min = 1, max = 1000))]
    path: String,
}

#[derive(Deserialize, JsonSchema)]
pub struct AskDocs {
    /// The question, as a reader would ask it.
    #[schemars(length(min = 1, max = 4000))]
    question: String,
}

#[derive(Clone)]
pub struct DocsMcp {
    assistant: Assistant,
    tool_router: ToolRouter<Self>,
}

#[tool_router(router = tool_router)]
impl DocsMcp {
    fn new(assistant: Assistant, ask: bool) -> Self {
        let mut tool_router = Self::tool_router();
        if !ask {
            tool_router.remove_route("ask_docs");
        }
        Self {
            assistant,
            tool_router,
        }
    }

    #[tool(
        name = "search_docs",
        description = "Search this documentation. Returns the sections that best match the query, \
                       best first, each with its page title, section heading, page path, link and \
                       text. Use the words the docs would use; search again with other words if the \
                       results do not answer. Pass a result's `path` to get_doc_page for the whole page."
    )]
    async fn search_docs(
        &self,
        Parameters(p): Parameters<SearchDocs>,
    ) -> Result<Json<SearchResults>, String> {
        let hits = self
            .assistant
            .search_for_agent(&p.query, p.limit)
            .await
            .map_err(|e| e.public_message())?;
        Ok(Json(SearchResults {
            results: hits
                .into_iter()
                .map(|h| SearchResult {
                    title: h.title,
                    section: h.heading,
                    path: h.path,
                    url: h.url,
                    content: h.content,
                })
                .collect(),
        }))
    }

    #[tool(
        name = "get_doc_page",
        description = "Read one page of this documentation whole, as Markdown. `path` is a page path \
                       from search_docs results (such as `components/button/index.mdx`); only pages \
                       of the documentation are returned."
    )]
    async fn get_doc_page(&self, Parameters(p): Parameters<GetDocPage>) -> CallToolResult {
        match self.assistant.page_for_agent(&p.path).await {
            Ok(page) => CallToolResult::success(vec![ContentBlock::text(format!(
                "# {}\n\nPath: {}\nLink: {}\n\n{}",
                page.title,
                page.path,
                page.url,
                page.markdown.trim()
            ))]),
            Err(e) => CallToolResult::error(vec![ContentBlock::text(e.public_message())]),
        }
    }

    #[tool(
        name = "ask_docs",
        description = "Ask the documentation assistant a question: it searches the docs and answers \
                       from them in Markdown, with the pages it used. Slower than search_docs and it \
                       spends the site's model budget: prefer search_docs and get_doc_page."
    )]
    async fn ask_docs(
        &self,
        Parameters(p): Parameters<AskDocs>,
        Extension(parts): Extension<axum::http::request::Parts>,
    ) -> CallToolResult {
        // The client's address group, as the session middleware found it for every route.
        let addr = parts
            .extensions
            .get::<app::service::ClientAddr>()
            .and_then(|c| c.0.clone());
        match self
            .assistant
            .ask_for_agent(addr.as_deref(), &p.question)
            .await
        {
            Ok(done) => {
                let mut text = done.answer.clone();
                if !done.sources.is_empty() {
                    text.push_str("\n\nSources:\n");
                    for (title, url) in &done.sources {
                        text.push_str(&format!("- [{title}]({url})\n"));
                    }
                }
                let structured = serde_json::json!({
                    "answer": done.answer,
                    "status": done.status,
                    "sources": done.sources.iter().map(|(t, u)| serde_json::json!({"title": t, "url": u})).collect::<Vec<_>>(),
                });
                let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
                result.structured_content = Some(structured);
                if done.status != "completed" {
                    result.is_error = Some(true);
                }
                result
            }
            Err(e) => CallToolResult::error(vec![ContentBlock::text(e.public_message())]),
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for DocsMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "paste-assistant",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
                "The documentation of this site. search_docs finds the sections that answer a \
                 question; get_doc_page reads a page whole.",
            )
    }
}

/// What the MCP routes need besides the service.
#[derive(Clone)]
pub struct McpPolicy {
    pub trust_proxy: bool,
    /// Origins of other sites that may call it from a browser (`WIDGET_ALLOWED_ORIGINS`).
    pub allowed_origins: Arc<Vec<String>>,
    /// `MCP_ASK`.
    pub ask: bool,
}

/// `/mcp`: the SDK's Streamable HTTP service behind the Origin rule.
pub fn router(assistant: Assistant, policy: McpPolicy) -> Router {
    let ask = policy.ask;
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        // Hosts are the operator's to choose (any name the server is reached by); browsers
        // are kept out by the Origin rule below.
        .disable_allowed_hosts()
        .disable_allowed_origins();
    let service = StreamableHttpService::new(
        move || Ok(DocsMcp::new(assistant.clone(), ask)),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    Router::new()
        .nest_service("/mcp", service)
        .layer(from_fn_with_state(policy, origin_rule))
}

/// 403 for a browser page of another site; a JSON-RPC parse error for a body that is not JSON.
async fn origin_rule(State(policy): State<McpPolicy>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    if let Some(origin) = headers.get(axum::http::header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("").trim_end_matches('/');
        let own = super::csrf::is_own_origin(headers, policy.trust_proxy);
        if !own && !policy.allowed_origins.iter().any(|o| o == origin) {
            return ApiError::from(ServiceError::Forbidden(format!(
                "Origin {origin} may not use this MCP server (WIDGET_ALLOWED_ORIGINS lists the sites that may)."
            )))
            .into_response();
        }
    }
    if req.method() != axum::http::Method::POST {
        return next.run(req).await;
    }
    // The SDK answers a body that is not JSON with a plain-text 415; an agent gets JSON-RPC's
    // own parse error instead, and the SDK only ever sees JSON.
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, super::BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => return rpc_error(413, -32600, "The request is larger than 1 MiB."),
    };
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Array(batch)) if batch.is_empty() => {
            rpc_error(400, -32600, "Invalid request: an empty batch.")
        }
        Ok(_) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Err(e) => rpc_error(
            400,
            -32700,
            &format!("Parse error: the body is not JSON ({e})."),
        ),
    }
}

/// A JSON-RPC error object with no request id (the request could not be read).
fn rpc_error(status: u16, code: i64, message: &str) -> Response {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": code, "message": message},
    });
    let status =
        axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::BAD_REQUEST);
    (status, axum::Json(body)).into_response()
}
