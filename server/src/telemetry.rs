//! Logging: `tracing` to a sink of the caller's choice (stderr for the server, nothing in tests).
//! `LOG_FORMAT=json` writes one JSON object per line (with the request's span fields, so every
//! line of a request carries its `request_id`); `text` is for people. Unset: JSON unless the
//! sink is a terminal.
use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt::MakeWriter};

/// Installs the global subscriber; `RUST_LOG` overrides `default_filter`.
pub fn init<W>(default_filter: &str, sink: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = match std::env::var("LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        _ => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(sink)
        .with_target(false);
    let _ = if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
}
