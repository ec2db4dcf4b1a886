//! Turns a Markdown or MDX page into searchable sections: front matter and MDX `import`/`export`
//! blocks removed (their `meta` title and description kept), JSX tags stripped with the prose of
//! their attributes kept, code blocks kept verbatim, and the page split at its headings. The
//! cleaning is `mdx`'s and `jsx`'s; the splitting is here.
mod jsx;
mod mdx;
#[cfg(test)]
mod tests;

use jsx::{collapse_blank_lines, strip_jsx};
use mdx::{remove_esm, split_front_matter};

/// A page of the docs folder, cleaned.
#[derive(Clone, Debug)]
pub struct Page {
    /// Relative to the docs folder, with `/` separators (`components/button/index.mdx`).
    pub path: String,
    pub title: String,
    pub description: Option<String>,
    pub sections: Vec<Section>,
    /// The cleaned Markdown of the whole page (what `/docs/…` renders).
    pub markdown: String,
}

/// The text under one heading (the first section is the text before any heading).
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    /// The heading's text; the page title for the part before the first heading.
    pub heading: String,
    /// The heading's anchor; empty for the part before the first heading.
    pub slug: String,
    /// The headings this section sits under (outermost first), without the page title.
    pub parents: Vec<String>,
    pub text: String,
}

impl Section {
    /// Where the section is in its page: `Page title › Parent › Heading` (the page's own
    /// introduction is just the title).
    pub fn trail(&self, title: &str) -> String {
        let mut out = title.to_string();
        for h in self.parents.iter().chain(std::iter::once(&self.heading)) {
            if h != title {
                out.push_str(" › ");
                out.push_str(h);
            }
        }
        out
    }
}

/// Parses one page. `path` is used for the title when the page names none.
pub fn parse_page(path: &str, source: &str) -> Page {
    let source = source.replace("\r\n", "\n");
    let (front_title, body) = split_front_matter(&source);
    let (meta, prose) = remove_esm(body);
    let cleaned = strip_jsx(&prose);
    let cleaned = collapse_blank_lines(&cleaned);
    from_markdown(path, meta.title.or(front_title), meta.description, cleaned)
}

/// A page from Markdown that needs no cleaning (a crawled page's, written by this server), with
/// the title and description its source named, if any. Headings may carry their own anchor
/// (`## Variants {#variants}`).
pub fn from_markdown(
    path: &str,
    named_title: Option<String>,
    description: Option<String>,
    cleaned: String,
) -> Page {
    let mut sections = split_sections(&cleaned);
    let first_h1 = sections
        .iter()
        .find(|(level, _)| *level == 1)
        .map(|(_, s)| s.heading.clone());
    let title = named_title
        .or(first_h1)
        .unwrap_or_else(|| title_from_path(path));
    // The enclosing headings of each section: (level, heading) of the open ones.
    let mut open: Vec<(u8, String)> = Vec::new();
    for (level, section) in sections.iter_mut() {
        // The page's own H1 is the page, not a section of it.
        if *level == 1 && section.heading == title {
            section.slug.clear();
        }
        if section.slug.is_empty() {
            section.heading = title.clone();
            open.clear();
            continue;
        }
        open.retain(|(l, _)| *l < *level);
        section.parents = open.iter().map(|(_, h)| h.clone()).collect();
        open.push((*level, section.heading.clone()));
    }
    let sections = sections
        .into_iter()
        .map(|(_, s)| s)
        .filter(|s| !s.text.trim().is_empty())
        .collect();
    Page {
        path: path.to_string(),
        title,
        description,
        sections,
        markdown: cleaned,
    }
}

/// `components/alert-dialog/index.mdx` → `Alert dialog`.
fn title_from_path(path: &str) -> String {
    let mut parts: Vec<&str> = path.split('/').collect();
    let file = parts.pop().unwrap_or("");
    let stem = file.rsplit_once('.').map(|(s, _)| s).unwrap_or(file);
    let name = if stem == "index" {
        parts.pop().unwrap_or(stem)
    } else {
        stem
    };
    crate::docs::text::capitalized(&name.replace(['-', '_'], " "), "Untitled")
}

/// Code fences (three or more `` ` `` or `~`): the one place that knows which lines are code.
/// A block closes at a line that starts with its opening marker.
#[derive(Default)]
struct Fences {
    open: Option<String>,
}

impl Fences {
    /// Whether `line` (the next line of the text) is code: a fence line or inside a block.
    fn is_code(&mut self, line: &str) -> bool {
        let t = line.trim_start();
        if let Some(marker) = &self.open {
            if t.starts_with(marker.as_str()) {
                self.open = None;
            }
            return true;
        }
        for ch in ['`', '~'] {
            let n = t.chars().take_while(|&c| c == ch).count();
            if n >= 3 {
                self.open = Some(std::iter::repeat_n(ch, n).collect());
                return true;
            }
        }
        false
    }
}

/// A heading of cleaned Markdown with its anchor, unique in its page.
struct Heading {
    level: u8,
    text: String,
    slug: String,
}

/// The lines of cleaned Markdown, each with the heading it is (outside code): what both the
/// sections and the anchors of the rendered page come from, so the two always agree.
fn lines_with_headings(markdown: &str) -> impl Iterator<Item = (&str, Option<Heading>)> {
    let mut fences = Fences::default();
    let mut used = std::collections::HashSet::new();
    markdown.lines().map(move |line| {
        if fences.is_code(line) {
            return (line, None);
        }
        let heading = parse_heading(line).map(|(level, text, anchor)| {
            let base = anchor.unwrap_or_else(|| slugify(&text));
            let mut slug = base.clone();
            let mut n = 1;
            while used.contains(&slug) {
                slug = format!("{base}-{n}");
                n += 1;
            }
            used.insert(slug.clone());
            Heading { level, text, slug }
        });
        (line, heading)
    })
}

/// Splits cleaned Markdown at ATX headings outside code fences. Returns (level, section);
/// level 0 is the text before the first heading.
fn split_sections(text: &str) -> Vec<(u8, Section)> {
    let mut sections = vec![(
        0u8,
        Section {
            heading: String::new(),
            slug: String::new(),
            parents: Vec::new(),
            text: String::new(),
        },
    )];
    for (line, heading) in lines_with_headings(text) {
        if let Some(Heading { level, text, slug }) = heading {
            sections.push((
                level,
                Section {
                    heading: text,
                    slug,
                    parents: Vec::new(),
                    text: String::new(),
                },
            ));
            continue;
        }
        let text = &mut sections.last_mut().unwrap().1.text;
        text.push_str(line);
        text.push('\n');
    }
    for (_, s) in sections.iter_mut() {
        s.text = s.text.trim().to_string();
    }
    sections
}

/// Adds `{#slug}` to each heading (the anchors search results link to), outside code fences.
pub fn annotate_headings(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len() + 256);
    for (line, heading) in lines_with_headings(markdown) {
        match heading {
            Some(h) => {
                let line = line.trim_end();
                let line = explicit_anchor(line).map_or(line, |(before, _)| before);
                out.push_str(line.trim_end().trim_end_matches('#').trim_end());
                out.push_str(&format!(" {{#{}}}\n", h.slug));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// An ATX heading: its level, its plain text and its own anchor when it names one.
fn parse_heading(line: &str) -> Option<(u8, String, Option<String>)> {
    let level = line.chars().take_while(|&c| c == '#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = line[level..].trim_end();
    if !rest.starts_with(' ') {
        return None;
    }
    let (rest, anchor) = match explicit_anchor(rest) {
        Some((before, id)) => (before, Some(id.to_string())),
        None => (rest, None),
    };
    let text = plain_inline(rest.trim().trim_end_matches('#').trim());
    (!text.is_empty()).then_some((level as u8, text, anchor))
}

/// `Heading {#some-id}` → (`Heading`, `some-id`): a heading's own anchor (MDX, Pandoc and the
/// crawled pages' Markdown write it so), an id of letters, digits, `-`, `_`, `.` and `:`.
fn explicit_anchor(heading: &str) -> Option<(&str, &str)> {
    let inner = heading.strip_suffix('}')?;
    let open = inner.rfind("{#")?;
    let id = &inner[open + 2..];
    let valid = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    valid.then(|| (heading[..open].trim_end(), id))
}

/// The paragraphs of a section's text (split at blank lines, never inside a code block), as
/// (byte offset, plain text), empty ones left out.
pub fn paragraphs(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fences = Fences::default();
    let mut start: Option<usize> = None;
    let mut offset = 0;
    let flush = |start: &mut Option<usize>, end: usize, out: &mut Vec<(usize, String)>| {
        if let Some(s) = start.take() {
            let plain = plain_inline(&text[s..end]);
            if !plain.is_empty() {
                out.push((s, plain));
            }
        }
    };
    for line in text.split_inclusive('\n') {
        if !fences.is_code(line) && line.trim().is_empty() {
            flush(&mut start, offset, &mut out);
        }
        if start.is_none() && !line.trim().is_empty() {
            start = Some(offset);
        }
        offset += line.len();
    }
    flush(&mut start, offset, &mut out);
    out
}

/// Inline Markdown to plain text: links keep their text, emphasis and code marks go.
pub fn plain_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == ']'
            && chars.get(i + 1) == Some(&'(')
            && let Some(close) = chars[i + 2..].iter().position(|&x| x == ')')
        {
            i += close + 3;
            continue;
        }
        let markup = matches!(c, '[' | ']' | '*' | '`' | '!')
            || (c == '_' && chars.get(i + 1) == Some(&'_'));
        if !markup {
            out.push(c);
        }
        i += 1;
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// GitHub-style anchor: lower case, punctuation dropped, spaces to `-`.
pub fn slugify(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            c if c.is_alphanumeric() => Some(c),
            ' ' | '-' => Some('-'),
            '_' => Some('_'),
            _ => None,
        })
        .collect()
}
