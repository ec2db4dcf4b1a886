//! Signing in and out of the admin pages, and who a request is (cookie, bearer token, HTTPS).
use axum::{
    Form,
    extract::FromRequestParts,
    http::{HeaderValue, StatusCode, header, request::Parts},
    response::{Html, IntoResponse, Redirect, Response},
};

use super::view;
use crate::http::prelude::*;
use crate::http::session::{HOST_PREFIX, Https};
use crate::service::ServiceError;
use crate::service::admin::{Credentials, SESSION_SECS};

const COOKIE: &str = "pa_admin";

/// The admin cookie and the bearer token of a request, and whether it came over HTTPS.
pub(super) struct Caller {
    pub(super) credentials: Credentials,
    pub(super) https: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let bearer = Bearer::from_request_parts(parts, state)
            .await
            .map_or(None, |Bearer(b)| b);
        let prefixed = format!("{HOST_PREFIX}{COOKIE}");
        let cookie = [prefixed.as_str(), COOKIE]
            .into_iter()
            .find_map(|name| crate::http::session::cookie(&parts.headers, name))
            .map(str::to_string);
        let https = parts.extensions.get::<Https>().is_some_and(|h| h.0);
        Ok(Caller {
            credentials: Credentials { cookie, bearer },
            https,
        })
    }
}

impl Caller {
    fn cookie_name(&self) -> String {
        if self.https {
            format!("{HOST_PREFIX}{COOKIE}")
        } else {
            COOKIE.to_string()
        }
    }

    fn set_cookie(&self, value: &str, max_age: i64) -> HeaderValue {
        let secure = if self.https { "; Secure" } else { "" };
        let cookie = format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
            self.cookie_name()
        );
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

#[derive(Deserialize)]
pub(super) struct SignIn {
    token: String,
    #[serde(default)]
    next: String,
}

/// Where to go after signing in: an admin page of this server, nothing else (no open
/// redirect).
fn local_admin_path(next: &str) -> &str {
    let plain = next.starts_with("/admin")
        && !next.contains("//")
        && !next.contains('\\')
        && next.chars().all(|c| c.is_ascii_graphic());
    if plain { next } else { "/admin" }
}

pub(super) async fn sign_in(
    State(a): State<Assistant>,
    caller: Caller,
    Form(form): Form<SignIn>,
) -> Response {
    let next = local_admin_path(&form.next).to_string();
    match a.admin_sign_in(&form.token) {
        Ok(value) => {
            let mut response = Redirect::to(&next).into_response();
            response
                .headers_mut()
                .insert(header::SET_COOKIE, caller.set_cookie(&value, SESSION_SECS));
            response
        }
        Err(ServiceError::Unauthorized(message)) => (
            StatusCode::UNAUTHORIZED,
            Html(view::sign_in(&next, Some(&message))),
        )
            .into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "Not found").into_response(),
    }
}

pub(super) async fn sign_out(State(a): State<Assistant>, caller: Caller) -> Response {
    if !a.admin_enabled() {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    }
    let mut response = Redirect::to("/admin").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, caller.set_cookie("", 0));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_admin_paths_are_followed_after_sign_in() {
        assert_eq!(
            local_admin_path("/admin/feedback?days=7"),
            "/admin/feedback?days=7"
        );
        for bad in [
            "https://evil.example/admin",
            "//evil.example",
            "/admin//evil",
            "/other",
            "/admin\\x",
            "",
        ] {
            assert_eq!(local_admin_path(bad), "/admin", "{bad}");
        }
    }
}
