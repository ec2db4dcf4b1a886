//! The router: the API, the pages, the built assets and the widget script, with the layers every
//! request passes.
use std::sync::Arc;

use axum::{Router, extract::DefaultBodyLimit, middleware::from_fn_with_state, routing::any};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::{compression::CompressionLayer, services::ServeDir};

use app::{App, service::SharedService, shell};

use super::{BODY_LIMIT, assets};
use crate::config::Config;
use crate::http::{api_not_found, api_router, csrf, headers, limits, requests, session};
use crate::service::Assistant;

/// The REST API, the pages and the static files, behind the middleware every request passes:
/// compression, body limit, request ids, security headers, sessions, rate limits.
pub(super) fn routes(
    config: &Config,
    assistant: &Assistant,
    leptos_options: LeptosOptions,
) -> Router {
    let keys = match &config.session_secret {
        Some(secret) => session::SessionKeys::new(secret.expose().as_bytes()),
        None => {
            tracing::warn!(
                "SESSION_SECRET is not set: sessions are signed with a random key and end when the server restarts"
            );
            session::SessionKeys::random()
        }
    }
    .trusting_proxy(config.trust_proxy);
    let limiter = limits::RateLimiter::new(limits::Limits {
        per_session: config.rate_limit_session_per_min,
        per_addr: config.rate_limit_addr_per_min,
        reads_per_addr: config.rate_limit_reads_addr_per_min,
    })
    .trusting_proxy(config.trust_proxy);
    let frames = headers::FramePolicy::new(config.widget_allowed_origins.as_deref());
    // The WASM, JS and CSS as `.br` files made at build time (`--precompress`) when the
    // browser takes brotli: its best level costs seconds per request, so it is done once.
    // Otherwise (gzip, or no `.br` file) they are compressed on the fly like the rest.
    // The release archive's executable serves the site from inside itself unless
    // LEPTOS_SITE_ROOT points at a folder (development, `cargo leptos watch`).
    let embedded = std::env::var_os("LEPTOS_SITE_ROOT").is_none() && assets::EMBEDDED;
    let site_root = std::path::Path::new(leptos_options.site_root.as_ref());
    let widget_js = if embedded {
        assets::site_text("widget.js")
    } else {
        std::fs::read_to_string(site_root.join("widget.js")).ok()
    };
    let widget = widget_script(widget_js, assistant.widget_title());
    let site = match assets::site_router(widget.has_routes()) {
        Some(files) if embedded => files,
        _ => {
            let pkg_dir = site_root.join(leptos_options.site_pkg_dir.as_ref());
            let pkg_route = format!("/{}", leptos_options.site_pkg_dir);
            Router::new().nest_service(&pkg_route, ServeDir::new(pkg_dir).precompressed_br())
        }
    };
    let api = api_router()
        .route("/api/{*rest}", any(api_not_found))
        .with_state(assistant.clone());
    let mcp = config.mcp_enabled.then(|| {
        crate::http::mcp::router(
            assistant.clone(),
            crate::http::mcp::McpPolicy {
                trust_proxy: config.trust_proxy,
                allowed_origins: std::sync::Arc::new(
                    config.widget_allowed_origins.clone().unwrap_or_default(),
                ),
                ask: config.mcp_ask,
            },
        )
    });
    let app = api
        .merge(mcp.unwrap_or_default())
        .merge(site)
        .merge(widget)
        .merge(pages(assistant, leptos_options))
        .layer(from_fn_with_state(limiter, limits::middleware))
        .layer(from_fn_with_state(keys, session::middleware))
        // Before the session: a refused request starts none.
        .layer(from_fn_with_state(
            csrf::SitePolicy {
                trust_proxy: config.trust_proxy,
            },
            csrf::middleware,
        ))
        .layer(from_fn_with_state(frames, headers::middleware));
    requests::wrap(app, config.request_timeout)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // gzip or brotli, as the browser asks; small bodies and images stay as they are.
        .layer(CompressionLayer::new().gzip(true).br(true))
}

/// The Leptos pages and server functions, with the service and this response's CSP nonce (for
/// the hydration loader's inline script) as context.
fn pages(assistant: &Assistant, leptos_options: LeptosOptions) -> Router {
    let service: SharedService = Arc::new(assistant.clone());
    let context = move || {
        provide_context(service.clone());
        let nonce = use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<headers::CspNonce>().cloned());
        if let Some(headers::CspNonce(nonce)) = nonce {
            provide_context(leptos::nonce::Nonce::from_value(nonce));
        }
    };
    Router::new()
        .leptos_routes_with_context(
            &leptos_options,
            generate_route_list(App),
            context.clone(),
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler_with_context(
            context, shell,
        ))
        .with_state(leptos_options)
}

/// `/widget.js` (`script`, read once from the site) with its default title set to `title`
/// (`ASSISTANT_NAME`); without a title or the file (a server started without the built site)
/// the route is left to the static files, which answer 404 for a missing file.
fn widget_script(script: Option<String>, title: Option<&str>) -> Router {
    const DEFAULT: &str = "(data.title || \"Ask the docs\")";
    let (Some(title), Some(script)) = (title, script) else {
        return Router::new();
    };
    if !script.contains(DEFAULT) {
        tracing::warn!("widget.js has no default title to replace");
        return Router::new();
    }
    let script = script.replace(
        DEFAULT,
        &format!("(data.title || {})", js_ascii_string(title)),
    );
    Router::new().route(
        "/widget.js",
        axum::routing::get(move || {
            let script = script.clone();
            async move {
                (
                    [
                        (
                            axum::http::header::CONTENT_TYPE,
                            "text/javascript; charset=utf-8",
                        ),
                        (axum::http::header::CACHE_CONTROL, "public, max-age=300"),
                    ],
                    script,
                )
            }
        }),
    )
}

/// `text` as a JavaScript string literal of ASCII alone (`\uXXXX` for the rest), so the script
/// reads the same on a host page of any charset.
fn js_ascii_string(text: &str) -> String {
    let mut out = String::from("\"");
    for unit in text.encode_utf16() {
        match unit {
            0x20..=0x7e
                if unit != u16::from(b'"')
                    && unit != u16::from(b'\\')
                    && unit != u16::from(b'<') =>
            {
                out.push(char::from(unit as u8))
            }
            _ => out.push_str(&format!("\\u{unit:04x}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_ascii_javascript_strings() {
        assert_eq!(js_ascii_string("Ask Acme"), "\"Ask Acme\"");
        assert_eq!(
            js_ascii_string("Café \"docs\" </script> ✦"),
            "\"Caf\\u00e9 \\u0022docs\\u0022 \\u003c/script> \\u2726\""
        );
    }
}
