//! Builds the application (database, docs index, engine, routes) and serves it.
pub mod assets;
mod routes;

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use axum::Router;
use leptos::prelude::*;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::crawl;
use crate::docs::{embed::Embedder, live::LiveDocs};
use crate::engine::{DEFAULT_INSTRUCTIONS, Engine, EngineSettings};
use crate::models::{ChatModel, offline::OfflineModel, openai::OpenAiModel};
use crate::service::Assistant;
use crate::slack::Slack;
use crate::store::Store;

pub use crate::http::BODY_LIMIT;

pub struct Application {
    listener: TcpListener,
    router: Router,
    assistant: Assistant,
    header_read_timeout: Option<std::time::Duration>,
}

impl Application {
    /// Connects to the database, indexes the docs, resumes unfinished runs and binds the
    /// listener (`config.addr` may use port 0).
    pub async fn build(config: Config, leptos_options: LeptosOptions) -> anyhow::Result<Self> {
        let store = open_store(&config).await?;
        let (docs, sites) = index_docs(&config, &store).await?;
        let (model, title_model) = chat_models(&config)?;
        let engine = Engine::new(
            store.clone(),
            model,
            title_model,
            docs.clone(),
            engine_settings(&config)?,
        );
        // SQLite is one instance by design: every run left active belongs to a dead process.
        let single_instance = config.database_url.starts_with("sqlite");
        let resumed = engine
            .recover(single_instance)
            .await
            .context("could not recover unfinished runs")?;
        if resumed > 0 {
            tracing::info!(resumed, "resumed runs left by a previous process");
        }
        engine.spawn_sweeper();
        engine.spawn_dispatcher();
        engine.spawn_heartbeat();
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("could not listen on LEPTOS_SITE_ADDR={}", config.addr))?;
        let slack = slack(&config, &store)?;
        let config = Arc::new(config);
        let assistant =
            Assistant::new(store, engine, docs, config.clone(), slack).with_sites(sites);
        assistant.spawn_retention();
        let router = routes::routes(&config, &assistant, leptos_options);
        Ok(Self {
            listener,
            router,
            assistant,
            header_read_timeout: config.header_read_timeout,
        })
    }

    /// The service this application serves (tests call it directly).
    pub fn assistant(&self) -> Assistant {
        self.assistant.clone()
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serves until SIGTERM or Ctrl-C, then stops accepting and, while the requests in flight
    /// finish, hands the runs it executes back to the database for another instance: at once,
    /// so no model call answers here meanwhile and starts an answer the other instance writes
    /// again (the Postgres pass saw two answers to one question when the hand-back waited).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let assistant = self.assistant.clone();
        let hand_back = async move {
            let handed = assistant.hand_back_runs().await;
            tracing::info!(runs_handed_back = handed, "runs handed back");
        };
        serve(
            self.listener,
            self.router,
            self.header_read_timeout,
            hand_back,
        )
        .await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Serves HTTP/1.1 until SIGTERM or Ctrl-C, then stops accepting and waits for the requests in
/// flight, running `on_stop` meanwhile. Each connection must send its request headers within `header_read_timeout` (also
/// the longest a kept-alive connection idles): a client that opens connections and trickles
/// bytes, or sends none, holds a task and a socket for that long and no longer, and never
/// delays anyone else's request. (HTTP/2 comes from the reverse proxy in front, if any.)
async fn serve(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Option<Duration>,
    on_stop: impl std::future::Future<Output = ()>,
) {
    use hyper_util::{rt::TokioIo, rt::TokioTimer, service::TowerToHyperService};
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = std::pin::pin!(shutdown_signal());
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let service = tower::ServiceExt::map_request(
            router.clone(),
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                req
            },
        );
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::join!(graceful.shutdown(), on_stop);
}

/// Serves `router` on a free port of 127.0.0.1 over HTTP/1.1 and h2c (HTTP/2 without TLS, as
/// the client's prior knowledge), as OpenAI's API offers both; returns `http://127.0.0.1:port`.
/// For the stand-in upstreams of the load generator and the tests (a fake model API), never
/// for readers: `axum::serve` speaks only HTTP/1.1, hence hyper-util's auto builder. HTTP/2
/// streams are not limited in number, so 10,000 waiting model calls share one connection.
pub async fn serve_local(router: Router) -> std::io::Result<String> {
    use hyper_util::{rt::TokioExecutor, rt::TokioIo, service::TowerToHyperService};
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let root = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let mut http = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        http.http2().max_concurrent_streams(None);
        let http = Arc::new(http);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let (http, service) = (http.clone(), TowerToHyperService::new(router.clone()));
            tokio::spawn(async move {
                let _ = http.serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    Ok(root)
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    Store::connect(&config.database_url).await.with_context(|| {
        format!(
            "could not open the database (DATABASE_URL={})",
            redact(&config.database_url)
        )
    })
}

/// Starts indexing `DOCS_DIR` and the sites' stored pages in the background (serving starts at
/// once; searches wait for the index), then embedding and watching it, and keeping the sites.
async fn index_docs(
    config: &Config,
    store: &Store,
) -> anyhow::Result<(LiveDocs, Option<crawl::keeper::Keeper>)> {
    let embeddings = match (&config.embeddings_model, config.remote_base_url()) {
        (Some(model), Some(base)) => {
            tracing::info!(
                model,
                base_url = base,
                "docs search is hybrid once the sections are embedded"
            );
            Some((
                Embedder::new(base, model, config.openai_api_key.clone())?,
                config.embeddings_cache_dir.clone(),
            ))
        }
        _ => None,
    };
    if config.builtin_guide {
        assets::write_guide(&config.docs_dir).with_context(|| {
            format!(
                "could not write the built-in guide to {}",
                config.docs_dir.display()
            )
        })?;
        tracing::info!(
            dir = %config.docs_dir.display(),
            "DOCS_DIR is unset and there is no docs/ here: answering from this executable's own guide"
        );
    }
    let sites = config
        .docs_sites
        .iter()
        .map(|s| crawl::Site::parse(s).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Only with sites configured: without, start-up reads nothing more than before.
    let (site_pages, loaded) = if sites.is_empty() {
        (Vec::new(), 0)
    } else {
        let read = async {
            let loaded = crawl::keeper::generation(store).await?;
            anyhow::Ok((crawl::keeper::stored_pages(store, &sites).await?, loaded))
        };
        read.await
            .context("could not read the crawled docs pages")?
    };
    let docs = LiveDocs::indexing(
        config.docs_folder.then(|| config.docs_dir.clone()),
        site_pages,
        config.docs_base_url.clone(),
        embeddings,
    );
    if let Some(every) = config.docs_watch {
        docs.watch(every);
    }
    if sites.is_empty() {
        return Ok((docs, None));
    }
    let c = &config.docs_crawl;
    let hosts: Vec<String> = sites.iter().map(crawl::Site::host).collect();
    let fetcher = crawl::fetch::Fetcher::new(&hosts, c.rate, c.timeout).await;
    let limits = crawl::Limits {
        rate: c.rate,
        max_pages: c.max_pages,
    };
    let keeper = crawl::keeper::Keeper::new(
        sites,
        store.clone(),
        docs.clone(),
        fetcher,
        limits,
        c.hours,
        loaded,
    );
    keeper.start(config.docs_watch.unwrap_or(Duration::from_secs(60)));
    Ok((docs, Some(keeper)))
}

/// The model that answers and the one that writes titles: a remote OpenAI-compatible one when
/// configured, else the offline model.
fn chat_models(config: &Config) -> anyhow::Result<(Arc<dyn ChatModel>, Arc<dyn ChatModel>)> {
    let Some(base) = config.remote_base_url() else {
        tracing::info!("no OPENAI_API_KEY or OPENAI_BASE_URL: answers come from the offline model");
        return Ok((Arc::new(OfflineModel), Arc::new(OfflineModel)));
    };
    let make = |name: &str| -> anyhow::Result<Arc<dyn ChatModel>> {
        let key = config.openai_api_key.clone();
        Ok(Arc::new(OpenAiModel::new(
            base,
            name,
            key,
            config.openai_timeout,
            config.openai_idle_timeout,
            config.openai_http2,
            config.max_answer_tokens,
        )?))
    };
    tracing::info!(base_url = base, model = %config.openai_model, "answers come from a remote chat model");
    Ok((
        make(&config.openai_model)?,
        make(&config.openai_title_model)?,
    ))
}

fn engine_settings(config: &Config) -> anyhow::Result<EngineSettings> {
    let instructions = match &config.instructions_path {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("could not read ASSISTANT_INSTRUCTIONS={}", path.display()))?,
        None => DEFAULT_INSTRUCTIONS.to_string(),
    };
    Ok(EngineSettings {
        instructions,
        run_time_limit: config.run_time_limit,
        max_rounds: config.max_tool_rounds,
        max_retries: config.openai_max_retries,
        lease_secs: config.run_lease_secs as i64,
        max_running: config.max_running_runs as usize,
        context_tokens: config.model_context_tokens,
        count_tokens: config.counts_tokens(),
    })
}

fn slack(config: &Config, store: &Store) -> anyhow::Result<Option<Slack>> {
    let Some(c) = &config.slack else {
        return Ok(None);
    };
    tracing::info!(channel = %c.channel, "new threads and messages are posted to Slack");
    Ok(Some(Slack::new(
        &c.api_url,
        c.bot_token.clone(),
        c.channel.clone(),
        store.clone(),
        config.slack_notices_addr_per_min,
    )?))
}

/// Options for the pages when the server is not started by cargo-leptos (tests, plain runs).
pub fn leptos_options() -> anyhow::Result<LeptosOptions> {
    let mut options = leptos::config::get_configuration(None)
        .map_err(|e| anyhow::anyhow!("invalid Leptos settings (LEPTOS_*): {e}"))?
        .leptos_options;
    if options.output_name.is_empty() {
        options.output_name = "paste-assistant".into();
    }
    Ok(options)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…{}", &url[..scheme], &url[at..]),
        _ => url.to_string(),
    }
}
