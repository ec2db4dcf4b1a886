//! Where a site's pages are: its `robots.txt` (what we may fetch, how slowly, which sitemaps)
//! and its sitemaps (indexes and gzipped ones too). Reading robots.txt is `texting_robots`'s
//! (RFC 9309); sitemaps are read as XML with `quick-xml`.
use std::io::Read;

use quick_xml::events::Event;
use url::Url;

use super::fetch::{Fetched, Fetcher};
use super::{Site, USER_AGENT_NAME};

/// Largest sitemap once unpacked (the sitemaps protocol's own limit).
const MAX_SITEMAP_BYTES: usize = 50 * 1024 * 1024;

/// Most sitemap files read for one site (an index of indexes that never ends stops here).
const MAX_SITEMAPS: usize = 100;

/// A site's `robots.txt` as it applies to us.
pub struct Robots {
    robot: Option<texting_robots::Robot>,
}

impl Robots {
    pub fn allowed(&self, url: &Url) -> bool {
        self.robot.as_ref().is_none_or(|r| r.allowed(url.as_str()))
    }

    /// `Crawl-delay` for us, in seconds.
    pub fn delay(&self) -> Option<f32> {
        self.robot.as_ref().and_then(|r| r.delay)
    }

    fn sitemaps(&self) -> &[String] {
        self.robot.as_ref().map_or(&[], |r| &r.sitemaps)
    }

    /// Reads `robots.txt` at the site's root. None there (4xx) allows everything; one that
    /// cannot be read (5xx, the network) stops the crawl, as RFC 9309 asks: the site may
    /// disallow everything and we cannot tell.
    /// Redirects are followed (at most 5, as RFC 9309 asks), on the configured hosts only.
    pub async fn fetch(site: &Site, fetcher: &Fetcher) -> Result<Self, String> {
        let mut url = site.root().join("/robots.txt").map_err(|e| e.to_string())?;
        for _ in 0..=5 {
            match fetcher.get(&url, None, false, 512 * 1024).await {
                Fetched::Body { bytes, .. } => return Ok(Self::parse(&bytes)),
                Fetched::Redirect(to) if fetcher.serves(&to) => url = to,
                Fetched::Failed(reason) => {
                    return Err(format!("{url} could not be read: {reason}"));
                }
                // None there (4xx), or not where we may go: no rules.
                _ => break,
            }
        }
        Ok(Self { robot: None })
    }

    pub fn parse(txt: &[u8]) -> Self {
        Self {
            robot: texting_robots::Robot::new(USER_AGENT_NAME, txt).ok(),
        }
    }
}

/// The page URLs the site's sitemaps list within the site's prefix that robots.txt allows, at
/// most `cap` of them (with whether there were more): the sitemaps robots.txt names, else
/// `sitemap.xml` at the root and at the prefix.
pub async fn sitemap_pages(
    site: &Site,
    robots: &Robots,
    fetcher: &Fetcher,
    cap: usize,
) -> (Vec<Url>, bool) {
    let mut queue: Vec<Url> = robots
        .sitemaps()
        .iter()
        .filter_map(|s| Url::parse(s).ok())
        .filter(|u| site.same_origin(u))
        .collect();
    if queue.is_empty() {
        for path in [
            "/sitemap.xml".to_string(),
            format!("{}sitemap.xml", site.prefix()),
        ] {
            if let Ok(u) = site.root().join(&path)
                && !queue.contains(&u)
            {
                queue.push(u);
            }
        }
    }
    let mut read = Vec::new();
    let mut pages = Vec::new();
    let mut listed = std::collections::HashSet::new();
    let mut more = false;
    while let Some(url) = queue.pop() {
        if more {
            break;
        }
        if read.contains(&url) || read.len() >= MAX_SITEMAPS {
            continue;
        }
        read.push(url.clone());
        let bytes = match fetcher.get(&url, None, false, MAX_SITEMAP_BYTES).await {
            Fetched::Body { bytes, .. } => bytes,
            Fetched::Failed(reason) => {
                tracing::warn!(sitemap = %url, %reason, "sitemap not read");
                continue;
            }
            _ => continue,
        };
        let Some(xml) = gunzipped(bytes) else {
            tracing::warn!(sitemap = %url, "sitemap not read: bad gzip or over 50 MB");
            continue;
        };
        let found = parse_sitemap(&xml);
        for child in found.sitemaps.iter().filter_map(|s| Url::parse(s).ok()) {
            if site.same_origin(&child) {
                queue.push(child);
            }
        }
        for page in found.pages.iter().filter_map(|p| Url::parse(p).ok()) {
            let page = super::normalized(page);
            if site.contains(&page) && robots.allowed(&page) && listed.insert(page.clone()) {
                if pages.len() == cap {
                    more = true;
                    break;
                }
                pages.push(page);
            }
        }
    }
    (pages, more)
}

/// The bytes, unpacked when they are gzip (by their magic number: servers label `.xml.gz`
/// every which way); None when they do not unpack within the limit.
fn gunzipped(bytes: Vec<u8>) -> Option<Vec<u8>> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Some(bytes);
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .take(MAX_SITEMAP_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .ok()?;
    (out.len() <= MAX_SITEMAP_BYTES).then_some(out)
}

/// What one sitemap file lists.
#[derive(Debug, Default, PartialEq)]
pub struct Sitemap {
    /// `<url><loc>` of a `<urlset>`.
    pub pages: Vec<String>,
    /// `<sitemap><loc>` of a `<sitemapindex>`.
    pub sitemaps: Vec<String>,
}

/// Reads a sitemap or sitemap index (any namespace prefix); what it cannot parse is skipped.
pub fn parse_sitemap(xml: &[u8]) -> Sitemap {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut out = Sitemap::default();
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut loc = String::new();
    let mut buf = Vec::new();
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(Event::Eof) | Err(_) => break,
            Ok(e) => e,
        };
        let in_loc = path.last().is_some_and(|n| n == b"loc");
        match event {
            Event::Start(e) => {
                path.push(e.local_name().as_ref().to_vec());
                loc.clear();
            }
            Event::End(_) => {
                if in_loc {
                    let parent = path.len().checked_sub(2).map(|i| path[i].as_slice());
                    let value = loc.trim().to_string();
                    match parent {
                        Some(b"url") if !value.is_empty() => out.pages.push(value),
                        Some(b"sitemap") if !value.is_empty() => out.sitemaps.push(value),
                        _ => {}
                    }
                }
                path.pop();
            }
            Event::Text(t) if in_loc => loc.push_str(&t.decode().unwrap_or_default()),
            Event::CData(t) if in_loc => loc.push_str(&String::from_utf8_lossy(&t)),
            Event::GeneralRef(r) if in_loc => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    loc.push(c);
                } else if let Ok(name) = r.decode()
                    && let Some(s) = quick_xml::escape::resolve_predefined_entity(&name)
                {
                    loc.push_str(s);
                }
            }
            _ => {}
        }
        buf.clear();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sitemaps_and_indexes_are_read_with_their_entities() {
        let index = br#"<?xml version="1.0" encoding="UTF-8"?>
            <sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
              <sitemap><loc>https://d.example.com/a.xml.gz</loc><lastmod>2026-01-01</lastmod></sitemap>
              <sitemap><loc><![CDATA[https://d.example.com/b.xml]]></loc></sitemap>
            </sitemapindex>"#;
        let got = parse_sitemap(index);
        assert_eq!(
            got.sitemaps,
            [
                "https://d.example.com/a.xml.gz",
                "https://d.example.com/b.xml"
            ]
        );
        assert!(got.pages.is_empty());
        let set = br#"<s:urlset xmlns:s="http://www.sitemaps.org/schemas/sitemap/0.9">
              <s:url><s:loc> https://d.example.com/x/?a=1&amp;b=2 </s:loc></s:url>
              <s:url><s:loc>https://d.example.com/&#121;/</s:loc><s:priority>1</s:priority></s:url>
              <s:url><s:loc>https://d.example.com/broken"#;
        let got = parse_sitemap(set);
        assert_eq!(
            got.pages,
            [
                "https://d.example.com/x/?a=1&b=2",
                "https://d.example.com/y/"
            ]
        );
    }

    #[test]
    fn gzip_is_unpacked_by_its_magic_number_and_capped() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"<urlset/>").unwrap();
        assert_eq!(gunzipped(gz.finish().unwrap()).unwrap(), b"<urlset/>");
        assert_eq!(gunzipped(b"plain".to_vec()).unwrap(), b"plain");
        let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        bomb.write_all(&vec![b' '; MAX_SITEMAP_BYTES + 10]).unwrap();
        assert!(gunzipped(bomb.finish().unwrap()).is_none());
    }

    #[test]
    fn robots_rules_for_our_agent_apply() {
        let robots = Robots::parse(
            b"User-agent: *\nDisallow: /private/\n\nUser-agent: paste-assistant\n\
              Disallow: /drafts/\nCrawl-delay: 2\nSitemap: https://d.example.com/s.xml\n",
        );
        let u = |p: &str| Url::parse(&format!("https://d.example.com{p}")).unwrap();
        assert!(!robots.allowed(&u("/drafts/a/")));
        // Our own group replaces the `*` group (RFC 9309).
        assert!(robots.allowed(&u("/private/a/")));
        assert!(robots.allowed(&u("/docs/")));
        assert_eq!(robots.delay(), Some(2.0));
        assert_eq!(robots.sitemaps(), ["https://d.example.com/s.xml"]);
    }
}
