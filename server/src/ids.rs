//! Object ids: a prefix, a time part and a random part, so ids sort by creation time (the list
//! routes page with `after=<id>`) and cannot be guessed.
use std::sync::atomic::{AtomicU64, Ordering};

use rand::Rng;

/// The last millisecond handed out; ids made in the same millisecond still increase.
static LAST_MS: AtomicU64 = AtomicU64::new(0);

const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Thread,
    Message,
    Run,
    Step,
    Call,
}

impl Kind {
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Thread => "thread_",
            Kind::Message => "msg_",
            Kind::Run => "run_",
            Kind::Step => "step_",
            Kind::Call => "call_",
        }
    }
}

/// A new id of `kind`, greater than every id this process made before.
pub fn new_id(kind: Kind) -> String {
    let now = now_millis();
    let ms = LAST_MS
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
            Some(now.max(last + 1))
        })
        .map(|last| now.max(last + 1))
        .unwrap_or(now);
    let mut rng = rand::rng();
    let random: String = (0..14)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{}{ms:012x}{random}", kind.prefix())
}

/// Whether `id` is well-formed for `kind`: the prefix, then 1–64 ASCII letters, digits, `_`, `-`.
pub fn is_valid(kind: Kind, id: &str) -> bool {
    id.strip_prefix(kind.prefix()).is_some_and(|rest| {
        !rest.is_empty()
            && rest.len() <= 64
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}

pub fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub fn now_secs() -> i64 {
    (now_millis() / 1000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_and_validate() {
        let a = new_id(Kind::Thread);
        let b = new_id(Kind::Thread);
        assert!(a < b, "{a} < {b}");
        assert!(is_valid(Kind::Thread, &a));
        assert!(!is_valid(Kind::Run, &a));
        assert!(!is_valid(Kind::Thread, "thread_"));
        assert!(!is_valid(Kind::Thread, "thread_a'b"));
        assert!(!is_valid(
            Kind::Thread,
            &format!("thread_{}", "a".repeat(65))
        ));
    }
}
