//! Which part of a page is its content, and which elements never are.
use scraper::{ElementRef, Html, node::Element};

use super::selector;

/// Elements that are never content, wherever they are.
const NEVER: &[&str] = &[
    "nav", "footer", "aside", "script", "style", "noscript", "template", "svg", "canvas", "form",
    "button", "iframe", "dialog", "select", "input", "textarea", "object", "embed", "head", "link",
    "meta",
];

/// ARIA roles of the page's frame rather than its content.
const FRAME_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "dialog",
    "alertdialog",
];

/// Class or id words of the frame that themes mark with classes rather than elements: cookie
/// banners, sidebars, breadcrumbs, tables of contents, "edit this page", previous/next.
const FRAME_MARKS: &[&str] = &[
    "cookie",
    "consent",
    "gdpr",
    "sidebar",
    "breadcrumb",
    "table-of-contents",
    "tableofcontents",
    "pagination-nav",
    "edit-this-page",
    "skip-link",
    "skip-to-content",
];

/// Whether `el` (and all it holds) is left out of the content.
pub(super) fn skipped(el: &Element) -> bool {
    let name = el.name();
    if NEVER.contains(&name) {
        return true;
    }
    // Hidden, but not the other tabs of a tab set (npm | yarn | pnpm): those are content the
    // reader reaches with a click.
    let tab = el.attr("role") == Some("tabpanel");
    if (el.attr("hidden").is_some() && !tab) || el.attr("aria-hidden") == Some("true") {
        return true;
    }
    if let Some(role) = el.attr("role")
        && FRAME_ROLES.contains(&role.trim())
    {
        return true;
    }
    // Headings are content whatever they are called ("Sidebar", "Skip links"), and so are the
    // sections Sphinx wraps them in (`<section id="sidebar">`): an id counts only when it is a
    // frame's whole name, a class when it holds one.
    if matches!(
        name,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "section" | "article" | "main"
    ) {
        return false;
    }
    let id = el.id().unwrap_or("").to_ascii_lowercase();
    let class = el.attr("class").unwrap_or("").to_ascii_lowercase();
    FRAME_MARKS.contains(&id.as_str())
        || matches!(id.as_str(), "toc" | "nav" | "navbar" | "header" | "footer")
        || FRAME_MARKS.iter().any(|f| class.contains(f))
        || class
            .split(|c: char| c.is_whitespace() || c == '-' || c == '_')
            .any(|w| w == "toc")
}

/// The page's content: the `<article>` with the most text (inside `<main>` when there is one),
/// else `<main>` or `role="main"`, else the element that holds most of the body's text.
pub(super) fn main_content(doc: &Html) -> ElementRef<'_> {
    let main = doc
        .select(&selector("main, [role=\"main\"]"))
        .max_by_key(|e| text_len(*e));
    let scope = main.unwrap_or_else(|| doc.root_element());
    let article = scope
        .select(&selector("article"))
        .filter(|a| !skipped(a.value()))
        .max_by_key(|e| text_len(*e))
        .filter(|a| text_len(*a) > 0);
    if let Some(article) = article {
        // A page of many articles (a blog index) is its main, not one of them.
        let all = main.map_or(0, text_len);
        if all == 0 || text_len(article) * 2 >= all {
            return article;
        }
    }
    if let Some(main) = main {
        return main;
    }
    let body = doc
        .select(&selector("body"))
        .next()
        .unwrap_or_else(|| doc.root_element());
    densest(body)
}

/// Goes down from `el` while one child holds at least 60% of its text, skipping the frame
/// (`header` too: outside the content it is the site's banner).
fn densest(mut el: ElementRef<'_>) -> ElementRef<'_> {
    loop {
        let total = text_len(el);
        let best = el
            .child_elements()
            .filter(|c| !skipped(c.value()) && c.value().name() != "header")
            .max_by_key(|c| text_len(*c));
        match best {
            // Not past the page's title: a child without the `<h1>` beside it is part of
            // the content, not all of it.
            Some(child)
                if total > 0 && text_len(child) * 10 >= total * 6 && h1s(child) == h1s(el) =>
            {
                el = child
            }
            _ => return el,
        }
    }
}

/// Characters of text in `el`, the skipped parts left out.
pub(super) fn text_len(el: ElementRef) -> usize {
    let mut n = 0;
    for child in el.children() {
        if let Some(text) = child.value().as_text() {
            n += text.trim().len();
        } else if let Some(e) = ElementRef::wrap(child)
            && !skipped(e.value())
        {
            n += text_len(e);
        }
    }
    n
}

fn h1s(el: ElementRef) -> usize {
    el.select(&selector("h1")).count()
}
