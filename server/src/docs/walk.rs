//! Reading the docs folder: every Markdown and MDX file, safely.
use std::path::{Path, PathBuf};

/// Largest docs page indexed; a bigger file (a generated dump, a mistake) is skipped with a
/// warning rather than read into memory.
pub const MAX_PAGE_BYTES: u64 = 2 * 1024 * 1024;

/// The Markdown and MDX files under `root`, sorted; hidden folders and `node_modules` skipped.
/// Links are followed, each folder once (by its real path), so a link loop ends the walk of
/// that branch instead of running forever; files over [`MAX_PAGE_BYTES`] are left out.
pub fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(real) = std::fs::canonicalize(&dir) else {
            continue;
        };
        if !seen.insert(real) {
            tracing::warn!(dir = %dir.display(), "docs folder already walked (a link loop?); skipped");
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('.') || name == "node_modules" {
                continue;
            }
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(path);
            } else if name.ends_with(".md") || name.ends_with(".mdx") {
                if meta.len() > MAX_PAGE_BYTES {
                    tracing::warn!(
                        page = %path.display(),
                        bytes = meta.len(),
                        limit = MAX_PAGE_BYTES,
                        "docs page too large; skipped"
                    );
                    continue;
                }
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
