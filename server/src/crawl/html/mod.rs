//! A published page's HTML to the Markdown the index reads: the main content only, headings
//! with their own `id` as the anchor (`## Variants {#variants}`), code blocks whole with their
//! language, tables as tables. The rules are ours; the parsing is html5ever's (through
//! `scraper`), which reads any page as a browser would.
mod content;
#[cfg(test)]
mod tests;
mod writer;

use scraper::{ElementRef, Html, Selector};
use url::Url;

/// What a page holds for the index.
#[derive(Clone, Debug, PartialEq)]
pub struct Extracted {
    pub title: String,
    pub description: Option<String>,
    /// The main content as Markdown, headings with their anchors.
    pub markdown: String,
    /// Links of the whole page (navigation included: that is how a crawl finds pages), made
    /// absolute, without their fragment.
    pub links: Vec<Url>,
}

/// A page's text: in the charset its `Content-Type` names, else its `<meta charset>` (or
/// `http-equiv`), else UTF-8; a byte-order mark wins over both.
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> String {
    let label = |text: &str| {
        let lower = text.to_ascii_lowercase();
        let at = lower.find("charset=")? + "charset=".len();
        let rest = lower[at..].trim_start_matches(['"', '\'', ' ']);
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.:".contains(c)))
            .unwrap_or(rest.len());
        encoding_rs::Encoding::for_label(&rest.as_bytes()[..end])
    };
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]);
    let encoding = content_type
        .and_then(label)
        .or_else(|| label(&head))
        .unwrap_or(encoding_rs::UTF_8);
    encoding.decode(bytes).0.into_owned()
}

/// Reads one page fetched from `url`.
pub fn extract(html: &str, url: &Url) -> Extracted {
    let doc = Html::parse_document(html);
    let base = base_url(&doc, url);
    let links = links(&doc, &base);
    let root = content::main_content(&doc);
    let markdown = writer::markdown(root);
    let description = meta(&doc, "description").or_else(|| meta(&doc, "og:description"));
    let title = first(root, "h1")
        .or_else(|| meta(&doc, "og:title"))
        .or_else(|| first(doc.root_element(), "title").map(|t| site_suffix_removed(&t).to_string()))
        .unwrap_or_default();
    Extracted {
        title,
        description,
        markdown,
        links,
    }
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("a valid selector")
}

/// The first `css` element's text, spaces collapsed, if it has any.
fn first(root: ElementRef, css: &str) -> Option<String> {
    root.select(&selector(css))
        .map(|e| collapse(&writer::heading_text(e)))
        .find(|t| !t.is_empty())
}

/// `<meta name=…>` or `<meta property=…>` content.
fn meta(doc: &Html, name: &str) -> Option<String> {
    let css = format!("meta[name=\"{name}\"], meta[property=\"{name}\"]");
    doc.select(&selector(&css))
        .filter_map(|m| m.attr("content"))
        .map(collapse)
        .find(|t| !t.is_empty())
}

/// `Button | Paste design system` → `Button`: a `<title>` usually ends with the site's name.
fn site_suffix_removed(title: &str) -> &str {
    [" | ", " – ", " — ", " · ", " - "]
        .iter()
        .filter_map(|sep| title.split_once(sep).map(|(page, _)| page.trim()))
        .find(|page| !page.is_empty())
        .unwrap_or(title)
}

/// The document's `<base href>` resolved against its address, else its address.
fn base_url(doc: &Html, url: &Url) -> Url {
    doc.select(&selector("base[href]"))
        .filter_map(|b| b.attr("href"))
        .find_map(|href| url.join(href).ok())
        .unwrap_or_else(|| url.clone())
}

fn links(doc: &Html, base: &Url) -> Vec<Url> {
    let mut out: Vec<Url> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for a in doc.select(&selector("a[href]")) {
        let rel = a.attr("rel").unwrap_or("");
        if rel.split_whitespace().any(|r| r == "nofollow") {
            continue;
        }
        let Some(mut link) = a.attr("href").and_then(|h| base.join(h.trim()).ok()) else {
            continue;
        };
        link.set_fragment(None);
        if matches!(link.scheme(), "http" | "https") && seen.insert(link.clone()) {
            out.push(link);
        }
    }
    out
}

/// Whitespace runs to one space, trimmed.
pub(crate) fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
