//! Published docs sites (`DOCS_SITE_URL`) as a source beside `DOCS_DIR`: each site crawled
//! within its URL prefix from its sitemaps (or, without one, by following its links), politely
//! (robots.txt, [`PER_HOST`] requests at a time, `DOCS_CRAWL_RATE` a second), conditionally
//! (a page that did not change costs a 304), and kept in the database, which `keeper` turns
//! into the index's pages on every instance.
mod discover;
pub mod fetch;
pub mod html;
pub mod keeper;
pub mod sample;

use std::{collections::HashMap, num::NonZeroU32, time::Duration};

use futures_util::{StreamExt, stream};
use url::Url;

use crate::store::{CrawlChanges, SiteFailureRow, SitePageRow};
use discover::Robots;
use fetch::{Fetched, Fetcher};

/// The name robots.txt rules are matched against.
pub const USER_AGENT_NAME: &str = "paste-assistant";
/// What every crawler request says it is.
pub const USER_AGENT: &str = concat!("paste-assistant/", env!("CARGO_PKG_VERSION"));

/// Requests to one host at a time.
pub const PER_HOST: usize = 4;

/// Largest page read; a bigger one is skipped.
pub const MAX_PAGE_BYTES: usize = 5 * 1024 * 1024;

/// File types that are never pages, left out of link-following without a request.
const NOT_PAGES: &[&str] = &[
    ".pdf", ".zip", ".gz", ".tar", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico",
    ".css", ".js", ".mjs", ".json", ".xml", ".txt", ".woff", ".woff2", ".ttf", ".mp4", ".webm",
    ".mp3",
];

/// One configured site: its start page and the prefix its pages are under.
#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    /// As configured (the key it is kept under).
    pub url: String,
    start: Url,
}

impl Site {
    /// An `http(s)` URL; its prefix is its path up to the last `/`
    /// (`https://d.example.com/docs/` and `…/docs/intro` both crawl `/docs/…`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let start = Url::parse(raw.trim()).map_err(|e| format!("{raw:?} is not a URL: {e}"))?;
        if !matches!(start.scheme(), "http" | "https") || start.host_str().is_none() {
            return Err(format!("{raw:?} is not an http(s) URL with a host"));
        }
        Ok(Self {
            url: raw.trim().to_string(),
            start: normalized(start),
        })
    }

    pub fn host(&self) -> String {
        self.start.host_str().unwrap_or_default().to_string()
    }

    fn root(&self) -> Url {
        let mut root = self.start.clone();
        root.set_path("/");
        root.set_query(None);
        root
    }

    /// The path prefix, ending in `/`: the start's folder (`/docs/` of `/docs/`, `/docs` and
    /// `/docs/`; `/guide/` of `/guide/index.html`).
    fn prefix(&self) -> String {
        let path = self.start.path();
        let last = path.rsplit('/').next().unwrap_or("");
        if path.ends_with('/') {
            path.to_string()
        } else if last.contains('.') {
            path[..path.len() - last.len()].to_string()
        } else {
            format!("{path}/")
        }
    }

    fn same_origin(&self, url: &Url) -> bool {
        url.origin() == self.start.origin()
    }

    /// Whether `url` is one of this site's pages (same scheme, host and port; under the prefix,
    /// or the prefix's folder itself without its `/`).
    pub fn contains(&self, url: &Url) -> bool {
        let prefix = self.prefix();
        self.same_origin(url)
            && (url.path().starts_with(&prefix) || url.path() == prefix.trim_end_matches('/'))
    }
}

/// Without its fragment (one page, whichever heading a link points at).
fn normalized(mut url: Url) -> Url {
    url.set_fragment(None);
    url
}

/// How a crawl goes.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Requests a second to one site.
    pub rate: f64,
    pub max_pages: usize,
}

/// What one crawl of a site did.
#[derive(Debug, Default)]
pub struct Crawled {
    pub changes: CrawlChanges,
    /// Pages on the site now (read anew, unchanged, or kept because they could not be read).
    pub pages: usize,
    pub fetched: usize,
    pub not_modified: usize,
    /// Stopped at `DOCS_CRAWL_MAX_PAGES` with pages left.
    pub truncated: bool,
    pub ms: u128,
}

/// Crawls `site` once. `kept` are its pages from the last crawl. An error means nothing could
/// be read (robots.txt unreachable, or no page at all answered): the kept pages stay.
pub async fn crawl_site(
    site: &Site,
    fetcher: &Fetcher,
    limits: Limits,
    kept: &[SitePageRow],
    now: i64,
) -> Result<Crawled, String> {
    let started = std::time::Instant::now();
    let kept: HashMap<&str, &SitePageRow> = kept.iter().map(|p| (p.url.as_str(), p)).collect();
    let robots = Robots::fetch(site, fetcher).await?;
    // The host's rate and concurrency are the fetcher's; a robots.txt `Crawl-delay` slower
    // than that paces this site's pages further.
    let delay = robots
        .delay()
        .map(|d| Duration::from_secs_f64(f64::from(d.clamp(0.0, 60.0))))
        .filter(|d| d.as_secs_f64() * limits.rate > 1.0);
    let gate = delay.map(|d| {
        let quota = governor::Quota::with_period(d)
            .expect("a period above zero")
            .allow_burst(NonZeroU32::MIN);
        governor::RateLimiter::direct(quota)
    });
    let (listed, more) = discover::sitemap_pages(site, &robots, fetcher, limits.max_pages).await;
    let follow = listed.is_empty();
    let mut queue: Vec<Url> = std::iter::once(site.start.clone())
        .filter(|start| robots.allowed(start))
        .collect();
    queue.extend(listed.into_iter().filter(|u| *u != site.start));
    if queue.is_empty() {
        return Err(format!(
            "robots.txt does not let {USER_AGENT_NAME} read {} (nor does a sitemap list a page it may read)",
            site.url
        ));
    }
    let mut seen: std::collections::HashSet<Url> = queue.iter().cloned().collect();
    let mut out = Crawled::default();
    let mut current: Vec<String> = Vec::new();
    let mut visited = 0;
    while !queue.is_empty() && visited < limits.max_pages {
        let take = queue.len().min(limits.max_pages - visited);
        let wave: Vec<Url> = queue.drain(..take).collect();
        visited += wave.len();
        // Each answer is handled as it comes (a page's body is not held past its turn).
        let mut results = stream::iter(wave)
            .map(|url| {
                let (fetcher, gate, kept) = (fetcher, &gate, &kept);
                async move {
                    if let Some(gate) = gate {
                        gate.until_ready().await;
                    }
                    let validators = kept
                        .get(url.as_str())
                        .map(|p| (p.etag.as_deref(), p.last_modified.as_deref()));
                    let got = fetcher.get(&url, validators, true, MAX_PAGE_BYTES).await;
                    (url, got)
                }
            })
            .buffer_unordered(PER_HOST);
        while let Some((url, got)) = results.next().await {
            let earlier = kept.get(url.as_str()).copied();
            let mut fail = |reason: String| {
                out.changes.failures.push(SiteFailureRow {
                    url: url.to_string(),
                    site: site.url.clone(),
                    reason,
                    at: now,
                });
            };
            // The links to follow, and whether to follow them even without link-following
            // (a redirect's target).
            let (links, forced): (Vec<String>, bool) = match got {
                Fetched::Body {
                    bytes,
                    content_type,
                    etag,
                    last_modified,
                } => {
                    out.fetched += 1;
                    // Parsing a page takes milliseconds (a 5 MB one, tens): off the threads
                    // that answer readers.
                    let at = url.clone();
                    let parsed = tokio::task::spawn_blocking(move || {
                        html::extract(&html::decode(&bytes, content_type.as_deref()), &at)
                    });
                    let Ok(page) = parsed.await else {
                        fail("its HTML could not be read".into());
                        continue;
                    };
                    // Links are kept only where the crawl follows them (no sitemap): a page's
                    // nav may hold thousands, and a 304 next time must still find them.
                    let kept_links = if follow {
                        page.links
                            .iter()
                            .map(Url::as_str)
                            .collect::<Vec<_>>()
                            .join("\n")
                    } else {
                        String::new()
                    };
                    let row = SitePageRow {
                        url: url.to_string(),
                        site: site.url.clone(),
                        title: page.title,
                        description: page.description,
                        markdown: page.markdown,
                        links: kept_links,
                        etag,
                        last_modified,
                        fetched_at: now,
                    };
                    let links = page.links.iter().map(|u| u.to_string()).collect();
                    if earlier != Some(&row) {
                        out.changes.upserted.push(row);
                    }
                    current.push(url.to_string());
                    (links, false)
                }
                Fetched::NotModified => match earlier {
                    Some(p) => {
                        out.not_modified += 1;
                        current.push(url.to_string());
                        (p.links.lines().map(str::to_string).collect(), false)
                    }
                    None => {
                        fail("304 Not Modified for a page never read".into());
                        (Vec::new(), false)
                    }
                },
                Fetched::Gone(status) => {
                    fail(format!("HTTP {status}: not on the site"));
                    (Vec::new(), false)
                }
                Fetched::Redirect(to) => {
                    let to = normalized(to);
                    if site.contains(&to) && robots.allowed(&to) {
                        (vec![to.to_string()], true)
                    } else {
                        fail(format!("redirects to {to}, outside the site: not followed"));
                        (Vec::new(), false)
                    }
                }
                Fetched::Skipped(reason) => {
                    fail(format!("skipped: {reason}"));
                    (Vec::new(), false)
                }
                Fetched::Failed(reason) => {
                    tracing::warn!(page = %url, %reason, "docs page not read; tried again next crawl");
                    fail(reason);
                    if earlier.is_some() {
                        current.push(url.to_string());
                    }
                    (Vec::new(), false)
                }
            };
            if !(follow || forced) {
                continue;
            }
            for link in links.iter().filter_map(|l| Url::parse(l).ok()) {
                let link = normalized(link);
                let path = link.path().to_ascii_lowercase();
                let wanted = site.contains(&link)
                    && link.query().is_none()
                    && !NOT_PAGES.iter().any(|e| path.ends_with(e))
                    && robots.allowed(&link);
                if wanted && seen.insert(link.clone()) {
                    queue.push(link);
                }
            }
        }
    }
    if !queue.is_empty() || more {
        out.truncated = true;
        tracing::warn!(
            site = %site.url,
            max = limits.max_pages,
            left = queue.len(),
            "docs site has more pages than DOCS_CRAWL_MAX_PAGES: the rest are not indexed"
        );
    }
    // Not one page: the site is down, moved or misconfigured rather than emptied, so what was
    // read before stays (a 404 for every page would otherwise remove them all).
    if current.is_empty() {
        let why = out.changes.failures.first().map(|f| f.reason.clone());
        return Err(format!(
            "no page of {} could be read ({})",
            site.url,
            why.unwrap_or_default()
        ));
    }
    let on_site: std::collections::HashSet<&str> = current.iter().map(String::as_str).collect();
    out.changes.removed = kept
        .keys()
        .filter(|u| !on_site.contains(*u))
        .map(|u| u.to_string())
        .collect();
    out.pages = current.len();
    out.ms = started.elapsed().as_millis();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_is_the_folder_of_its_address() {
        let url = |u: &str| Url::parse(u).unwrap();
        for (start, inside, outside) in [
            (
                "https://d.example.com/",
                "https://d.example.com/a/b/",
                "http://d.example.com/a/",
            ),
            (
                "https://e.com/docs",
                "https://e.com/docs/intro/",
                "https://e.com/blog/",
            ),
            (
                "https://e.com/docs/",
                "https://e.com/docs",
                "https://e.com/docsearch/",
            ),
            (
                "https://e.com/g/index.html",
                "https://e.com/g/api.html",
                "https://e.com/",
            ),
            (
                "https://e.com:8443/d/",
                "https://e.com:8443/d/x",
                "https://e.com/d/x",
            ),
        ] {
            let site = Site::parse(start).unwrap();
            assert!(site.contains(&url(inside)), "{start} holds {inside}");
            assert!(
                !site.contains(&url(outside)),
                "{start} does not hold {outside}"
            );
        }
        assert!(Site::parse("ftp://e.com/").is_err());
        assert!(Site::parse("not a url").is_err());
    }

    /// A site on a local port whose robots.txt is `robots` and whose every page is one line.
    async fn site_with_robots(robots: &'static str) -> (Site, Fetcher) {
        site_with(robots, axum::http::StatusCode::OK).await
    }

    /// A site whose every page but robots.txt answers `status`.
    async fn site_with(robots: &'static str, status: axum::http::StatusCode) -> (Site, Fetcher) {
        let page = move || async move {
            let html = axum::response::Html("<main><h1>Page</h1><p>Text.</p></main>");
            (status, html)
        };
        let app = axum::Router::new()
            .route(
                "/robots.txt",
                axum::routing::get(move || async move { robots }),
            )
            .fallback(page);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let site = Site::parse(&format!("http://{addr}/docs/")).unwrap();
        let fetcher = Fetcher::new(&[site.host()], 1000.0, Duration::from_secs(5)).await;
        (site, fetcher)
    }

    const LIMITS: Limits = Limits {
        rate: 1000.0,
        max_pages: 10,
    };

    #[tokio::test]
    async fn a_site_whose_robots_txt_disallows_us_is_not_read() {
        let (site, fetcher) = site_with_robots("User-agent: *\nDisallow: /\n").await;
        let err = crawl_site(&site, &fetcher, LIMITS, &[], 0)
            .await
            .unwrap_err();
        assert!(
            err.contains("robots.txt does not let paste-assistant"),
            "{err}"
        );
        let (site, fetcher) =
            site_with_robots("User-agent: paste-assistant\nDisallow: /docs/\n").await;
        assert!(crawl_site(&site, &fetcher, LIMITS, &[], 0).await.is_err());
        let (site, fetcher) = site_with_robots("User-agent: otherbot\nDisallow: /\n").await;
        let crawled = crawl_site(&site, &fetcher, LIMITS, &[], 0).await.unwrap();
        assert_eq!(crawled.pages, 1);
        assert_eq!(crawled.changes.upserted[0].title, "Page");
    }

    #[tokio::test]
    async fn a_site_that_answers_no_page_keeps_what_was_read() {
        let (site, fetcher) = site_with("", axum::http::StatusCode::NOT_FOUND).await;
        let kept = SitePageRow {
            url: format!("{}", site.start),
            site: site.url.clone(),
            title: "Page".into(),
            description: None,
            markdown: "# Page\n\nText.\n".into(),
            links: String::new(),
            etag: None,
            last_modified: None,
            fetched_at: 0,
        };
        let err = crawl_site(&site, &fetcher, LIMITS, &[kept], 1)
            .await
            .unwrap_err();
        assert!(err.contains("no page") && err.contains("404"), "{err}");
    }
}
