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

/// An id of `kind` that does not have its form (`thread_…` with 1–64 letters, digits, `_`,
/// `-`): a 400 with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a valid {} id", .kind.name())]
pub struct InvalidId {
    pub kind: Kind,
    /// The start of what was given (a long one is cut).
    pub text: String,
}

impl Kind {
    /// How a person names it: "thread", "run", …
    pub fn name(self) -> &'static str {
        self.prefix().trim_end_matches('_')
    }

    /// `text` if it is a well-formed id of this kind.
    pub fn check(self, text: &str) -> Result<(), InvalidId> {
        if is_valid(self, text) {
            Ok(())
        } else {
            let cut: String = text.chars().take(80).collect();
            let text = if cut.len() < text.len() {
                format!("{cut}…")
            } else {
                cut
            };
            Err(InvalidId { kind: self, text })
        }
    }
}

/// A typed id: made with `new`, or taken from a request once with `parse` (or serde), so
/// every function past the extractors holds one known to be well-formed.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn new() -> Self {
                Self(new_id($kind))
            }

            pub fn parse(text: &str) -> Result<Self, InvalidId> {
                $kind.check(text).map(|()| Self(text.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// `thread_…`
    ThreadId,
    Kind::Thread
);
id_type!(
    /// `run_…`
    RunId,
    Kind::Run
);
id_type!(
    /// `msg_…`
    MessageId,
    Kind::Message
);
id_type!(
    /// `step_…`
    StepId,
    Kind::Step
);

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

    #[test]
    fn typed_ids_are_parsed_once_with_a_message_for_people() {
        let id = ThreadId::new();
        assert_eq!(ThreadId::parse(id.as_str()), Ok(id.clone()));
        assert_eq!(
            RunId::parse(id.as_str()).unwrap_err().to_string(),
            format!("`{id}` is not a valid run id")
        );
        let long = format!("thread_{}", "x".repeat(200));
        let message = ThreadId::parse(&long).unwrap_err().to_string();
        assert!(message.contains('…') && message.len() < 120, "{message}");
        let parsed: Result<(ThreadId, RunId), _> =
            serde_json::from_value(serde_json::json!([id.as_str(), "run_1"]));
        assert!(parsed.is_ok());
        let bad: Result<MessageId, _> = serde_json::from_value(serde_json::json!("msg_a'b"));
        assert!(bad.unwrap_err().to_string().contains("not a valid msg id"));
    }
}
