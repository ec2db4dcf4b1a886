//! A docs folder published as a website, as a docs team's would be: every page in a template
//! with a header, a nav, a sidebar, a cookie banner and a footer around an `<article>`, headings
//! with ids, a sitemap index (one sitemap gzipped) and a robots.txt. What the crawl tests and
//! benchmarks read, on a local port; [`SampleSite::with_traps`] adds what a real site has wrong.
use std::{
    collections::BTreeMap,
    io::Write,
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    extract::State,
    http::{HeaderMap, Response, StatusCode, Uri, header},
};

use crate::docs::{Page, chunk, read_folder};
use crate::markdown::escape;

/// Where the pages are served.
pub const PREFIX: &str = "/docs/";

#[derive(Clone, Default)]
pub struct SampleSite {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    /// Route → (title, description, article HTML).
    pages: BTreeMap<String, (String, Option<String>, String)>,
    traps: bool,
    slow: Duration,
    /// Every 503 while the site is down.
    down: bool,
    /// (path, status) of every response, in order.
    served: Vec<(String, u16)>,
}

/// `components/button/index.mdx` → `/docs/components/button/`.
pub fn route_of(path: &str) -> String {
    let stem = path
        .trim_end_matches(".mdx")
        .trim_end_matches(".md")
        .trim_end_matches("index")
        .trim_end_matches('/');
    if stem.is_empty() {
        PREFIX.to_string()
    } else {
        format!("{PREFIX}{stem}/")
    }
}

fn article(page: &Page) -> String {
    crate::markdown::render_page(&chunk::annotate_headings(&page.markdown))
}

impl SampleSite {
    /// Every page of `dir` at [`route_of`] its path.
    pub fn from_folder(dir: &Path) -> Self {
        let site = Self::default();
        for page in read_folder(dir) {
            site.put(&route_of(&page.path), &page);
        }
        site
    }

    /// Adds a page disallowed by robots.txt, a 404, a redirect inside the site and one to
    /// another host, a page slower than `slow`, one over 5 MB, a PDF (all in the sitemap) and
    /// an endless chain of linked pages under `/loop/` (no sitemap there).
    pub fn with_traps(self, slow: Duration) -> Self {
        {
            let mut inner = self.inner.lock().unwrap();
            inner.traps = true;
            inner.slow = slow;
        }
        let secret = chunk::parse_page("private.md", "# Private\n\nThe zanzibar secret.\n");
        self.put(&format!("{PREFIX}private/secret/"), &secret);
        self
    }

    /// Adds or replaces the page at `route` (`/docs/…/`).
    pub fn put(&self, route: &str, page: &Page) {
        let entry = (page.title.clone(), page.description.clone(), article(page));
        self.inner
            .lock()
            .unwrap()
            .pages
            .insert(route.to_string(), entry);
    }

    pub fn remove(&self, route: &str) -> bool {
        self.inner.lock().unwrap().pages.remove(route).is_some()
    }

    /// The routes of the pages (without the traps).
    pub fn routes(&self) -> Vec<String> {
        self.inner.lock().unwrap().pages.keys().cloned().collect()
    }

    /// (path, status) of every response since the last call, in order.
    pub fn take_served(&self) -> Vec<(String, u16)> {
        std::mem::take(&mut self.inner.lock().unwrap().served)
    }

    /// The paths answered with `status` so far (the log is kept).
    pub fn served_with(&self, status: u16) -> Vec<String> {
        let inner = self.inner.lock().unwrap();
        inner
            .served
            .iter()
            .filter(|(_, s)| *s == status)
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Takes the whole site down (every answer a 503) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.inner.lock().unwrap().down = down;
    }

    pub fn router(&self) -> Router {
        Router::new().fallback(serve).with_state(self.clone())
    }
}

fn respond(status: StatusCode, kind: &str, body: impl Into<Body>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, kind)
        .body(body.into())
        .expect("a valid response")
}

async fn serve(State(site): State<SampleSite>, uri: Uri, headers: HeaderMap) -> Response<Body> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string();
    let down = site.inner.lock().unwrap().down;
    let response = if down {
        respond(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "down for maintenance",
        )
    } else {
        answer(&site, uri.path(), &host, &headers).await
    };
    let mut inner = site.inner.lock().unwrap();
    inner
        .served
        .push((uri.path().to_string(), response.status().as_u16()));
    response
}

async fn answer(site: &SampleSite, path: &str, host: &str, headers: &HeaderMap) -> Response<Body> {
    let (traps, slow) = {
        let inner = site.inner.lock().unwrap();
        (inner.traps, inner.slow)
    };
    let xml = "application/xml";
    match path {
        "/robots.txt" => respond(
            StatusCode::OK,
            "text/plain",
            format!(
                "User-agent: *\nDisallow: {PREFIX}private/\n\nSitemap: http://{host}/sitemap_index.xml\n"
            ),
        ),
        "/sitemap_index.xml" => respond(
            StatusCode::OK,
            xml,
            format!(
                "<?xml version=\"1.0\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
                 <sitemap><loc>http://{host}/sitemaps/pages.xml.gz</loc></sitemap>\
                 <sitemap><loc>http://{host}/sitemaps/more.xml</loc></sitemap></sitemapindex>"
            ),
        ),
        "/sitemaps/pages.xml.gz" | "/sitemaps/more.xml" => {
            let mut routes = site.routes();
            if traps {
                for t in [
                    "missing/",
                    "old-guide/",
                    "away/",
                    "slow/",
                    "huge/",
                    "manual.pdf",
                ] {
                    routes.push(format!("{PREFIX}{t}"));
                }
            }
            let half = routes.len() / 2;
            let (first, second) = routes.split_at(half);
            let mine = if path.ends_with(".gz") { first } else { second };
            let urls: String = mine
                .iter()
                .map(|r| format!("<url><loc>http://{host}{r}</loc></url>"))
                .collect();
            let body = format!(
                "<?xml version=\"1.0\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{urls}</urlset>"
            );
            if path.ends_with(".gz") {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(body.as_bytes()).expect("gzip in memory");
                respond(
                    StatusCode::OK,
                    "application/gzip",
                    gz.finish().expect("gzip"),
                )
            } else {
                respond(StatusCode::OK, xml, body)
            }
        }
        _ if traps => trap(site, path, host, slow)
            .await
            .unwrap_or_else(|| page(site, path, headers)),
        _ => page(site, path, headers),
    }
}

async fn trap(site: &SampleSite, path: &str, host: &str, slow: Duration) -> Option<Response<Body>> {
    let redirect = |to: String| {
        Response::builder()
            .status(StatusCode::MOVED_PERMANENTLY)
            .header(header::LOCATION, to)
            .body(Body::empty())
            .expect("a valid response")
    };
    let other_host = host.replace("127.0.0.1", "localhost");
    let first_route = site.routes().into_iter().find(|r| !r.contains("private"))?;
    Some(match path.strip_prefix(PREFIX).unwrap_or(path) {
        "old-guide/" => redirect(first_route),
        "away/" => redirect(format!("http://{other_host}{first_route}")),
        "slow/" => {
            tokio::time::sleep(slow).await;
            respond(StatusCode::OK, "text/html", "<main><h1>Slow</h1></main>")
        }
        "huge/" => respond(
            StatusCode::OK,
            "text/html; charset=utf-8",
            format!(
                "<main><h1>Huge</h1>{}</main>",
                "<p>padding words</p>".repeat(400_000)
            ),
        ),
        "manual.pdf" => respond(StatusCode::OK, "application/pdf", "%PDF-1.4 not a page"),
        _ => match path.strip_prefix("/loop/") {
            Some(rest) => {
                let n: u64 = rest.trim_end_matches('/').parse().unwrap_or(0);
                respond(
                    StatusCode::OK,
                    "text/html",
                    format!(
                        "<main><h1>Loop {n}</h1><p>Page {n} of a chain that never ends.</p>\
                         <a href=\"/loop/{}/\">next</a> <a href=\"/loop/\">first</a></main>",
                        n + 1
                    ),
                )
            }
            None => return None,
        },
    })
}

fn page(site: &SampleSite, path: &str, headers: &HeaderMap) -> Response<Body> {
    let inner = site.inner.lock().unwrap();
    let Some((title, description, body)) = inner.pages.get(path) else {
        return respond(StatusCode::NOT_FOUND, "text/html", "<h1>Not found</h1>");
    };
    let nav: String = inner
        .pages
        .iter()
        .filter(|(r, _)| !r.contains("private"))
        .map(|(r, (t, _, _))| format!("<li><a href=\"{r}\">{}</a></li>", escape(t)))
        .collect();
    let meta = description
        .as_ref()
        .map(|d| format!("<meta name=\"description\" content=\"{}\">", escape(d)))
        .unwrap_or_default();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{t} | Sample docs</title>{meta}<style>body{{font:16px sans-serif}}</style></head>\
         <body><div class=\"cookie-consent\">We use cookies to improve the docs. Accept all?</div>\
         <header class=\"site-header\"><a href=\"{PREFIX}\">Sample docs</a> \
         <nav class=\"top\"><a href=\"{PREFIX}\">Home</a> <a href=\"/blog/\">Blog</a></nav></header>\
         <div class=\"layout\"><aside class=\"sidebar\"><nav><ul>{nav}</ul></nav></aside>\
         <main><article>{body}</article>\
         <nav class=\"pagination-nav\"><a href=\"{PREFIX}\">Previous page</a></nav></main></div>\
         <footer>© Sample docs team. Built with a static site generator.</footer>\
         <script>window.analytics = 'tracking pixel';</script></body></html>",
        t = escape(title),
    );
    let etag = {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        html.hash(&mut hasher);
        format!("\"{:016x}\"", hasher.finish())
    };
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header(header::ETAG, etag)
            .body(Body::empty())
            .expect("a valid response");
    }
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::ETAG, etag)
        .body(Body::from(html))
        .expect("a valid response")
}
