//! Markdown to safe HTML. Model output and docs text are untrusted: raw HTML is shown as text,
//! only http(s), mailto and relative links survive, images become links, and every link opens
//! in a new tab without access to this page. Code blocks get a language label and a "Copy"
//! button (the page's script copies the block's text).
use pulldown_cmark::{CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd, html};

pub fn render(markdown: &str) -> String {
    render_with(markdown, Options::empty())
}

/// A docs page: like [`render`], and `{#id}` after a heading becomes its anchor.
pub fn render_page(markdown: &str) -> String {
    render_with(markdown, Options::ENABLE_HEADING_ATTRIBUTES)
}

fn render_with(markdown: &str, extra: Options) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS | extra;
    let mut in_image = false;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            dest_url, title, ..
        }) => Event::Html(link_open(&dest_url, &title).into()),
        Event::Start(Tag::Image {
            dest_url, title, ..
        }) => {
            in_image = true;
            Event::Html(link_open(&dest_url, &title).into())
        }
        Event::End(TagEnd::Link) => Event::Html("</a>".into()),
        Event::End(TagEnd::Image) => {
            in_image = false;
            Event::Html("</a>".into())
        }
        Event::Text(t) if in_image && t.is_empty() => Event::Text(CowStr::from("image")),
        Event::Start(Tag::CodeBlock(kind)) => Event::Html(code_block_open(&kind).into()),
        Event::End(TagEnd::CodeBlock) => Event::Html("</code></pre></div>".into()),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 2);
    html::push_html(&mut out, events);
    out
}

/// A code block's frame: a header with the language and a copy button, then `<pre><code>`
/// (focusable, so a long line can be scrolled from the keyboard).
fn code_block_open(kind: &CodeBlockKind) -> String {
    // The first word of the info string, reduced to the characters language names use.
    let language: String = match kind {
        CodeBlockKind::Fenced(info) => info
            .split(|c: char| c.is_whitespace() || c == ',' || c == '{')
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '#' | '-' | '_' | '.'))
            .take(20)
            .collect(),
        CodeBlockKind::Indented => String::new(),
    };
    let (label, class) = if language.is_empty() {
        ("code".to_string(), String::new())
    } else {
        (
            language.to_ascii_lowercase(),
            format!(" class=\"language-{}\"", escape(&language)),
        )
    };
    format!(
        "<div class=\"code-block\"><div class=\"code-head\"><span class=\"code-lang\">{}</span>\
         <button type=\"button\" class=\"copy-code\" aria-label=\"Copy {} code\">Copy</button></div>\
         <pre tabindex=\"0\"><code{class}>",
        escape(&label),
        escape(&label),
    )
}

/// Plain text as HTML that keeps its line breaks (a user's message is shown as typed).
pub fn render_plain(text: &str) -> String {
    format!("<p class=\"plain\">{}</p>", escape(text))
}

fn link_open(dest: &str, title: &str) -> String {
    let href = if is_safe_url(dest) { dest } else { "#" };
    let title = if title.is_empty() {
        String::new()
    } else {
        format!(" title=\"{}\"", escape(title))
    };
    format!(
        "<a href=\"{}\"{title} target=\"_blank\" rel=\"noopener noreferrer\">",
        escape(href)
    )
}

fn is_safe_url(url: &str) -> bool {
    let lower: String = url
        .trim()
        .chars()
        .filter(|c| !c.is_control() && !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    match lower.split_once(':') {
        // A colon before any `/`, `?` or `#` is a scheme.
        Some((scheme, _)) if !scheme.contains(['/', '?', '#']) => {
            matches!(scheme, "http" | "https" | "mailto")
        }
        _ => true,
    }
}

/// The one HTML escape, shared with the browser build.
pub use app::api::escape_html as escape;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::assert_contains;

    #[test]
    fn renders_common_markdown() {
        let html = render(
            "# Title\n\n- a\n- b\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\n```rust\nfn main() {}\n```\n\n[docs](/docs/a.md#b)",
        );
        assert!(html.contains("<h1>Title</h1>"));
        assert!(html.contains("<li>a</li>"));
        assert!(html.contains("<table>"));
        assert!(html.contains("<code class=\"language-rust\">fn main() {}\n</code></pre></div>"));
        assert!(html.contains("<span class=\"code-lang\">rust</span>"));
        assert!(html.contains("class=\"copy-code\""));
        assert!(html.contains(
            "<a href=\"/docs/a.md#b\" target=\"_blank\" rel=\"noopener noreferrer\">docs</a>"
        ));
    }

    #[test]
    fn untrusted_markup_never_becomes_active() {
        for payload in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
            "[x]( JaVaScRiPt:alert(1))",
            "[x](java\tscript:alert(1))",
            "![x](javascript:alert(1))",
            "<svg onload=alert(1)>",
            "<iframe src=\"https://evil\"></iframe>",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "<a href=\"javascript:alert(1)\">x</a>",
        ] {
            let html = render(payload);
            let lower = html.to_lowercase();
            assert!(!lower.contains("<script"), "{payload} → {html}");
            assert!(!lower.contains("<img"), "{payload} → {html}");
            assert!(!lower.contains("<svg"), "{payload} → {html}");
            assert!(!lower.contains("<iframe"), "{payload} → {html}");
            assert!(
                !lower.contains("<a href=\"javascript"),
                "{payload} → {html}"
            );
            assert!(!lower.contains("<a href=\"data"), "{payload} → {html}");
            // Every tag that survives is one the renderer made.
            for tag in lower.split('<').skip(1) {
                let name: String = tag
                    .trim_start_matches('/')
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect();
                assert!(
                    ["p", "a", "em", "strong", "code", "pre", "ul", "li", "ol"]
                        .contains(&name.as_str()),
                    "{payload} → {html}"
                );
            }
        }
    }

    #[test]
    fn code_block_labels_cannot_inject_markup() {
        let html = render("```\"><script>alert(1)</script>\nx\n```\n\n    indented\n");
        assert!(!html.contains("<script"), "{html}");
        assert_contains(&html, "<span class=\"code-lang\">scriptalert1script</span>");
        assert_contains(&html, "<span class=\"code-lang\">code</span>");
        assert_eq!(html.matches("<div class=\"code-block\">").count(), 2);
        assert_eq!(html.matches("</code></pre></div>").count(), 2);
    }

    #[test]
    fn plain_text_is_escaped() {
        assert_eq!(
            render_plain("<b>&"),
            "<p class=\"plain\">&lt;b&gt;&amp;</p>"
        );
    }
}
