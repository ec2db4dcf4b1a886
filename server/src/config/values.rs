//! The types of settings' values, and the error that names a bad one.

/// Why the server cannot start: names the variable to fix.
#[derive(Debug, thiserror::Error)]
#[error("configuration error in {variable}: {reason}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

/// A value that must not reach logs or pages.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Which HTTP the model API is spoken to in (`OPENAI_HTTP2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Http2 {
    /// HTTP/2 where the server offers it in the TLS handshake (ALPN), as OpenAI's API does;
    /// HTTP/1.1 otherwise, and always over plain `http://`.
    Auto,
    /// HTTP/1.1 only: a connection per model call in flight.
    Off,
    /// HTTP/2 always, over `http://` too (h2c with prior knowledge: vLLM behind a proxy that
    /// speaks it, the load generator's fake model). A server without HTTP/2 fails every call.
    Always,
}

impl std::str::FromStr for Http2 {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Http2::Auto),
            "off" => Ok(Http2::Off),
            "always" => Ok(Http2::Always),
            _ => Err("expected auto, off or always"),
        }
    }
}
