//! The built site's files (WASM, JS, CSS, `widget.js`, the favicon) served from inside the
//! executable in the release archive (`--features dist`), and this project's own guide carried
//! with them. Development builds and the tests serve the site from `LEPTOS_SITE_ROOT` on disk
//! (as cargo-leptos leaves it), and so does an archive's executable when that variable is set.
//!
//! Written here on rust-embed rather than with a serving crate: the ones for axum 0.8 either
//! compress at build time themselves (cargo-leptos already writes `.br` and `.gz` beside each
//! file) or are unmaintained forks; what is left is choosing the variant, its headers and a 304.
use std::borrow::Cow;

use axum::{
    Router,
    body::Body,
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

/// The site as `cargo leptos build --release --precompress` leaves it, inside the executable.
#[cfg(feature = "dist")]
#[derive(rust_embed::Embed)]
#[folder = "$CARGO_MANIFEST_DIR/../target/site"]
pub struct Site;

/// This project's guide (`docs/`), inside the executable: the docs answered from when
/// `DOCS_DIR` is unset and the folder it runs in has no `docs/`.
#[cfg(feature = "dist")]
#[derive(rust_embed::Embed)]
#[folder = "$CARGO_MANIFEST_DIR/../docs"]
pub struct Guide;

/// Whether this executable carries the site and the guide.
pub const EMBEDDED: bool = cfg!(feature = "dist");

/// The router of the embedded site: `/pkg/…` and the site root's own files (`widget.js` left
/// out when `widget_routed`: its route sets a title); `None` in a build without them.
pub fn site_router(widget_routed: bool) -> Option<Router> {
    #[cfg(feature = "dist")]
    {
        let skip: &[&str] = if widget_routed { &["widget.js"] } else { &[] };
        Some(files_router::<Site>(skip))
    }
    #[cfg(not(feature = "dist"))]
    {
        let _ = widget_routed;
        None
    }
}

/// The text of a file of the embedded site (`widget.js`), if this build carries it.
pub fn site_text(path: &str) -> Option<String> {
    #[cfg(feature = "dist")]
    {
        Site::get(path).map(|f| String::from_utf8_lossy(&f.data).into_owned())
    }
    #[cfg(not(feature = "dist"))]
    {
        let _ = path;
        None
    }
}

/// Writes the embedded guide into `dir` (made anew at every start, so it is always this
/// executable's own); false in a build without it.
pub fn write_guide(dir: &std::path::Path) -> std::io::Result<bool> {
    #[cfg(feature = "dist")]
    {
        write_files::<Guide>(dir)?;
        Ok(true)
    }
    #[cfg(not(feature = "dist"))]
    {
        let _ = dir;
        Ok(false)
    }
}

/// Every file of `E` written under `dir`, which is emptied first.
pub fn write_files<E: rust_embed::RustEmbed>(dir: &std::path::Path) -> std::io::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    for name in E::iter() {
        let Some(file) = E::get(&name) else { continue };
        let path = dir.join(name.as_ref());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, &file.data)?;
    }
    Ok(())
}

/// `/pkg/{file}` and a route for each file at the root of `E` (the favicon, `widget.js`) but
/// those in `skip`.
pub fn files_router<E: rust_embed::RustEmbed + 'static>(skip: &[&str]) -> Router {
    let mut router = Router::new().route(
        "/pkg/{*file}",
        get(|Path(file): Path<String>, headers: HeaderMap| async move {
            serve::<E>(&format!("pkg/{file}"), &headers)
        }),
    );
    for name in E::iter() {
        let name: String = name.into_owned();
        let compressed = [".br", ".gz"].iter().any(|s| name.ends_with(s));
        if name.contains('/') || compressed || skip.contains(&name.as_str()) {
            continue;
        }
        router = router.route(
            &format!("/{name}"),
            get(move |headers: HeaderMap| async move { serve::<E>(&name, &headers) }),
        );
    }
    router
}

/// One file of `E`: its `.br` variant when the browser takes brotli and the build wrote one, with its content type, an ETag of the bytes sent and `no-cache` (the names carry no
/// hash, so a browser revalidates: a 304 costs no body); 404 for a name `E` does not hold.
pub fn serve<E: rust_embed::RustEmbed>(path: &str, headers: &HeaderMap) -> Response {
    let Some(original) = E::get(path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let accepts = |coding: &str| {
        headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|c| {
                let mut parts = c.trim().split(';');
                parts.next() == Some(coding) && parts.all(|q| q.trim() != "q=0")
            })
    };
    // Brotli as built; for gzip the plain file, which the compression layer gzips at its own
    // level: cargo-leptos's `.gz` of the WASM is 419 KB against 359 KB on the fly.
    let (file, encoding) = accepts("br")
        .then(|| E::get(&format!("{path}.br")))
        .flatten()
        .map_or((original.clone(), None), |f| (f, Some("br")));
    let etag = format!(
        "\"{}\"",
        file.metadata.sha256_hash()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*");
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body: Cow<'static, [u8]> = file.data;
        Response::new(Body::from(body))
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(original.metadata.mimetype()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let (Some(coding), false) = (encoding, fresh) {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small site: a script with its `.br` and `.gz` variants, and a root file.
    #[derive(rust_embed::Embed)]
    #[folder = "$CARGO_MANIFEST_DIR/tests/data/site"]
    struct Fixture;

    fn request(path: &str, pairs: &[(&'static str, &str)]) -> Response {
        let mut headers = HeaderMap::new();
        for (k, v) in pairs {
            headers.insert(*k, v.parse().unwrap());
        }
        serve::<Fixture>(path, &headers)
    }

    #[test]
    fn the_browsers_encoding_is_served_with_its_type_and_an_etag() {
        let br = request("pkg/app.js", &[("accept-encoding", "gzip, deflate, br")]);
        assert_eq!(br.status(), 200);
        assert_eq!(br.headers()["content-encoding"], "br");
        assert_eq!(br.headers()["content-type"], "text/javascript");
        assert_eq!(br.headers()["vary"], "accept-encoding");
        // gzip is left to the compression layer, on the plain file.
        let gz = request("pkg/app.js", &[("accept-encoding", "gzip, br;q=0")]);
        assert!(gz.headers().get("content-encoding").is_none());
        let plain = request("pkg/app.js", &[]);
        assert!(plain.headers().get("content-encoding").is_none());
        assert_ne!(br.headers()["etag"], plain.headers()["etag"]);
        assert_eq!(gz.headers()["etag"], plain.headers()["etag"]);
        assert_eq!(plain.headers()["cache-control"], "no-cache");
    }

    #[test]
    fn a_matching_etag_is_a_304_and_unknown_names_404() {
        let first = request("favicon.svg", &[]);
        assert_eq!(first.headers()["content-type"], "image/svg+xml");
        let tag = first.headers()["etag"].to_str().unwrap().to_string();
        let again = request("favicon.svg", &[("if-none-match", &tag)]);
        assert_eq!(again.status(), 304);
        assert_eq!(
            request("favicon.svg", &[("if-none-match", "\"other\"")]).status(),
            200
        );
        assert_eq!(request("pkg/missing.js", &[]).status(), 404);
        assert_eq!(request("../Cargo.toml", &[]).status(), 404);
    }

    #[test]
    fn the_guide_is_written_out_whole_and_anew() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("guide");
        std::fs::create_dir_all(target.join("stale")).unwrap();
        std::fs::write(target.join("stale/old.md"), "# Old").unwrap();
        write_files::<Fixture>(&target).unwrap();
        assert!(target.join("pkg/app.js").is_file());
        assert!(target.join("favicon.svg").is_file());
        assert!(!target.join("stale").exists(), "what was there before goes");
    }
}
