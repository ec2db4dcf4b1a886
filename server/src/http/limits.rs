//! Rate limits on requests that change state: per session and per client address, each a fixed
//! one-minute window. Over the limit: 429 with `Retry-After`.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    extract::{Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::error::ApiError;
use app::service::SessionId;

const WINDOW: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct RateLimiter {
    per_session: u32,
    per_addr: u32,
    trust_proxy: bool,
    windows: Arc<Mutex<HashMap<String, (Instant, u32)>>>,
}

impl RateLimiter {
    pub fn new(per_session: u32, per_addr: u32) -> Self {
        Self {
            per_session,
            per_addr,
            trust_proxy: false,
            windows: Default::default(),
        }
    }

    /// Counts clients by the address a trusted proxy forwards (`TRUST_PROXY`).
    pub fn trusting_proxy(mut self, trust: bool) -> Self {
        self.trust_proxy = trust;
        self
    }

    /// Counts one request for `key`; `Err(seconds)` when over `limit`.
    fn hit(&self, key: String, limit: u32) -> Result<(), u64> {
        if limit == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= limit {
            let left = WINDOW.saturating_sub(now.duration_since(entry.0));
            return Err(left.as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

pub async fn middleware(State(limiter): State<RateLimiter>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let session = req.extensions().get::<SessionId>().map(|s| s.0.clone());
    let addr = super::peer::client_ip(&req, limiter.trust_proxy);
    let checks = [
        session.map(|s| (format!("s:{s}"), limiter.per_session)),
        addr.map(|a| (format!("a:{a}"), limiter.per_addr)),
    ];
    for (key, limit) in checks.into_iter().flatten() {
        if let Err(retry_after_secs) = limiter.hit(key, limit) {
            return ApiError::RateLimited { retry_after_secs }.into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_allows_its_limit_then_refuses() {
        let l = RateLimiter::new(2, 0);
        assert!(l.hit("k".into(), 2).is_ok());
        assert!(l.hit("k".into(), 2).is_ok());
        let wait = l.hit("k".into(), 2).unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(l.hit("other".into(), 2).is_ok());
        assert!(l.hit("k".into(), 0).is_ok());
    }
}
