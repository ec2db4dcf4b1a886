//! The Paste Assistant server: configuration, store, run engine, models, docs search, HTTP API.
// The pages are generic view types nested deeply; building their SSR in this crate needs more
// than the default depth (as app and frontend do).
#![recursion_limit = "512"]

/// How long to wait before a retry.
pub mod backoff;
/// Settings from the environment.
pub mod config;
/// Published docs sites: crawling, HTML to sections, keeping them current.
pub mod crawl;
/// Documentation indexing and search.
pub mod docs;
/// The run life cycle and the tool loop.
pub mod engine;
/// The REST API, sessions and rate limits.
pub mod http;
/// Object ids.
pub mod ids;
/// One rate limit by key, with bounded memory.
pub mod limiter;
/// Markdown to safe HTML.
pub mod markdown;
/// Prometheus-style counters and histograms.
pub mod metrics;
/// Chat models (the offline one).
pub mod models;
/// The OpenAI-shaped JSON objects of API.md: what the REST routes answer and what the run
/// event stream carries (written by the engine as runs go, so shared by both).
pub mod objects;
/// Calls to other services: capped bodies, `Retry-After`.
pub mod outbound;
/// The service layer shared by the REST API and the pages (`service::pages`): the only door
/// to the store, the engine and the docs.
pub mod service;
/// Slack notices of new threads and messages, in the background.
pub mod slack;
/// Building and serving the application.
pub mod startup;
/// The database.
pub mod store;
/// Logging set-up.
pub mod telemetry;
/// Assertions the unit tests share.
#[cfg(test)]
mod test_support;
