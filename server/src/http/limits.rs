//! Rate limits on requests that change state: per session and per client address, each so many
//! per minute (see `crate::limiter`). Over the limit: 429 with `Retry-After`.
use std::{net::IpAddr, sync::Arc};

use axum::{
    extract::{Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::error::ApiError;
use crate::limiter::Keyed;
use app::service::SessionId;

#[derive(Clone)]
pub struct RateLimiter {
    per_session: Option<Arc<Keyed<String>>>,
    per_addr: Option<Arc<Keyed<IpAddr>>>,
    /// Reads (GET, HEAD) per address: polls and page loads are cheap but not free.
    reads_per_addr: Option<Arc<Keyed<IpAddr>>>,
    trust_proxy: bool,
}

/// Limits per minute; 0 turns one off.
pub struct Limits {
    pub per_session: u32,
    pub per_addr: u32,
    pub reads_per_addr: u32,
}

impl RateLimiter {
    pub fn new(limits: Limits) -> Self {
        Self {
            per_session: Keyed::per_minute(limits.per_session).map(Arc::new),
            per_addr: Keyed::per_minute(limits.per_addr).map(Arc::new),
            reads_per_addr: Keyed::per_minute(limits.reads_per_addr).map(Arc::new),
            trust_proxy: false,
        }
    }

    /// Counts clients by the address a trusted proxy forwards (`TRUST_PROXY`).
    pub fn trusting_proxy(mut self, trust: bool) -> Self {
        self.trust_proxy = trust;
        self
    }

    fn check(&self, session: Option<&SessionId>, addr: Option<IpAddr>) -> Result<(), u64> {
        if let (Some(limit), Some(session)) = (&self.per_session, session) {
            limit.hit(&session.0)?;
        }
        if let (Some(limit), Some(addr)) = (&self.per_addr, addr) {
            limit.hit(&addr)?;
        }
        Ok(())
    }
}

/// Reads that are never limited: the built assets (cached by browsers, served from files) and
/// the probes a load balancer sends from one address.
fn unlimited_read(path: &str) -> bool {
    path.starts_with("/pkg/") || matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// GET and HEAD, and the MCP server's posts.
fn is_read(req: &Request) -> bool {
    matches!(*req.method(), Method::GET | Method::HEAD) || req.uri().path() == "/mcp"
}

pub async fn middleware(State(limiter): State<RateLimiter>, req: Request, next: Next) -> Response {
    let addr = super::peer::client_key(&req, limiter.trust_proxy);
    let verdict = match *req.method() {
        Method::OPTIONS => Ok(()),
        Method::GET | Method::HEAD if unlimited_read(req.uri().path()) => Ok(()),
        // MCP requests are reads of the docs, posted: counted as reads, per address (agents
        // carry no session).
        _ if is_read(&req) => match (&limiter.reads_per_addr, addr) {
            (Some(limit), Some(addr)) => limit.hit(&addr),
            _ => Ok(()),
        },
        _ => limiter.check(req.extensions().get::<SessionId>(), addr),
    };
    if let Err(retry_after_secs) = verdict {
        return ApiError::RateLimited { retry_after_secs }.into_response();
    }
    next.run(req).await
}
