//! How long to wait before trying again: the one backoff rule of the model client and of Slack.
//! Written here rather than taken from a crate: both callers keep their own loops (the engine
//! sorts model errors into retryable and fatal and counts each call for `/metrics`; Slack
//! waits for a thread's `ts`), so all they share is this arithmetic.
use std::time::Duration;

/// Exponential backoff: `base`, doubled per attempt; with `jitter`, a random point in the upper
/// half of that, so clients that failed together do not retry together.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub base: Duration,
    pub jitter: bool,
    /// The longest `Retry-After` honoured; a longer one waits this long.
    pub max_retry_after: Duration,
}

impl Backoff {
    /// The wait before retry number `attempt` (1 for the first retry); the other side's
    /// `Retry-After` wins when it gave one.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(asked) = retry_after {
            return asked.min(self.max_retry_after);
        }
        let full = self
            .base
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        if !self.jitter {
            return full;
        }
        let half = full / 2;
        let spread = half.as_millis() as u64;
        half + Duration::from_millis(rand::random_range(0..=spread))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_and_retry_after_wins_up_to_its_cap() {
        let plain = Backoff {
            base: Duration::from_millis(500),
            jitter: false,
            max_retry_after: Duration::from_secs(30),
        };
        let waits: Vec<u128> = (1..=4).map(|n| plain.delay(n, None).as_millis()).collect();
        assert_eq!(waits, [500, 1000, 2000, 4000]);
        assert_eq!(
            plain.delay(1, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            plain.delay(1, Some(Duration::from_secs(300))),
            Duration::from_secs(30)
        );
        let jittered = Backoff {
            jitter: true,
            ..plain
        };
        for n in 1..=4 {
            let full = plain.delay(n, None);
            let wait = jittered.delay(n, None);
            assert!(wait >= full / 2 && wait <= full, "{wait:?} of {full:?}");
        }
    }
}
