//! Assertions the unit tests share.

/// Fails unless `text` contains `part`, showing both.
#[track_caller]
pub fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "{part:?} is not in:\n{text}");
}

/// The Paste docs ([`crate::docs::eval::paste_corpus`]); a test that needs them fails when they
/// are missing rather than passing without looking.
pub fn paste_docs() -> std::path::PathBuf {
    let dir = crate::docs::eval::paste_corpus();
    assert!(
        dir.is_dir(),
        "the Paste docs are missing at {}: run scripts/fetch-paste-docs or set PASTE_CORPUS",
        dir.display()
    );
    dir
}
