//! Keeps the sites' pages current on every instance: each looks every few seconds whether a
//! site is due (`DOCS_CRAWL_HOURS` since its last crawl, or asked for now); the one that takes
//! the site's lease in the database crawls it, writes what changed and lets go; every instance
//! sees the site's generation move and re-indexes with the stored pages.
use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde::Serialize;

use super::{Limits, Site, crawl_site, fetch::Fetcher};
use crate::docs::{Page, chunk, live::LiveDocs};
use crate::store::{SitePageRow, Store};

/// How soon a crawl that read nothing (the site down) is tried again, at most.
const RETRY_SECS: i64 = 15 * 60;

/// How long a crawl's lease lasts without renewal, and how often it is renewed.
const LEASE_SECS: i64 = 60;
const RENEW_EVERY: Duration = Duration::from_secs(20);

#[derive(Clone)]
pub struct Keeper {
    inner: Arc<Inner>,
}

struct Inner {
    sites: Vec<Site>,
    store: Store,
    docs: LiveDocs,
    fetcher: Fetcher,
    limits: Limits,
    /// `DOCS_CRAWL_HOURS`, in seconds.
    every: i64,
    /// This instance, as the lease names it.
    holder: String,
    /// Sites asked to be crawled now.
    asked: Mutex<HashSet<String>>,
    /// Sites this instance is crawling.
    crawling: Mutex<HashSet<String>>,
    /// The sum of the sites' generations the index was last built with.
    generation: tokio::sync::Mutex<i64>,
    wake: tokio::sync::Notify,
    /// Counts the crawls this instance ended and the re-indexes with stored pages: what a
    /// watcher of the sites (the tests) waits on instead of polling.
    news: tokio::sync::watch::Sender<u64>,
}

/// One site as `/readyz` and the admin overview show it.
#[derive(Clone, Debug, Serialize)]
pub struct SiteStatus {
    pub url: String,
    pub pages: usize,
    pub failures: usize,
    /// When its last crawl ended (unix seconds).
    pub last_crawl_at: Option<i64>,
    pub crawling: bool,
    /// Why the last crawl read nothing.
    pub error: Option<String>,
}

/// What asking for a crawl now did, per site.
#[derive(Clone, Debug, Serialize)]
pub struct Asked {
    pub url: String,
    /// `started` (asked; an instance takes it within seconds) or `running` (already crawling).
    pub crawl: &'static str,
}

/// A stored page as the index reads it.
pub fn page_of(row: SitePageRow) -> Page {
    let title = (!row.title.is_empty()).then_some(row.title);
    chunk::from_markdown(&row.url, title, row.description, row.markdown)
}

impl Keeper {
    /// The keeper of `sites`, crawling with `fetcher` under `limits` every `every_hours`;
    /// `loaded` is the [`generation`] of the pages the index started with.
    pub fn new(
        sites: Vec<Site>,
        store: Store,
        docs: LiveDocs,
        fetcher: Fetcher,
        limits: Limits,
        every_hours: f64,
        loaded: i64,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                sites,
                store,
                docs,
                fetcher,
                limits,
                every: (every_hours * 3600.0) as i64,
                holder: format!("crawler_{:016x}", rand::random::<u64>()),
                asked: Mutex::default(),
                crawling: Mutex::default(),
                generation: tokio::sync::Mutex::new(loaded),
                wake: tokio::sync::Notify::new(),
                news: tokio::sync::watch::Sender::new(0),
            }),
        }
    }

    /// Looks every `check` (and at once when asked) for due sites and for crawls another
    /// instance finished. Runs until the process ends.
    pub fn start(&self, check: Duration) -> tokio::task::JoinHandle<()> {
        let keeper = self.clone();
        tokio::spawn(async move {
            loop {
                keeper.tick().await;
                let _ = tokio::time::timeout(check, keeper.inner.wake.notified()).await;
            }
        })
    }

    /// Changes whenever a crawl here ends or the index takes in the stored pages anew.
    pub fn news(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.news.subscribe()
    }

    /// Asks for every site to be crawled now.
    pub fn crawl_now(&self) -> Vec<Asked> {
        let crawling = self
            .inner
            .crawling
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut asked = self.inner.asked.lock().unwrap_or_else(|e| e.into_inner());
        let out = self
            .inner
            .sites
            .iter()
            .map(|s| {
                let running = crawling.contains(&s.url);
                if !running {
                    asked.insert(s.url.clone());
                }
                Asked {
                    url: s.url.clone(),
                    crawl: if running { "running" } else { "started" },
                }
            })
            .collect();
        self.inner.wake.notify_one();
        out
    }

    /// Each configured site's pages, failures and last crawl.
    pub async fn status(&self) -> anyhow::Result<Vec<SiteStatus>> {
        let rows = self.inner.store.sites().await?;
        let counts = self.inner.store.site_counts().await?;
        let now = crate::ids::now_secs();
        Ok(self
            .inner
            .sites
            .iter()
            .map(|s| {
                let row = rows.iter().find(|r| r.site == s.url);
                let (pages, failures) = counts.get(&s.url).copied().unwrap_or((0, 0));
                SiteStatus {
                    url: s.url.clone(),
                    pages,
                    failures,
                    last_crawl_at: row.and_then(|r| r.finished_at),
                    crawling: row.is_some_and(|r| r.lease_until.is_some_and(|l| l >= now)),
                    error: row.and_then(|r| r.error.clone()),
                }
            })
            .collect())
    }

    async fn tick(&self) {
        if let Err(e) = self.reload_if_changed().await {
            tracing::warn!(error = %e, "could not read the crawled docs pages");
        }
        let now = crate::ids::now_secs();
        for site in &self.inner.sites {
            let asked = self
                .inner
                .asked
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&site.url);
            if self.is_crawling(&site.url) {
                continue;
            }
            let due = if asked { now } else { now - self.inner.every };
            let retry = now - self.inner.every.min(RETRY_SECS);
            let until = now + LEASE_SECS;
            match self
                .inner
                .store
                .take_site(&site.url, &self.inner.holder, now, until, (due, retry))
                .await
            {
                Ok(true) => {
                    self.set_crawling(&site.url, true);
                    let keeper = self.clone();
                    let site = site.clone();
                    tokio::spawn(async move { keeper.crawl(site).await });
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(site = %site.url, error = %e, "could not take the docs site's crawl")
                }
            }
        }
    }

    fn is_crawling(&self, site: &str) -> bool {
        let crawling = self
            .inner
            .crawling
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        crawling.contains(site)
    }

    fn set_crawling(&self, site: &str, on: bool) {
        let mut crawling = self
            .inner
            .crawling
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if on {
            crawling.insert(site.to_string());
        } else {
            crawling.remove(site);
        }
    }

    /// Crawls `site` (its lease taken), renewing the lease meanwhile, then writes the result.
    async fn crawl(&self, site: Site) {
        let i = &self.inner;
        let now = crate::ids::now_secs();
        let result = async {
            let all = i.store.site_pages().await.map_err(|e| e.to_string())?;
            let kept: Vec<SitePageRow> = all.into_iter().filter(|p| p.site == site.url).collect();
            tracing::info!(site = %site.url, kept = kept.len(), "crawling docs site");
            let crawl = crawl_site(&site, &i.fetcher, i.limits, &kept, now);
            tokio::pin!(crawl);
            let mut renew = tokio::time::interval(RENEW_EVERY);
            renew.tick().await;
            loop {
                tokio::select! {
                    done = &mut crawl => break done,
                    _ = renew.tick() => {
                        let until = crate::ids::now_secs() + LEASE_SECS;
                        if let Err(e) = i.store.renew_site(&site.url, &i.holder, until).await {
                            tracing::warn!(site = %site.url, error = %e, "could not renew the crawl's lease");
                        }
                    }
                }
            }
        }
        .await;
        let finished = crate::ids::now_secs();
        let saved = match &result {
            Ok(c) => {
                tracing::info!(
                    site = %site.url, pages = c.pages, fetched = c.fetched,
                    not_modified = c.not_modified, changed = c.changes.upserted.len(),
                    removed = c.changes.removed.len(), failures = c.changes.failures.len(),
                    truncated = c.truncated, ms = c.ms as u64, "docs site crawled"
                );
                i.store
                    .finish_site(&site.url, &i.holder, finished, &c.changes, None)
                    .await
            }
            Err(e) => {
                tracing::warn!(site = %site.url, error = %e, "docs site not crawled; its pages stay as they were");
                let none = Default::default();
                i.store
                    .finish_site(&site.url, &i.holder, finished, &none, Some(e))
                    .await
            }
        };
        if let Err(e) = saved {
            tracing::error!(site = %site.url, error = %e, "could not save the docs site's crawl");
        }
        self.set_crawling(&site.url, false);
        if let Err(e) = self.reload_if_changed().await {
            tracing::warn!(error = %e, "could not read the crawled docs pages");
        }
        self.inner.news.send_modify(|n| *n += 1);
    }

    /// Re-indexes with the stored pages when a site's generation moved.
    async fn reload_if_changed(&self) -> anyhow::Result<()> {
        let mut seen = self.inner.generation.lock().await;
        let generation = generation(&self.inner.store).await?;
        if *seen == generation {
            return Ok(());
        }
        let pages = stored_pages(&self.inner.store, &self.inner.sites).await?;
        self.inner.docs.set_site_pages(pages).await?;
        *seen = generation;
        self.inner.news.send_modify(|n| *n += 1);
        Ok(())
    }
}

/// The sum of the sites' generations: it moves whenever a crawl changed any site's pages.
/// Read before the pages ([`stored_pages`]), so a crawl that ends in between is read again.
pub async fn generation(store: &Store) -> anyhow::Result<i64> {
    Ok(store.sites().await?.iter().map(|r| r.generation).sum())
}

/// The configured sites' stored pages, as the index reads them.
pub async fn stored_pages(store: &Store, sites: &[Site]) -> anyhow::Result<Vec<Page>> {
    let configured: HashSet<&str> = sites.iter().map(|s| s.url.as_str()).collect();
    let pages = store
        .site_pages()
        .await?
        .into_iter()
        .filter(|p| configured.contains(p.site.as_str()))
        .map(page_of)
        .collect();
    Ok(pages)
}
