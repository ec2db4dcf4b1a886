use super::*;
use crate::test_support::assert_contains;

fn page(body: &str) -> Extracted {
    let html = format!(
        "<!doctype html><html><head><title>Button | Example docs</title>\
         <meta name=\"description\" content=\"Buttons start actions.\"></head>\
         <body>{body}</body></html>"
    );
    extract(
        &html,
        &Url::parse("https://docs.example.com/components/button/").unwrap(),
    )
}

const FRAME: &str = "<header class=\"navbar\"><a href=\"/\">Example docs</a> Site banner</header>\
    <nav><a href=\"/components/alert/\">Alert</a> <a href=\"/components/card/\">Card</a></nav>\
    <div class=\"cookie-banner\">We use cookies. Accept?</div>";

#[test]
fn the_content_is_the_article_without_the_frame() {
    let got = page(&format!(
        "{FRAME}<div class=\"wrapper\"><aside class=\"theme-doc-sidebar\">Sidebar link list</aside>\
         <main><article><header><h1 id=\"button\">Button<a class=\"hash-link\" href=\"#button\">\u{200b}</a></h1></header>\
         <p>A <strong>button</strong> starts an <code>action</code>.</p>\
         <h2 id=\"variants\">Variants<a href=\"#variants\" aria-label=\"Direct link\">#</a></h2>\
         <p>Primary and secondary.</p><div class=\"toc\">On this page: Variants</div>\
         <script>track()</script><style>p{{}}</style></article>\
         <nav class=\"pagination-nav\">Previous Next</nav></main></div>\
         <footer>Copyright footer text</footer>"
    ));
    assert_eq!(got.title, "Button");
    assert_eq!(got.description.as_deref(), Some("Buttons start actions."));
    assert_eq!(
        got.markdown,
        "# Button {#button}\n\nA button starts an `action`.\n\n## Variants {#variants}\n\n\
         Primary and secondary.\n"
    );
    for frame in [
        "banner",
        "cookies",
        "Sidebar",
        "Copyright",
        "track",
        "On this page",
        "Next",
    ] {
        assert!(!got.markdown.contains(frame), "{frame} in {}", got.markdown);
    }
    let links: Vec<&str> = got.links.iter().map(Url::as_str).collect();
    assert!(
        links.contains(&"https://docs.example.com/components/alert/"),
        "{links:?}"
    );
    assert!(
        links.contains(&"https://docs.example.com/components/button/"),
        "{links:?}"
    );
}

#[test]
fn code_keeps_its_lines_and_language_and_tables_stay_tables() {
    let got = page(
        "<main><h1>Button</h1><div class=\"language-tsx\"><pre class=\"prism\"><code>\
         <span class=\"line-number\">1</span><span>import {Button} from '@twilio-paste/core';</span>\n\
         <span class=\"line-number\">2</span>&lt;Button variant=\"primary\"&gt;Save&lt;/Button&gt;</code>\
         <button>Copy</button></pre></div>\
         <table><thead><tr><th>Prop</th><th>Type</th></tr></thead>\
         <tbody><tr><td>variant</td><td><code>'primary' | 'secondary'</code></td></tr></tbody></table>\
         <ul><li>One<ul><li>Nested</li></ul></li><li>Two</li></ul></main>",
    );
    assert_contains(
        &got.markdown,
        "```tsx\nimport {Button} from '@twilio-paste/core';\n<Button variant=\"primary\">Save</Button>\n```",
    );
    assert!(!got.markdown.contains("Copy"));
    assert!(
        got.markdown
            .contains("| Prop | Type |\n| --- | --- |\n| variant | `'primary' \\| 'secondary'` |"),
        "{}",
        got.markdown
    );
    assert_contains(&got.markdown, "- One\n  - Nested\n- Two");
}

#[test]
fn without_main_or_article_the_densest_block_is_the_content() {
    let got = page(&format!(
        "{FRAME}<div id=\"layout\"><div class=\"menu\"><a href=\"/a\">A</a></div>\
         <div class=\"body\"><h1>Sphinx page</h1><section id=\"install\"><h2>Install\
         <a class=\"headerlink\" href=\"#install\">¶</a></h2><p>Run the installer with the \
         flags you need, then start it. This paragraph is most of the page's text.</p>\
         </section></div></div>"
    ));
    assert_eq!(got.title, "Sphinx page");
    assert!(
        got.markdown.starts_with("# Sphinx page\n"),
        "{}",
        got.markdown
    );
    assert_contains(&got.markdown, "## Install {#install}\n");
    assert!(!got.markdown.contains("Site banner"), "{}", got.markdown);
}

#[test]
fn the_title_falls_back_to_the_title_element_without_the_site_name() {
    let got = page("<main><p>Only prose here.</p></main>");
    assert_eq!(got.title, "Button");
    assert_eq!(got.markdown, "Only prose here.\n");
}

#[test]
fn prose_that_looks_like_markdown_structure_stays_prose() {
    let got = page("<main><h1>T</h1><p># not a heading</p><p>``` not a fence</p></main>");
    let page = crate::docs::chunk::from_markdown("u", None, None, got.markdown);
    assert_eq!(page.sections.len(), 1, "{:?}", page.sections);
}

#[test]
fn headings_and_sections_named_like_the_frame_are_content() {
    let got = page(
        "<main><h1>Sidebar</h1><section id=\"sidebar-ingredients\"><h2 id=\"sidebar-ingredients\">\
         Sidebar ingredients</h2><p>A sidebar holds navigation.</p></section>\
         <section id=\"skip-links\"><h2 id=\"skip-links\">Skip links</h2><p>Let keyboards jump.</p>\
         </section><div id=\"toc\">Contents</div></main>",
    );
    assert_contains(
        &got.markdown,
        "## Sidebar ingredients {#sidebar-ingredients}\n\nA sidebar holds navigation.",
    );
    assert_contains(&got.markdown, "## Skip links {#skip-links}");
    assert!(!got.markdown.contains("Contents"), "{}", got.markdown);
}

#[test]
fn pages_are_read_in_their_charset() {
    let latin1 =
        b"<html><head><meta charset=\"iso-8859-1\"></head><main><p>Caf\xe9</p></main></html>";
    assert!(decode(latin1, None).contains("Café"));
    assert!(decode(b"<p>Caf\xe9</p>", Some("text/html; charset=ISO-8859-1")).contains("Café"));
    let equiv = b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\"><p>\x93q\x94</p>";
    assert!(decode(equiv, None).contains("\u{201c}q\u{201d}"));
    assert_eq!(
        decode("<p>Café</p>".as_bytes(), Some("text/html")),
        "<p>Café</p>"
    );
}

#[test]
fn every_tab_of_a_tab_set_is_content_but_hidden_chrome_is_not() {
    let got = page(
        "<main><h1>Install</h1><div role=\"tablist\"><button>npm</button><button>yarn</button></div>\
         <div role=\"tabpanel\"><pre><code class=\"language-sh\">npm install paste</code></pre></div>\
         <div role=\"tabpanel\" hidden><pre><code class=\"language-sh\">yarn add paste</code></pre></div>\
         <div hidden>Mobile menu</div><span aria-hidden=\"true\">★</span></main>",
    );
    assert_contains(&got.markdown, "```sh\nnpm install paste\n```");
    assert_contains(&got.markdown, "```sh\nyarn add paste\n```");
    assert!(
        !got.markdown.contains("Mobile menu") && !got.markdown.contains('★'),
        "{}",
        got.markdown
    );
}
