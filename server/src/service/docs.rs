//! The docs: search, a page as the index holds it, and re-indexing.

use super::{Assistant, ServiceError, ServiceResult, bad};
use crate::docs::{Hit, IndexStats};

/// Longest docs search query, in characters.
const SEARCH_MAX_CHARS: usize = 1_000;

/// Most results one docs search returns.
pub const SEARCH_MAX_LIMIT: usize = 50;

/// A docs page for reading: its title and its body as safe HTML.
pub struct DocsPage {
    pub title: String,
    pub html: String,
}

/// A re-index: the new index's counts and the page count before, and the crawls asked for.
pub struct Reindexed {
    pub stats: IndexStats,
    pub previous_pages: usize,
    pub sites: Vec<crate::crawl::keeper::Asked>,
}

/// Where the docs come from, as `/readyz` and the admin overview show it: the folder, or a
/// published site with its last crawl.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DocsSource {
    /// `folder` or `site`.
    pub kind: &'static str,
    /// The folder's path or the site's URL.
    pub location: String,
    pub pages: usize,
    /// A site's URLs its last crawl could not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failures: Option<usize>,
    /// When a site's last crawl ended (unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_crawl_at: Option<i64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub crawling: bool,
    /// Why a site's last crawl read nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a search may ask for: its query parameter's name, longest query, default and largest
/// number of results.
pub(super) struct SearchRules {
    pub query: &'static str,
    pub max_chars: usize,
    pub default: usize,
    pub max: usize,
}

impl SearchRules {
    /// The query (trimmed) and the number of results, or what is wrong with them.
    pub fn check<'q>(
        &self,
        query: &'q str,
        limit: Option<usize>,
    ) -> ServiceResult<(&'q str, usize)> {
        let (name, query) = (self.query, query.trim());
        if query.is_empty() {
            return Err(bad(&format!("`{name}` is required")));
        }
        if query.chars().count() > self.max_chars {
            return Err(bad(&format!(
                "`{name}` is longer than {} characters",
                self.max_chars
            )));
        }
        match limit {
            None => Ok((query, self.default)),
            Some(n) if (1..=self.max).contains(&n) => Ok((query, n)),
            Some(_) => Err(bad(&format!(
                "`limit` must be a number from 1 to {}",
                self.max
            ))),
        }
    }
}

impl Assistant {
    /// The docs sections that best match `query`, best first (`limit`: 10 unless given, at
    /// most [`SEARCH_MAX_LIMIT`]).
    pub async fn search_docs(&self, query: &str, limit: Option<usize>) -> ServiceResult<Vec<Hit>> {
        let (query, limit) = SearchRules {
            query: "q",
            max_chars: SEARCH_MAX_CHARS,
            default: 10,
            max: SEARCH_MAX_LIMIT,
        }
        .check(query, limit)?;
        Ok(self.docs.search(query, limit).await)
    }

    /// The current index, once the first one is built (503 with a retry before).
    fn indexed(&self) -> ServiceResult<std::sync::Arc<crate::docs::DocsIndex>> {
        if !self.docs.is_ready() {
            return Err(ServiceError::Unavailable(
                "The docs are being indexed; try again in a few seconds.".into(),
            ));
        }
        Ok(self.docs.current())
    }

    /// A docs page rendered for reading (where answers link when no docs site is configured).
    pub fn docs_page(&self, path: &str) -> ServiceResult<DocsPage> {
        let docs = self.indexed()?;
        let page = docs
            .page(path)
            .ok_or_else(|| ServiceError::NotFound(format!("No docs page {path}.")))?;
        Ok(DocsPage {
            title: page.title.clone(),
            html: crate::markdown::render_page(&crate::docs::chunk::annotate_headings(
                &page.markdown,
            )),
        })
    }

    /// `llms.txt` of the docs as indexed now (`full`: `llms-full.txt`, every page's text).
    pub fn llms_txt(&self, full: bool) -> ServiceResult<String> {
        let docs = self.indexed()?;
        Ok(if full {
            docs.llms_full_txt().to_string()
        } else {
            docs.llms_txt(&self.config.assistant_name).to_string()
        })
    }

    /// News of the docs sites (a crawl ended, the index took in their pages); `None` without
    /// `DOCS_SITE_URL`.
    pub fn docs_site_news(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        self.sites.as_ref().map(|s| s.news())
    }

    /// Each source of the docs with its pages (and a site's last crawl).
    pub async fn docs_sources(&self) -> Vec<DocsSource> {
        let mut out = Vec::new();
        if self.config.docs_folder {
            out.push(DocsSource {
                kind: "folder",
                location: self.config.docs_dir.display().to_string(),
                pages: self.docs.folder_pages(),
                failures: None,
                last_crawl_at: None,
                crawling: false,
                error: None,
            });
        }
        if let Some(sites) = &self.sites {
            match sites.status().await {
                Ok(status) => out.extend(status.into_iter().map(|s| DocsSource {
                    kind: "site",
                    location: s.url,
                    pages: s.pages,
                    failures: Some(s.failures),
                    last_crawl_at: s.last_crawl_at,
                    crawling: s.crawling,
                    error: s.error,
                })),
                Err(e) => tracing::warn!(error = %e, "could not read the docs sites' state"),
            }
        }
        out
    }

    /// Re-reads the docs folder now and asks for every site to be crawled now (in the
    /// background), for an operator holding `ADMIN_TOKEN` (`bearer`). The previous index stays
    /// in use when the folder cannot be indexed (a conflict).
    pub async fn reindex_docs(&self, bearer: Option<&str>) -> ServiceResult<Reindexed> {
        self.check_admin(bearer, "Re-indexing over HTTP")?;
        let previous_pages = self.docs.current().stats.pages;
        let sites = self
            .sites
            .as_ref()
            .map(|s| s.crawl_now())
            .unwrap_or_default();
        match self.docs.reindex().await {
            Ok(stats) => Ok(Reindexed {
                stats,
                previous_pages,
                sites,
            }),
            Err(e) => Err(ServiceError::Conflict(format!(
                "{e}. Searches keep using the previous index."
            ))),
        }
    }
}
