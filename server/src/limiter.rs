//! One rate limit keyed by session, address or anything else (governor's GCRA: the full
//! allowance at once, then one more every `60 / limit` seconds). Used by the HTTP layer's
//! limits and by Slack's per-address notices, so it sits below both.
//!
//! Memory stays bounded: keys whose allowance has refilled carry no state worth keeping and are
//! swept every few seconds (and at once when there are very many), so the maps hold only the
//! clients of the last minute.
use std::{
    hash::Hash,
    num::NonZeroU32,
    sync::Mutex,
    time::{Duration, Instant},
};

use governor::{
    Quota, RateLimiter as Gcra,
    clock::{Clock, DefaultClock},
    middleware::NoOpMiddleware,
    state::keyed::DashMapStateStore,
};

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
