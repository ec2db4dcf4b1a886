//! Rate limits on requests that change state: per session and per client address, each so many
//! per minute (governor's GCRA: the full allowance at once, then one more every `60 / limit`
//! seconds). Over the limit: 429 with `Retry-After`.
//!
//! Memory stays bounded: keys whose allowance has refilled carry no state worth keeping and are
//! swept every few seconds (and at once when there are very many), so the maps hold only the
//! clients of the last minute.
use std::{
    hash::Hash,
    net::IpAddr,
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    extract::{Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::{
    Quota, RateLimiter as Gcra,
    clock::{Clock, DefaultClock},
    middleware::NoOpMiddleware,
    state::keyed::DashMapStateStore,
};

use super::error::ApiError;
use app::service::SessionId;

/// How often idle keys are swept.
const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// Past this many keys a sweep runs at once rather than on the next tick.
const SWEEP_ABOVE: usize = 100_000;

/// One limit, keyed by session or by address.
pub struct Keyed<K: Hash + Eq + Clone, C: Clock = DefaultClock> {
    gcra: Gcra<K, DashMapStateStore<K>, C, NoOpMiddleware<C::Instant>>,
    last_sweep: Mutex<Instant>,
}

impl<K: Hash + Eq + Clone> Keyed<K> {
    /// `per_min` a minute on the real clock; `None` for 0 (off).
    pub fn per_minute(per_min: u32) -> Option<Self> {
        Self::new(per_min, DefaultClock::default())
    }
}

impl<K: Hash + Eq + Clone, C: Clock> Keyed<K, C> {
    /// `None` for a limit of 0 (off).
    fn new(per_min: u32, clock: C) -> Option<Self> {
        let quota = Quota::per_minute(NonZeroU32::new(per_min)?);
        Some(Self {
            gcra: Gcra::dashmap_with_clock(quota, clock),
            last_sweep: Mutex::new(Instant::now()),
        })
    }

    /// Counts one request for `key`; `Err(seconds)` to wait when over the limit.
    pub fn hit(&self, key: &K) -> Result<(), u64> {
        self.sweep_when_due();
        self.gcra.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.gcra.clock().now());
            // Rounded up: retrying after the advertised time must succeed.
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }

    fn sweep_when_due(&self) {
        // One request sweeps; the others do not wait for it.
        let Ok(mut last) = self.last_sweep.try_lock() else {
            return;
        };
        if last.elapsed() >= SWEEP_EVERY || self.gcra.len() > SWEEP_ABOVE {
            self.sweep();
            *last = Instant::now();
        }
    }

    /// Drops every key whose allowance is full again.
    fn sweep(&self) {
        self.gcra.retain_recent();
        self.gcra.shrink_to_fit();
    }
}

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

pub async fn middleware(State(limiter): State<RateLimiter>, req: Request, next: Next) -> Response {
    let addr = super::peer::client_key(&req, limiter.trust_proxy);
    let verdict = match *req.method() {
        Method::OPTIONS => Ok(()),
        Method::GET | Method::HEAD if unlimited_read(req.uri().path()) => Ok(()),
        Method::GET | Method::HEAD => match (&limiter.reads_per_addr, addr) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    #[test]
    fn a_key_gets_its_limit_then_waits_for_the_next_request() {
        let clock = FakeRelativeClock::default();
        let l = Keyed::new(2, clock.clone()).unwrap();
        assert!(l.hit(&"k").is_ok());
        assert!(l.hit(&"k").is_ok());
        assert_eq!(l.hit(&"k"), Err(30), "one more every 60 / 2 seconds");
        assert!(l.hit(&"other").is_ok(), "keys are apart");
        clock.advance(Duration::from_secs(30));
        assert!(l.hit(&"k").is_ok());
        assert!(Keyed::<&str, _>::new(0, clock).is_none(), "0 is off");
    }

    #[test]
    fn memory_holds_only_the_keys_of_the_last_minute() {
        // 60 a minute: a key used once has its allowance back after a second.
        let clock = FakeRelativeClock::default();
        let l = Keyed::new(60, clock.clone()).unwrap();
        for i in 0..50_000u32 {
            l.hit(&i).unwrap();
        }
        l.sweep();
        assert_eq!(l.gcra.len(), 50_000, "all were used just now");
        clock.advance(Duration::from_secs(1));
        l.hit(&7).unwrap();
        clock.advance(Duration::from_millis(1500));
        l.sweep();
        assert_eq!(l.gcra.len(), 1, "only the key used again is left");
        clock.advance(Duration::from_secs(60));
        l.sweep();
        assert_eq!(l.gcra.len(), 0);
    }

    #[test]
    fn very_many_keys_are_swept_at_once() {
        let clock = FakeRelativeClock::default();
        let l = Keyed::new(1, clock.clone()).unwrap();
        for i in 0..=SWEEP_ABOVE as u32 {
            l.gcra.check_key(&i).unwrap();
        }
        clock.advance(Duration::from_secs(121));
        l.hit(&u32::MAX).unwrap();
        assert_eq!(l.gcra.len(), 1, "the sweep ran before the new key");
    }
}
