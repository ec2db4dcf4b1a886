//! No request from another site acts for a visitor. The widget's cookie is `SameSite=None`
//! (it must reach the iframe on any docs site), so a browser sends it along with a form post
//! from anywhere; what tells the server where a request came from is the browser's own
//! `Sec-Fetch-Site` and `Origin`, which a page cannot forge.
//!
//! A state-changing request (REST or server function) is refused with 403
//! `cross_site_request` when `Sec-Fetch-Site` says `cross-site` or `same-site`, or when its
//! `Origin` is not this server's own. Clients that send neither (curl, SDKs, tests) are not
//! browsers acting for someone and pass. REST bodies must be JSON (415 otherwise): a form or
//! `text/plain` body is what a cross-site page can send without asking.
use axum::{
    extract::{Request, State},
    http::{HeaderMap, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::error::ApiError;

/// Whether to read the host a trusted proxy forwards (`TRUST_PROXY`).
#[derive(Clone, Copy)]
pub struct SitePolicy {
    pub trust_proxy: bool,
}

pub async fn middleware(State(policy): State<SitePolicy>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    if let Err(e) = check(req.headers(), req.uri().path(), policy.trust_proxy) {
        return e.into_response();
    }
    next.run(req).await
}

/// Whether the request's `Origin` is this server's own (by the host it was asked for; the one
/// a trusted proxy forwards).
pub fn is_own_origin(headers: &HeaderMap, trust_proxy: bool) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let host = trust_proxy
        .then(|| text("x-forwarded-host"))
        .flatten()
        .or_else(|| text("host"));
    text(header::ORIGIN.as_str())
        .and_then(|o| o.split_once("://"))
        .is_some_and(|(_, authority)| Some(authority.trim_end_matches('/')) == host)
}

fn check(headers: &HeaderMap, path: &str, trust_proxy: bool) -> Result<(), ApiError> {
    // The MCP server applies the MCP specification's Origin rule itself (`http::mcp`), which
    // lets the sites of WIDGET_ALLOWED_ORIGINS in.
    if path == "/mcp" {
        return Ok(());
    }
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if matches!(text("sec-fetch-site"), Some("cross-site" | "same-site")) {
        return Err(ApiError::CrossSite);
    }
    if headers.contains_key(header::ORIGIN) && !is_own_origin(headers, trust_proxy) {
        return Err(ApiError::CrossSite);
    }
    if is_rest(path) && has_body(headers) && !is_json(text("content-type")) {
        return Err(ApiError::UnsupportedMediaType);
    }
    Ok(())
}

/// The REST routes of API.md. Leptos's server functions live under `/api/` too but post
/// forms, as Leptos does; they get the site checks above, not this one.
fn is_rest(path: &str) -> bool {
    path.starts_with("/api/paste-assistant") || path.starts_with("/api/docs-")
}

/// Whether the request says it carries a body (an empty one needs no content type).
fn has_body(headers: &HeaderMap) -> bool {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match length {
        Some(n) => n > 0,
        None => headers.contains_key(header::TRANSFER_ENCODING),
    }
}

/// `application/json`, with parameters or not, or a `+json` type.
fn is_json(content_type: Option<&str>) -> bool {
    let Some(essence) = content_type.and_then(|c| c.split(';').next()) else {
        return false;
    };
    let essence = essence.trim().to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("host", "docs.example.com".parse().unwrap());
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_the_sites_own_pages_and_non_browsers_pass() {
        let api = "/api/paste-assistant-thread";
        let json = ("content-type", "application/json");
        let body = ("content-length", "2");
        for ok in [
            headers(&[]),
            headers(&[json, body]),
            headers(&[
                ("sec-fetch-site", "same-origin"),
                ("origin", "https://docs.example.com"),
                json,
                body,
            ]),
            headers(&[("sec-fetch-site", "none")]),
        ] {
            assert!(check(&ok, api, false).is_ok(), "{ok:?}");
        }
        for refused in [
            headers(&[("sec-fetch-site", "cross-site")]),
            headers(&[("sec-fetch-site", "same-site")]),
            headers(&[("origin", "https://evil.example")]),
            headers(&[("origin", "null")]),
            headers(&[("origin", "https://docs.example.com.evil.example")]),
        ] {
            assert!(
                matches!(check(&refused, api, false), Err(ApiError::CrossSite)),
                "{refused:?}"
            );
        }
        let forwarded = headers(&[
            ("origin", "https://public.example"),
            ("x-forwarded-host", "public.example"),
        ]);
        assert!(check(&forwarded, api, true).is_ok());
        assert!(
            check(&forwarded, api, false).is_err(),
            "forwarded hosts only when trusted"
        );
    }

    #[test]
    fn rest_bodies_must_be_json() {
        let api = "/api/paste-assistant-message";
        for content_type in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ] {
            let h = headers(&[("content-type", content_type), ("content-length", "10")]);
            assert!(
                matches!(check(&h, api, false), Err(ApiError::UnsupportedMediaType)),
                "{content_type}"
            );
        }
        for content_type in [
            "application/json",
            "application/json; charset=utf-8",
            "application/merge-patch+json",
        ] {
            let h = headers(&[("content-type", content_type), ("content-length", "10")]);
            assert!(check(&h, api, false).is_ok(), "{content_type}");
        }
        let empty = headers(&[("content-length", "0")]);
        assert!(
            check(&empty, api, false).is_ok(),
            "an empty body needs no type"
        );
        let form = headers(&[
            ("content-type", "application/x-www-form-urlencoded"),
            ("content-length", "10"),
        ]);
        assert!(check(&form, "/api/docs-reindex", false).is_err());
        assert!(
            check(&form, "/api/send_message1234", false).is_ok(),
            "a server function"
        );
    }
}
