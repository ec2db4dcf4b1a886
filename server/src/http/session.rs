//! Anonymous sessions: a random id in a signed, HttpOnly cookie, given on first use.
//!
//! Two cookies carry the same session. `pa_session` (SameSite=Lax) serves the app on its own
//! site. `pa_embed` (SameSite=None; Secure; Partitioned) serves the widget's iframe on another
//! site: browsers send no Lax cookie there, and the partitioned one is kept per embedding site,
//! so each docs site that embeds the widget sees only the threads started on it. Browsers take
//! Secure cookies over https and from http://localhost; over plain http elsewhere they drop
//! `pa_embed`, and the app on its own site keeps working with `pa_session`.
use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;

use app::service::{ClientAddr, SessionId};

pub const COOKIE: &str = "pa_session";
pub const EMBED_COOKIE: &str = "pa_embed";
/// Over HTTPS the cookies carry the `__Host-` prefix: browsers then take them only when Secure,
/// for this host alone (no `Domain`) and for every path, so a sibling subdomain cannot plant or
/// overwrite a session.
pub(super) const HOST_PREFIX: &str = "__Host-";
/// A year: the session outlives browser restarts.
const MAX_AGE_SECS: u32 = 31_536_000;

/// Whether the browser reached the server over HTTPS (a trusted proxy may say so), for the
/// cookies other routes set.
#[derive(Clone, Copy, Debug)]
pub struct Https(pub bool);

#[derive(Clone)]
pub struct SessionKeys {
    key: Arc<Vec<u8>>,
    trust_proxy: bool,
}

impl SessionKeys {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: Arc::new(secret.to_vec()),
            trust_proxy: false,
        }
    }

    /// Marks cookies `Secure` when a trusted proxy says the browser uses HTTPS.
    pub fn trusting_proxy(mut self, trust: bool) -> Self {
        self.trust_proxy = trust;
        self
    }

    /// A random key, for servers started without `SESSION_SECRET`.
    pub fn random() -> Self {
        let mut key = vec![0u8; 32];
        rand::rng().fill(&mut key[..]);
        Self::new(&key)
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length")
    }

    pub fn sign(&self, session: &str) -> String {
        let mut mac = self.mac();
        mac.update(session.as_bytes());
        format!(
            "{session}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    /// The session id of a cookie value whose signature is ours.
    pub fn verify(&self, value: &str) -> Option<String> {
        let (session, signature) = value.rsplit_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = self.mac();
        mac.update(session.as_bytes());
        mac.verify_slice(&signature).ok()?;
        (!session.is_empty() && session.len() <= 64).then(|| session.to_string())
    }
}

fn new_session_id() -> String {
    let mut bytes = [0u8; 18];
    rand::rng().fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn cookie_value<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    cookie(req.headers(), name)
}

/// The value of cookie `name` in `headers`.
pub(super) fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Puts the caller's [`SessionId`] into the request, starting a session when there is none.
pub async fn middleware(State(keys): State<SessionKeys>, mut req: Request, next: Next) -> Response {
    let prefixed = [COOKIE, EMBED_COOKIE].map(|name| format!("{HOST_PREFIX}{name}"));
    let existing = [
        prefixed[0].as_str(),
        COOKIE,
        prefixed[1].as_str(),
        EMBED_COOKIE,
    ]
    .into_iter()
    .find_map(|name| cookie_value(&req, name).and_then(|v| keys.verify(v)));
    let (session, fresh) = match existing {
        Some(s) => (s, false),
        None => (new_session_id(), true),
    };
    req.extensions_mut().insert(SessionId(session.clone()));
    let addr = super::peer::client_key(&req, keys.trust_proxy).map(|ip| ip.to_string());
    req.extensions_mut().insert(ClientAddr(addr));
    let https = super::peer::is_https(&req, keys.trust_proxy);
    req.extensions_mut().insert(Https(https));
    let mut response = next.run(req).await;
    if fresh {
        for cookie in set_cookies(&keys.sign(&session), https) {
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
        }
    }
    response
}

/// The two `Set-Cookie` values of a new session; over HTTPS the first is `Secure` too (the
/// partitioned one always is) and both have the `__Host-` prefix.
fn set_cookies(signed: &str, https: bool) -> [String; 2] {
    let (secure, prefix) = if https {
        ("; Secure", HOST_PREFIX)
    } else {
        ("", "")
    };
    [
        format!(
            "{prefix}{COOKIE}={signed}; Path=/; HttpOnly; SameSite=Lax; \
             Max-Age={MAX_AGE_SECS}{secure}"
        ),
        format!(
            "{prefix}{EMBED_COOKIE}={signed}; Path=/; HttpOnly; Secure; SameSite=None; \
             Partitioned; Max-Age={MAX_AGE_SECS}"
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_signatures_verify() {
        let keys = SessionKeys::new(b"k1");
        let other = SessionKeys::new(b"k2");
        let cookie = keys.sign("abc");
        assert_eq!(keys.verify(&cookie).as_deref(), Some("abc"));
        assert_eq!(other.verify(&cookie), None);
        assert_eq!(keys.verify("abc"), None);
        assert_eq!(keys.verify("abd.".to_string().as_str()), None);
        let forged = cookie.replacen("abc", "abd", 1);
        assert_eq!(keys.verify(&forged), None);
    }

    #[test]
    fn embed_cookie_is_partitioned_and_cross_site() {
        let [own, embed] = set_cookies("s.sig", false);
        assert!(!own.contains("Secure"));
        let [secure_own, secure_embed] = set_cookies("s.sig", true);
        assert!(
            secure_own.starts_with("__Host-pa_session=s.sig;") && secure_own.ends_with("; Secure")
        );
        assert!(secure_embed.starts_with("__Host-pa_embed=s.sig;"));
        assert!(!secure_own.contains("Domain") && secure_own.contains("Path=/"));
        assert!(own.starts_with("pa_session=s.sig;"));
        assert!(own.contains("HttpOnly") && own.contains("SameSite=Lax"));
        assert!(embed.starts_with("pa_embed=s.sig;"));
        for attribute in ["HttpOnly", "Secure", "SameSite=None", "Partitioned"] {
            assert!(embed.contains(attribute), "{embed} lacks {attribute}");
        }
    }
}
