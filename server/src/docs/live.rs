//! The docs index in use, replaced whole when `DOCS_DIR` changes or a crawl of a docs site
//! brings new pages: a new index is built beside the old one, which answers every search until
//! the new one is swapped in, so there is never a moment without results.
use std::{
    collections::hash_map::DefaultHasher,
    hash::{Hash, Hasher},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use std::sync::atomic::Ordering;

use super::{
    DocsIndex, Hit, IndexStats, Page,
    embed::{self, Cache, Embedder},
};

#[derive(Clone)]
pub struct LiveDocs {
    inner: Arc<Inner>,
}

struct Inner {
    current: RwLock<Arc<DocsIndex>>,
    /// `DOCS_DIR`, unless only sites are the docs.
    dir: Option<PathBuf>,
    /// The crawled sites' pages, indexed beside the folder's.
    site_pages: Mutex<Arc<Vec<Page>>>,
    /// Pages the folder gave the current index.
    folder_pages: std::sync::atomic::AtomicUsize,
    base_url: Option<String>,
    /// One rebuild at a time; holds the fingerprint of the folder the current index was built
    /// from.
    rebuild: tokio::sync::Mutex<u64>,
    embeddings: Option<Embeddings>,
    /// False while the first index is being built in the background ([`LiveDocs::indexing`]).
    ready: tokio::sync::watch::Sender<bool>,
}

struct Embeddings {
    embedder: Embedder,
    cache: tokio::sync::Mutex<Cache>,
}

/// Why a rebuild did not replace the index (the old one is still in use).
#[derive(Debug, thiserror::Error)]
pub enum ReindexError {
    #[error("could not index DOCS_DIR {dir}: {reason}")]
    Failed { dir: String, reason: String },
    #[error(
        "DOCS_DIR {dir} has no .md or .mdx pages now; the index of {pages} pages is kept (an \
         empty folder is more likely a deploy in progress than docs that were all removed)"
    )]
    Empty { dir: String, pages: usize },
}

impl LiveDocs {
    pub fn new(index: DocsIndex, dir: PathBuf, base_url: Option<String>) -> Self {
        let print = fingerprint(&dir);
        let pages = index.stats.pages;
        let live = Self::with_embeddings(index, print, Some(dir), Vec::new(), base_url, None);
        live.inner.folder_pages.store(pages, Ordering::Relaxed);
        live
    }

    /// `index` was built from the folder when it had [`fingerprint`] `print` (taken before the
    /// build, so a page changed during it is re-indexed). With `embeddings` (the embedder and
    /// the cache folder), searches are hybrid once [`Self::start_embedding`] has embedded the
    /// sections (an index built here starts it).
    fn with_embeddings(
        index: DocsIndex,
        print: u64,
        dir: Option<PathBuf>,
        site_pages: Vec<Page>,
        base_url: Option<String>,
        embeddings: Option<(Embedder, PathBuf)>,
    ) -> Self {
        let embeddings = embeddings.map(|(embedder, cache_dir)| Embeddings {
            cache: tokio::sync::Mutex::new(Cache::open(&cache_dir, embedder.model())),
            embedder,
        });
        Self {
            inner: Arc::new(Inner {
                current: RwLock::new(Arc::new(index)),
                dir,
                site_pages: Mutex::new(Arc::new(site_pages)),
                folder_pages: Default::default(),
                base_url,
                rebuild: tokio::sync::Mutex::new(print),
                embeddings,
                ready: tokio::sync::watch::Sender::new(true),
            }),
        }
    }

    /// Serves at once with no pages while the folder is indexed in the background (100,000
    /// sections take seconds): searches wait for the index, `/readyz` says it is not ready.
    /// A first build that fails leaves the index empty, logged, and ready.
    /// `site_pages` are the sites' pages as last crawled (indexed with the folder's).
    pub fn indexing(
        dir: Option<PathBuf>,
        site_pages: Vec<Page>,
        base_url: Option<String>,
        embeddings: Option<(Embedder, PathBuf)>,
    ) -> Self {
        let empty = DocsIndex::empty(base_url.clone());
        let live = Self::with_embeddings(empty, 0, dir, site_pages, base_url, embeddings);
        live.inner.ready.send_replace(false);
        let first = live.clone();
        tokio::spawn(async move {
            // A watcher started meanwhile waits for this lock (or builds first, as well).
            let mut built_from = first.inner.rebuild.lock().await;
            if let Err(e) = first.rebuild(&mut built_from).await {
                tracing::error!(error = %e, "docs search has no pages");
            }
            drop(built_from);
            first.inner.ready.send_replace(true);
        });
        live
    }

    /// Whether the first index is in (always, but for [`Self::indexing`]'s first seconds).
    pub fn is_ready(&self) -> bool {
        *self.inner.ready.borrow()
    }

    /// Waits until the first index is in.
    pub async fn ready(&self) {
        let mut ready = self.inner.ready.subscribe();
        let _ = ready.wait_for(|r| *r).await;
    }

    /// Embeds the current index's sections in the background (BM25 answers meanwhile).
    fn start_embedding(&self) {
        if self.inner.embeddings.is_none() {
            return;
        }
        let live = self.clone();
        tokio::spawn(async move {
            let index = live.current();
            if let Err(e) = live.embed(&index).await {
                tracing::warn!(error = %e, "docs search stays on BM25 alone: could not embed the sections");
            }
        });
    }

    /// Gives `index` its sections' vectors, from the cache or the embeddings endpoint.
    async fn embed(&self, index: &DocsIndex) -> anyhow::Result<()> {
        let Some(e) = &self.inner.embeddings else {
            return Ok(());
        };
        let started = std::time::Instant::now();
        let texts = index.section_texts();
        let mut cache = e.cache.lock().await;
        let cached_before = cache.len();
        let vectors = embed::vectors_for(&e.embedder, &mut cache, &texts).await?;
        let made = cache.len() - cached_before;
        drop(cache);
        index.set_vectors(vectors);
        tracing::info!(
            sections = texts.len(),
            embedded = made,
            ms = started.elapsed().as_millis() as u64,
            model = e.embedder.model(),
            "docs embeddings ready: search is hybrid"
        );
        Ok(())
    }

    /// Searches the current index; hybrid when its vectors are there and the query's vector
    /// comes back within [`embed::QUERY_TIMEOUT`], else BM25 alone.
    pub async fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        self.search_in_context(query, &[], limit).await
    }

    /// [`Self::search`] for a question asked after `context` (the thread's earlier questions,
    /// newest first), whose words count less ([`super::CONTEXT_WEIGHTS`]); with embeddings
    /// the vector is the question's with its context.
    pub async fn search_in_context(
        &self,
        query: &str,
        context: &[String],
        limit: usize,
    ) -> Vec<Hit> {
        self.ready().await;
        let index = self.current();
        let vector = match &self.inner.embeddings {
            Some(e) if index.has_vectors() => {
                let mut text = query.to_string();
                for earlier in context {
                    text.push('\n');
                    text.push_str(earlier);
                }
                let input = [text];
                let asked = e.embedder.embed(&input);
                match tokio::time::timeout(embed::QUERY_TIMEOUT, asked).await {
                    Ok(Ok(mut v)) => v.pop(),
                    Ok(Err(err)) => {
                        tracing::warn!(error = %err, "query not embedded: BM25 alone");
                        None
                    }
                    Err(_) => {
                        tracing::warn!("query not embedded in time: BM25 alone");
                        None
                    }
                }
            }
            _ => None,
        };
        let (query, context) = (query.to_string(), context.to_vec());
        tokio::task::spawn_blocking(move || {
            let query = super::Query::in_context(&query, &context);
            index.search_with(&query, vector.as_deref(), limit)
        })
        .await
        .unwrap_or_default()
    }

    /// The index to search now (a search keeps the one it started with).
    pub fn current(&self) -> Arc<DocsIndex> {
        self.inner
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Pages the folder gave the current index (the rest are the sites').
    pub fn folder_pages(&self) -> usize {
        self.inner.folder_pages.load(Ordering::Relaxed)
    }

    /// Replaces the sites' pages and re-indexes with them.
    pub async fn set_site_pages(&self, pages: Vec<Page>) -> Result<IndexStats, ReindexError> {
        let mut built_from = self.inner.rebuild.lock().await;
        *self
            .inner
            .site_pages
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Arc::new(pages);
        self.rebuild(&mut built_from).await
    }

    /// Rebuilds the index from the folder and swaps it in.
    pub async fn reindex(&self) -> Result<IndexStats, ReindexError> {
        let mut built_from = self.inner.rebuild.lock().await;
        self.rebuild(&mut built_from).await
    }

    async fn rebuild(&self, built_from: &mut u64) -> Result<IndexStats, ReindexError> {
        let dir = self.inner.dir.clone();
        let base = self.inner.base_url.clone();
        let shown = dir
            .as_ref()
            .map_or(String::new(), |d| d.display().to_string());
        let print = dir.as_deref().map_or(0, fingerprint);
        let sites = self
            .inner
            .site_pages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let built = tokio::task::spawn_blocking(move || {
            let mut pages = match &dir {
                Some(dir) if !dir.is_dir() => anyhow::bail!("it is not a folder"),
                Some(dir) => super::read_folder(dir),
                None => Vec::new(),
            };
            let folder = pages.len();
            pages.extend(sites.iter().cloned());
            Ok((folder, DocsIndex::of_pages(pages, base)))
        })
        .await
        .map_err(|e| anyhow::anyhow!("the indexing task failed: {e}"))
        .and_then(|r| r)
        .map_err(|e| ReindexError::Failed {
            dir: shown.clone(),
            reason: format!("{e:#}"),
        })?;
        let (folder, built) = built;
        let old_pages = self.folder_pages();
        if self.inner.dir.is_some() && folder == 0 && old_pages > 0 {
            return Err(ReindexError::Empty {
                dir: shown,
                pages: old_pages,
            });
        }
        // While search is hybrid it stays so: the new index is embedded before the swap (mostly
        // from the cache). Otherwise (the first index) BM25 answers at once and the sections
        // are embedded after.
        let hybrid = self.current().has_vectors();
        if hybrid && let Err(e) = self.embed(&built).await {
            tracing::warn!(error = %e, "the new docs index is not embedded: BM25 alone");
        }
        let stats = built.stats;
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Arc::new(built);
        *built_from = print;
        self.inner.folder_pages.store(folder, Ordering::Relaxed);
        tracing::info!(
            pages = stats.pages,
            sections = stats.sections,
            passages = stats.passages,
            ms = stats.build_ms as u64,
            "docs indexed"
        );
        if !hybrid {
            self.start_embedding();
        }
        Ok(stats)
    }

    /// Looks at the folder every `every` and re-indexes when a page was added, removed or
    /// changed (by path, size and modification time). Runs until the process ends.
    pub fn watch(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let live = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(dir) = live.inner.dir.clone() else {
                    return;
                };
                let Ok(print) = tokio::task::spawn_blocking(move || fingerprint(&dir)).await else {
                    continue;
                };
                let mut built_from = live.inner.rebuild.lock().await;
                if print == *built_from {
                    continue;
                }
                if let Err(e) = live.rebuild(&mut built_from).await {
                    tracing::warn!(error = %e, "docs changed but were not re-indexed");
                    // Not again until the folder changes once more.
                    *built_from = print;
                }
            }
        })
    }
}

/// A hash of every page's path, size and modification time.
pub fn fingerprint(dir: &Path) -> u64 {
    let mut hasher = DefaultHasher::new();
    for path in super::walk(dir) {
        path.hash(&mut hasher);
        if let Ok(meta) = std::fs::metadata(&path) {
            meta.len().hash(&mut hasher);
            if let Ok(modified) = meta.modified() {
                modified.hash(&mut hasher);
            }
        }
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    /// A docs folder holding one page about zebras, and its live index.
    fn zebra_docs() -> (tempfile::TempDir, LiveDocs) {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.md", "# Alpha\n\nAbout zebras.\n");
        let index = DocsIndex::build(dir.path(), None).unwrap();
        let live = LiveDocs::new(index, dir.path().to_path_buf(), None);
        (dir, live)
    }

    #[tokio::test]
    async fn a_reindex_swaps_in_the_new_pages_and_keeps_the_old_on_failure() {
        let (dir, live) = zebra_docs();
        assert_eq!(live.current().search("zebras", 5).len(), 1);

        write(dir.path(), "b.md", "# Beta\n\nAbout giraffes.\n");
        let before = live.current();
        let stats = live.reindex().await.unwrap();
        assert_eq!(stats.pages, 2);
        assert_eq!(live.current().search("giraffes", 5)[0].title, "Beta");
        // A search that started before the swap keeps its index.
        assert!(before.search("giraffes", 5).is_empty());

        std::fs::remove_file(dir.path().join("a.md")).unwrap();
        std::fs::remove_file(dir.path().join("b.md")).unwrap();
        let err = live.reindex().await.unwrap_err();
        assert!(matches!(err, ReindexError::Empty { pages: 2, .. }), "{err}");
        assert_eq!(live.current().stats.pages, 2);
    }

    #[tokio::test]
    async fn the_watcher_picks_up_a_changed_page() {
        let (dir, live) = zebra_docs();
        let watcher = live.watch(Duration::from_millis(20));
        write(dir.path(), "a.md", "# Alpha\n\nAbout okapis, and more.\n");
        let mut found = false;
        for _ in 0..250 {
            if !live.current().search("okapis", 5).is_empty() {
                found = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        watcher.abort();
        assert!(found, "the watcher did not re-index within 5 s");
        assert!(live.current().search("zebras", 5).is_empty());
    }

    #[tokio::test]
    async fn the_first_index_is_built_after_start_and_searches_wait_for_it() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.md", "# Alpha\n\nAbout zebras.\n");
        let live = LiveDocs::indexing(Some(dir.path().to_path_buf()), Vec::new(), None, None);
        // The build runs on the runtime; this test's thread has not yielded to it yet.
        assert!(!live.is_ready());
        assert_eq!(live.current().stats.pages, 0);
        let hits = live.search("zebras", 5).await;
        assert_eq!(hits.len(), 1, "the search waited for the index");
        assert!(live.is_ready());
        assert_eq!(live.current().stats.pages, 1);
    }

    #[tokio::test]
    async fn a_sites_pages_are_searched_beside_the_folders_and_survive_its_reindex() {
        let (dir, live) = zebra_docs();
        let site = crate::docs::chunk::from_markdown(
            "https://d.example.com/okapis/",
            Some("Okapis".into()),
            None,
            "## Stripes {#stripes}\n\nOkapis have striped legs.\n".into(),
        );
        live.set_site_pages(vec![site]).await.unwrap();
        assert_eq!(live.folder_pages(), 1);
        assert_eq!(live.current().stats.pages, 2);
        let hits = live.search("striped legs", 5).await;
        assert_eq!(hits[0].url, "https://d.example.com/okapis/#stripes");
        write(dir.path(), "b.md", "# Beta\n\nAbout giraffes.\n");
        live.reindex().await.unwrap();
        assert_eq!(live.folder_pages(), 2);
        assert_eq!(live.search("striped legs", 5).await.len(), 1);
        assert_eq!(live.search("zebras", 5).await[0].url, "/docs/a.md");
    }
}
