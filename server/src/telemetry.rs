//! Logging: `tracing` to a sink of the caller's choice (stderr for the server, nothing in tests).
use tracing_subscriber::{EnvFilter, fmt::MakeWriter};

/// Installs the global subscriber; `RUST_LOG` overrides `default_filter`.
pub fn init<W>(default_filter: &str, sink: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(sink)
        .with_target(false)
        .try_init();
}
