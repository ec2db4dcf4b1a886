//! The content's elements written as Markdown, the form every docs page is indexed in.
use scraper::{ElementRef, node::Element};

use super::{collapse, content::skipped};

/// `root`'s content as Markdown: blocks separated by blank lines.
pub(super) fn markdown(root: ElementRef) -> String {
    let mut w = Writer::default();
    w.children(root);
    w.flush();
    w.out.trim_end().to_string() + "\n"
}

/// A heading's text without the "¶" or "#" link that themes add beside it.
pub(super) fn heading_text(el: ElementRef) -> String {
    let mut out = String::new();
    for child in el.children() {
        if let Some(text) = child.value().as_text() {
            out.push_str(text);
        } else if let Some(e) = ElementRef::wrap(child) {
            if skipped(e.value()) {
                continue;
            }
            let inner = heading_text(e);
            let symbol_only = !inner.chars().any(char::is_alphanumeric);
            if e.value().name() == "a" && symbol_only {
                continue;
            }
            out.push_str(&inner);
        }
    }
    // Zero-width spaces some themes put in their anchor links.
    out.replace('\u{200b}', "")
}

/// The anchor a heading is linked by: its `id`, an anchor inside it (`<a id>`, `<a name>` or
/// `<a href="#…">`, as Sphinx and many themes write), or its `<section>`'s when it opens one.
fn heading_id(el: ElementRef) -> Option<String> {
    let own = el.value().id().map(str::to_string);
    let inside = || {
        el.descendent_elements()
            .filter(|e| e.value().name() == "a")
            .find_map(|a| {
                a.attr("id")
                    .or_else(|| a.attr("name"))
                    .or_else(|| a.attr("href").and_then(|h| h.strip_prefix('#')))
                    .map(str::to_string)
            })
    };
    let section = || {
        let parent = el.parent().and_then(ElementRef::wrap)?;
        let first = parent.child_elements().next()?;
        (parent.value().name() == "section" && first.id() == el.id())
            .then(|| parent.value().id().map(str::to_string))
            .flatten()
    };
    own.or_else(inside)
        .or_else(section)
        .filter(|id| !id.is_empty() && !id.contains(char::is_whitespace))
}

/// A code block's language from the classes themes use (`language-tsx`, `lang-js`,
/// `highlight-source-python`) or `data-language`, on the block, its `<code>` or its wrapper.
fn code_language(pre: ElementRef) -> Option<String> {
    let mut places = vec![pre];
    places.extend(pre.child_elements().filter(|c| c.value().name() == "code"));
    places.extend(pre.parent().and_then(ElementRef::wrap));
    places.iter().find_map(|e| {
        let v = e.value();
        v.attr("data-language")
            .or_else(|| v.attr("data-lang"))
            .map(str::to_string)
            .or_else(|| {
                v.classes().find_map(|c| {
                    ["language-", "lang-", "highlight-source-", "highlight-"]
                        .iter()
                        .find_map(|p| c.strip_prefix(p))
                        .filter(|l| {
                            !l.is_empty()
                                && l.chars().all(|c| c.is_alphanumeric() || "+-#_".contains(c))
                        })
                        .map(str::to_string)
                })
            })
    })
}

/// A code block's text as shown: line breaks kept, line-number gutters and copy buttons left
/// out.
fn code_text(el: ElementRef, out: &mut String) {
    for child in el.children() {
        if let Some(text) = child.value().as_text() {
            out.push_str(text);
        } else if let Some(e) = ElementRef::wrap(child) {
            let v = e.value();
            let gutter = v.classes().any(|c| {
                let c = c.to_ascii_lowercase();
                c.contains("line-number") || c.contains("lineno") || c == "gutter"
            });
            if v.name() == "br" {
                out.push('\n');
            } else if !gutter && !skipped(v) {
                code_text(e, out);
            }
        }
    }
}

#[derive(Default)]
struct Writer {
    out: String,
    /// The paragraph being written (inline text).
    inline: String,
}

impl Writer {
    fn children(&mut self, el: ElementRef) {
        for child in el.children() {
            if let Some(text) = child.value().as_text() {
                self.text(text);
            } else if let Some(e) = ElementRef::wrap(child)
                && !skipped(e.value())
            {
                self.element(e);
            }
        }
    }

    fn text(&mut self, text: &str) {
        if text.starts_with(char::is_whitespace) {
            self.inline.push(' ');
        }
        self.inline.push_str(&collapse(text));
        if text.ends_with(char::is_whitespace) {
            self.inline.push(' ');
        }
    }

    fn element(&mut self, e: ElementRef) {
        let v: &Element = e.value();
        match v.name() {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => self.heading(e),
            "pre" => self.code_block(e),
            "ul" | "ol" => self.list(e),
            "table" => self.table(e),
            "blockquote" => {
                let quoted = markdown(e);
                let lines: Vec<String> = quoted.lines().map(|l| format!("> {l}")).collect();
                self.block(&lines.join("\n"));
            }
            "br" => self.inline.push('\n'),
            "hr" | "img" | "picture" | "video" | "audio" => self.flush(),
            "code" | "kbd" | "samp" => {
                let mut code = String::new();
                code_text(e, &mut code);
                let code = collapse(&code);
                if !code.is_empty() {
                    let tick = if code.contains('`') { "``" } else { "`" };
                    self.inline.push_str(&format!("{tick}{code}{tick}"));
                }
            }
            "a" | "span" | "strong" | "b" | "em" | "i" | "u" | "s" | "small" | "sub" | "sup"
            | "mark" | "abbr" | "cite" | "q" | "time" | "var" | "del" | "ins" | "label" => {
                self.children(e)
            }
            // Every other element is a block of its own (div, section, p, li outside a list,
            // dt and dd, figure, details, summary…).
            _ => {
                self.flush();
                self.children(e);
                self.flush();
            }
        }
    }

    fn heading(&mut self, e: ElementRef) {
        let level = e.value().name()[1..].parse::<usize>().unwrap_or(2);
        let text = collapse(&heading_text(e));
        if text.is_empty() {
            return;
        }
        let anchor = heading_id(e).map_or(String::new(), |id| format!(" {{#{id}}}"));
        self.block(&format!("{} {text}{anchor}", "#".repeat(level)));
    }

    fn code_block(&mut self, e: ElementRef) {
        let mut code = String::new();
        code_text(e, &mut code);
        let code = code.trim_matches('\n').trim_end();
        if code.trim().is_empty() {
            return;
        }
        let longest = code
            .lines()
            .map(|l| l.trim_start().chars().take_while(|&c| c == '`').count())
            .max()
            .unwrap_or(0);
        let fence = "`".repeat(longest.max(2) + 1);
        let lang = code_language(e).unwrap_or_default();
        self.block(&format!("{fence}{lang}\n{code}\n{fence}"));
    }

    fn list(&mut self, e: ElementRef) {
        let ordered = e.value().name() == "ol";
        let mut lines = Vec::new();
        let items = e.child_elements().filter(|c| c.value().name() == "li");
        for (n, li) in items.enumerate() {
            let marker = if ordered {
                format!("{}. ", n + 1)
            } else {
                "- ".into()
            };
            let indent = " ".repeat(marker.len());
            let body = markdown(li);
            let mut body_lines = body.lines().filter(|l| !l.trim().is_empty());
            let Some(first) = body_lines.next() else {
                continue;
            };
            lines.push(format!("{marker}{first}"));
            lines.extend(body_lines.map(|l| format!("{indent}{l}")));
        }
        self.block(&lines.join("\n"));
    }

    fn table(&mut self, e: ElementRef) {
        let mut rows = Vec::new();
        let tr = super::selector("tr");
        for row in e.select(&tr) {
            let cells: Vec<String> = row
                .child_elements()
                .filter(|c| matches!(c.value().name(), "th" | "td"))
                .map(|c| markdown(c).trim().replace('\n', " ").replace('|', "\\|"))
                .collect();
            if !cells.is_empty() {
                rows.push(cells);
            }
        }
        let Some(width) = rows.iter().map(Vec::len).max() else {
            return;
        };
        let mut lines = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let mut cells = row.clone();
            cells.resize(width, String::new());
            lines.push(format!("| {} |", cells.join(" | ")));
            if i == 0 {
                lines.push(format!("|{}", " --- |".repeat(width)));
            }
        }
        self.block(&lines.join("\n"));
    }

    /// Ends the paragraph being written, if any.
    fn flush(&mut self) {
        let paragraph: Vec<String> = self
            .inline
            .lines()
            .map(|l| escape_line(&collapse(l)))
            .filter(|l| !l.is_empty())
            .collect();
        self.inline.clear();
        if !paragraph.is_empty() {
            self.out.push_str(&paragraph.join("\n"));
            self.out.push_str("\n\n");
        }
    }

    fn block(&mut self, text: &str) {
        self.flush();
        if !text.trim().is_empty() {
            self.out.push_str(text);
            self.out.push_str("\n\n");
        }
    }
}

/// Prose that would read as Markdown structure (a heading, a fence) keeps a backslash in front.
fn escape_line(line: &str) -> String {
    if line.starts_with('#') || line.starts_with("```") || line.starts_with("~~~") {
        format!("\\{line}")
    } else {
        line.to_string()
    }
}
