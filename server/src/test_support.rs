//! Assertions the unit tests share.

/// Fails unless `text` contains `part`, showing both.
#[track_caller]
pub fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "{part:?} is not in:\n{text}");
}
