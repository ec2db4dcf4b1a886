//! Headers every response carries: the Content-Security-Policy of pages (scripts only from this
//! site or inline with this response's nonce, which the hydration loader carries), who may
//! frame which page, `nosniff` and the referrer policy.
use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};

/// The `frame-ancestors` source lists: the widget's `/embed` page may be framed by the
/// allowed origins (any site when none are configured); every other page only by this site.
#[derive(Clone)]
pub struct FramePolicy {
    embed: Arc<HeaderValue>,
}

impl FramePolicy {
    pub fn new(allowed_origins: Option<&[String]>) -> Self {
        let sources = match allowed_origins {
            Some(origins) => format!("'self' {}", origins.join(" ")),
            None => "*".to_string(),
        };
        let value = HeaderValue::from_str(&format!("frame-ancestors {sources}"))
            .unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'self'"));
        Self {
            embed: Arc::new(value),
        }
    }
}

/// This response's CSP nonce, put into the request for the page renderer.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

fn new_nonce() -> String {
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    use rand::Rng;
    let mut bytes = [0u8; 16];
    rand::rng().fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The page policy: no inline script without the nonce, no plugins, no foreign origins.
/// Inline style attributes stay allowed (the widget's accent colour); WebAssembly needs
/// 'wasm-unsafe-eval'.
fn content_security_policy(nonce: &str, frame_ancestors: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; {frame_ancestors}"
    )
}

/// Is this path the widget's page?
pub fn is_embed_path(path: &str) -> bool {
    path == "/embed" || path.starts_with("/embed/")
}

pub async fn middleware(
    State(policy): State<FramePolicy>,
    mut req: Request,
    next: Next,
) -> Response {
    let embed = is_embed_path(req.uri().path());
    let nonce = new_nonce();
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    // Text without a charset is read in the host page's charset (the widget's script on a
    // page with none: "×" became "Ã—"). Everything we serve is UTF-8: say so.
    let (html, utf8) = match headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        Some(t) => {
            let textual = t.starts_with("text/")
                || t.starts_with("application/javascript")
                || t == "image/svg+xml";
            let utf8 = (textual && !t.contains("charset"))
                .then(|| HeaderValue::from_str(&format!("{t}; charset=utf-8")).ok())
                .flatten();
            (t.starts_with("text/html"), utf8)
        }
        None => (false, None),
    };
    if let Some(v) = utf8 {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if html {
        let frame = if embed {
            policy.embed.to_str().unwrap_or("frame-ancestors 'self'")
        } else {
            "frame-ancestors 'self'"
        };
        if let Ok(csp) = HeaderValue::from_str(&content_security_policy(&nonce, frame)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        if !embed {
            headers.insert(
                header::X_FRAME_OPTIONS,
                HeaderValue::from_static("SAMEORIGIN"),
            );
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embed_policy_lists_the_allowed_origins() {
        assert_eq!(
            FramePolicy::new(None).embed.to_str().unwrap(),
            "frame-ancestors *"
        );
        let origins = vec![
            "https://a.example".to_string(),
            "http://127.0.0.1:8080".into(),
        ];
        assert_eq!(
            FramePolicy::new(Some(&origins)).embed.to_str().unwrap(),
            "frame-ancestors 'self' https://a.example http://127.0.0.1:8080"
        );
        assert!(is_embed_path("/embed") && is_embed_path("/embed/x"));
        assert!(!is_embed_path("/embedded") && !is_embed_path("/"));
        let csp = content_security_policy("abc", "frame-ancestors *");
        assert!(csp.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"));
        assert!(csp.contains("object-src 'none'") && csp.ends_with("frame-ancestors *"));
        assert_ne!(new_nonce(), new_nonce());
    }
}
