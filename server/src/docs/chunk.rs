//! Turns a Markdown or MDX page into searchable sections: front matter and MDX `import`/`export`
//! blocks removed (their `meta` title and description kept), JSX tags stripped with the prose of
//! their attributes kept, code blocks kept verbatim, and the page split at its headings.

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
    let mut sections = split_sections(&cleaned);
    let first_h1 = sections
        .iter()
        .find(|(level, _)| *level == 1)
        .map(|(_, s)| s.heading.clone());
    let title = meta
        .title
        .or(front_title)
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
        description: meta.description,
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
    let words = name.replace(['-', '_'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
        None => "Untitled".to_string(),
    }
}

/// YAML front matter between `---` lines: returns its `title` and the rest.
fn split_front_matter(source: &str) -> (Option<String>, &str) {
    let Some(rest) = source.strip_prefix("---\n") else {
        return (None, source);
    };
    let Some(end) = rest.find("\n---") else {
        return (None, source);
    };
    let front = &rest[..end];
    let after = &rest[end + 4..];
    let body = after.split_once('\n').map(|(_, b)| b).unwrap_or("");
    let title = front.lines().find_map(|l| {
        l.strip_prefix("title:")
            .map(|v| v.trim().trim_matches(['"', '\'']).to_string())
    });
    (title.filter(|t| !t.is_empty()), body)
}

#[derive(Default)]
struct Meta {
    title: Option<String>,
    description: Option<String>,
}

/// Removes top-level `import`/`export` statements (multi-line ones too), outside code fences.
/// Returns the `meta` object's title and description and the remaining text.
fn remove_esm(body: &str) -> (Meta, String) {
    let mut meta = Meta::default();
    let mut out = String::with_capacity(body.len());
    let mut fences = Fences::default();
    let mut esm: Option<(String, i32)> = None; // statement so far, bracket depth
    for line in body.lines() {
        if let Some((statement, depth)) = esm.as_mut() {
            statement.push('\n');
            statement.push_str(line);
            *depth += bracket_delta(line);
            if statement_ends(*depth, line) {
                let (statement, _) = esm.take().unwrap();
                read_meta(&statement, &mut meta);
            }
            continue;
        }
        if fences.is_code(line) {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if line.starts_with("import ") || line.starts_with("export ") || line == "import" {
            let depth = bracket_delta(line);
            if statement_ends(depth, line) {
                read_meta(line, &mut meta);
            } else {
                esm = Some((line.to_string(), depth));
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    (meta, out)
}

/// A statement is over when its brackets are balanced and the line does not ask for more.
fn statement_ends(depth: i32, line: &str) -> bool {
    let t = line.trim_end();
    depth <= 0
        && !t.ends_with([',', '(', '{', '[', '=', '>', '+', '|', '&', '?', ':'])
        && !t.is_empty()
}

/// The change of bracket depth over a line, ignoring brackets inside string literals.
fn bracket_delta(line: &str) -> i32 {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in line.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => depth -= 1,
            _ => {}
        }
    }
    depth
}

fn read_meta(statement: &str, meta: &mut Meta) {
    let s = statement.trim_start();
    if !(s.starts_with("export const meta") || s.starts_with("export let meta")) {
        return;
    }
    meta.title = meta.title.take().or_else(|| js_string_property(s, "title"));
    meta.description = meta
        .description
        .take()
        .or_else(|| js_string_property(s, "description"));
}

/// The string value of `key: '…'` (or "…", `…`) in a JavaScript object literal.
fn js_string_property(source: &str, key: &str) -> Option<String> {
    let mut search = 0;
    while let Some(pos) = source[search..].find(key) {
        let start = search + pos;
        search = start + key.len();
        let before_ok = source[..start]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || c == '{' || c == ',');
        let rest = source[search..].trim_start();
        let Some(rest) = rest.strip_prefix(':') else {
            continue;
        };
        let rest = rest.trim_start();
        let Some(q) = rest
            .chars()
            .next()
            .filter(|c| matches!(c, '\'' | '"' | '`'))
        else {
            continue;
        };
        if !before_ok {
            continue;
        }
        let mut value = String::new();
        let mut escaped = false;
        for c in rest[1..].chars() {
            if escaped {
                value.push(c);
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                return Some(value.trim().to_string()).filter(|v| !v.is_empty());
            } else {
                value.push(c);
            }
        }
        return None;
    }
    None
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
        let heading = parse_heading(line).map(|(level, text)| {
            let base = slugify(&text);
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

/// Attributes whose values are prose to a reader, kept from JSX and HTML tags (lower case).
/// Every other attribute is a machine value (`allow`, `sandbox`, `class`, `style`, `src`, ids,
/// sizes, variants) and never reaches the index or an answer: an allow-list, because a
/// deny-list kept an iframe's `allow="accelerometer; camera; …"` as if it were text.
const PROSE_ATTRIBUTES: &[&str] = &[
    "title",
    "alt",
    "label",
    "aria-label",
    "arialabel",
    "aria-description",
    "description",
    "caption",
    "body",
    "heading",
    "subheading",
    "subtitle",
    "summary",
    "legend",
    "placeholder",
    "text",
    "helptext",
    "tooltip",
];

/// Whether the value of attribute `name` is prose: a name of [`PROSE_ATTRIBUTES`], or one that
/// ends as they do (`labelText`, `visibleLabel`, `errorText`, `cardTitle`).
fn is_prose_attribute(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    PROSE_ATTRIBUTES.contains(&name.as_str())
        || [
            "label",
            "labeltext",
            "text",
            "title",
            "description",
            "caption",
        ]
        .iter()
        .any(|end| name.len() > end.len() && name.ends_with(end))
}

/// Removes JSX/HTML tags, comments and `{…}` expressions from prose outside code fences and
/// inline code, keeping the prose of quoted attribute values (`title`, `body`, `alt`, captions).
fn strip_jsx(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.split_inclusive('\n').peekable();
    let mut fences = Fences::default();
    let mut prose = String::new();
    while let Some(line) = lines.next() {
        if fences.is_code(line) {
            // Code is kept as written; the prose before it is cleaned first.
            out.push_str(&strip_prose(&std::mem::take(&mut prose)));
            out.push_str(line);
            continue;
        }
        prose.push_str(line);
        if lines.peek().is_none() {
            break;
        }
    }
    out.push_str(&strip_prose(&prose));
    out
}

fn strip_prose(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    // Inside JSX elements the children are indented for the JSX, not for Markdown (where four
    // spaces would make a code block): lines there lose their leading whitespace.
    let mut depth = 0usize;
    let mut line_start = true;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '`' {
            // Inline code is kept as written.
            let run = chars[i..].iter().take_while(|&&x| x == '`').count();
            let end = find_run(&chars, i + run, run).map_or(i + run, |e| e + run);
            out.extend(&chars[i..end]);
            line_start = false;
            i = end;
            continue;
        }
        if c == '<' && chars.get(i + 1..i + 4) == Some(&['!', '-', '-']) {
            i = find_str(&chars, i + 4, "-->")
                .map(|e| e + 3)
                .unwrap_or(chars.len());
            continue;
        }
        if c == '{' {
            // A JSX expression or comment: dropped, braces balanced.
            i = skip_balanced(&chars, i);
            if !line_start {
                out.push(' ');
            }
            continue;
        }
        if c == '<'
            && chars
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == '/' || *n == '>')
        {
            let (end, kept) = parse_tag(&chars, i);
            let closing = chars.get(i + 1) == Some(&'/');
            let self_closing = end >= 2 && chars.get(end - 2) == Some(&'/');
            if closing {
                depth = depth.saturating_sub(1);
            } else if !self_closing {
                depth += 1;
            }
            for value in kept {
                out.push('\n');
                out.push_str(&value);
                out.push('\n');
                line_start = true;
            }
            i = end;
            continue;
        }
        if line_start && depth > 0 && (c == ' ' || c == '\t') {
            i += 1;
            continue;
        }
        out.push(c);
        if c == '\n' {
            line_start = true;
        } else if !c.is_whitespace() {
            line_start = false;
        }
        i += 1;
    }
    out
}

fn find_run(chars: &[char], from: usize, run: usize) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        if chars[i] == '\n' && chars.get(i + 1) == Some(&'\n') {
            return None;
        }
        if chars[i] == '`' {
            let n = chars[i..].iter().take_while(|&&x| x == '`').count();
            if n == run {
                return Some(i);
            }
            i += n;
            continue;
        }
        i += 1;
    }
    None
}

fn find_str(chars: &[char], from: usize, needle: &str) -> Option<usize> {
    let needle: Vec<char> = needle.chars().collect();
    (from..chars.len().saturating_sub(needle.len() - 1)).find(|&i| chars[i..].starts_with(&needle))
}

/// Index just past the `}` that closes the `{` at `start` (strings respected).
fn skip_balanced(chars: &[char], start: usize) -> usize {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    let mut i = start;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            if c == '\\' {
                i += 1;
            } else if c == q {
                quote = None;
            }
        } else {
            match c {
                '\'' | '"' | '`' => quote = Some(c),
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    chars.len()
}

/// Parses a tag starting at `<`; returns where it ends and the prose attribute values.
fn parse_tag(chars: &[char], start: usize) -> (usize, Vec<String>) {
    let mut kept = Vec::new();
    let mut i = start + 1;
    let mut name = String::new();
    let mut last_attr = String::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            '>' => return (i + 1, kept),
            '{' => {
                i = skip_balanced(chars, i);
                continue;
            }
            '"' | '\'' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&x| x == c)
                    .map(|p| i + 1 + p);
                let Some(end) = end else {
                    return (chars.len(), kept);
                };
                let value: String = chars[i + 1..end].iter().collect();
                let is_prose = value.trim().contains(' ')
                    && is_prose_attribute(&last_attr)
                    && !value.trim_start().starts_with(['/', '#', '.'])
                    && !value.contains("://");
                if is_prose {
                    kept.push(value.trim().to_string());
                }
                i = end + 1;
                continue;
            }
            c if c.is_alphanumeric() || c == '-' || c == '_' || c == ':' || c == '.' => {
                let mut word = String::new();
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '-' | '_' | ':' | '.'))
                {
                    word.push(chars[i]);
                    i += 1;
                }
                if name.is_empty() {
                    name = word;
                } else {
                    last_attr = word;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    (chars.len(), kept)
}

fn collapse_blank_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
            out.push('\n');
            continue;
        }
        blank = 0;
        out.push_str(line);
        out.push('\n');
    }
    // Exactly as long as it needs to be: every page's text stays in memory for `/docs/…`, and
    // `to_string() + "\n"` doubled its allocation (a third of the index at 100,000 sections,
    // in issue 15's heap profile).
    let text = out.trim();
    let mut page = String::with_capacity(text.len() + 1);
    page.push_str(text);
    page.push('\n');
    page
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

fn parse_heading(line: &str) -> Option<(u8, String)> {
    let level = line.chars().take_while(|&c| c == '#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &line[level..];
    if !rest.starts_with(' ') {
        return None;
    }
    let text = plain_inline(rest.trim().trim_end_matches('#').trim());
    (!text.is_empty()).then_some((level as u8, text))
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

#[cfg(test)]
mod tests {
    use super::*;

    const MDX: &str = r#"export const meta = {
  title: 'Card',
  description: 'A container for related content',
  slug: '/components/card/',
};

import {Box} from '@twilio-paste/box';
import {
  DefaultExample,
  FillHeightExample,
} from '../../../component-examples/CardExamples';

export default ComponentPageLayout;

export const getStaticProps = async () => {
  const feature = await getFeature('Card');
  return {
    props: {data: {...feature}},
  };
};

<StoryPreview
  height="350px"
  title="Card examples - default"
  storyID="website-cardexamples--default-example"
  code={DefaultExample}
/>

Cards group related content.

## Guidelines

### About Cards

Use a [Heading](/components/heading) inside a `<Card>` when it helps.

<Callout variant="warning">
  <CalloutHeading as="h3">Watch out</CalloutHeading>
  <CalloutText>Do not nest cards.</CalloutText>
</Callout>

<DoDont>
  <Do title="Do" body="Use one primary action per card." />
</DoDont>

```jsx
import {Card} from '@twilio-paste/card';
const x = <Card padding="space40">Hi</Card>;
```

## Guidelines
{/* a comment */}
Again.
"#;

    #[test]
    fn mdx_pages_lose_code_scaffolding_and_keep_prose() {
        let page = parse_page("components/card/index.mdx", MDX);
        assert_eq!(page.title, "Card");
        assert_eq!(
            page.description.as_deref(),
            Some("A container for related content")
        );
        let all = page.markdown.clone();
        assert!(!all.contains("import {Box}"), "{all}");
        assert!(!all.contains("FillHeightExample"), "{all}");
        assert!(!all.contains("getStaticProps"), "{all}");
        assert!(!all.contains("storyID"), "{all}");
        assert!(!all.contains("<Callout"), "{all}");
        assert!(!all.contains("a comment"), "{all}");
        assert!(all.contains("Card examples - default"), "{all}");
        assert!(all.contains("Use one primary action per card."), "{all}");
        assert!(all.contains("Do not nest cards."), "{all}");
        // Code blocks and inline code are kept as written.
        assert!(
            all.contains("import {Card} from '@twilio-paste/card';"),
            "{all}"
        );
        assert!(all.contains("`<Card>`"), "{all}");
    }

    #[test]
    fn text_inside_jsx_is_not_indented_into_a_code_block() {
        let page = parse_page(
            "a.mdx",
            "# A\n\n<Callout>\n  <CalloutText>\n    If you aren't using the provider, set the\n    font size.\n  </CalloutText>\n</Callout>\n\n    indented code outside JSX\n",
        );
        let text = &page.sections[0].text;
        assert!(
            text.starts_with("If you aren't using the provider, set the\nfont size."),
            "{text:?}"
        );
        assert!(text.contains("    indented code outside JSX"), "{text:?}");
    }

    #[test]
    fn pages_split_at_headings_with_unique_slugs() {
        let page = parse_page("components/card/index.mdx", MDX);
        let headings: Vec<(&str, &str)> = page
            .sections
            .iter()
            .map(|s| (s.heading.as_str(), s.slug.as_str()))
            .collect();
        assert_eq!(
            headings,
            vec![
                ("Card", ""),
                ("About Cards", "about-cards"),
                ("Guidelines", "guidelines-1")
            ]
        );
        assert!(page.sections[1].text.contains("Use a [Heading]"));
        assert!(page.sections[1].text.contains("import {Card}"));
    }

    #[test]
    fn titles_come_from_front_matter_h1_or_path() {
        let p = parse_page("guide/setup.md", "---\ntitle: \"Set-up\"\n---\nText\n");
        assert_eq!(p.title, "Set-up");
        let p = parse_page("guide/setup.md", "# Setting up\n\nText\n");
        assert_eq!(p.title, "Setting up");
        let p = parse_page("components/alert-dialog/index.mdx", "Just text\n");
        assert_eq!(p.title, "Alert dialog");
        assert_eq!(p.sections[0].heading, "Alert dialog");
    }

    #[test]
    fn paragraphs_split_at_blank_lines_outside_code() {
        let text = "First **para**\nstill first.\n\n```js\na();\n\nb();\n```\n\n\nLast [link](/x).";
        let p = paragraphs(text);
        let plain: Vec<&str> = p.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            plain,
            vec!["First para still first.", "js a(); b();", "Last link."]
        );
        assert_eq!(&text[p[2].0..p[2].0 + 4], "Last");
        assert_eq!(p[0].0, 0);
    }

    #[test]
    fn sections_know_the_headings_they_sit_under() {
        let p = parse_page(
            "a.md",
            "# A\n\nIntro\n\n## B\n\nb\n\n### C\n\nc\n\n## D\n\nd\n",
        );
        let trails: Vec<(&str, Vec<String>)> = p
            .sections
            .iter()
            .map(|s| (s.heading.as_str(), s.parents.clone()))
            .collect();
        assert_eq!(
            trails,
            vec![
                ("A", vec![]),
                ("B", vec![]),
                ("C", vec!["B".to_string()]),
                ("D", vec![])
            ]
        );
    }

    #[test]
    fn headings_inside_code_blocks_are_not_sections() {
        let p = parse_page(
            "a.md",
            "# A\n\n```md\n## Not a heading\n```\n\n## Real\n\nx\n",
        );
        let headings: Vec<&str> = p.sections.iter().map(|s| s.heading.as_str()).collect();
        assert_eq!(headings, vec!["A", "Real"]);
    }

    #[test]
    fn only_prose_attributes_are_kept_from_tags() {
        let page = parse_page(
            "a.mdx",
            "# A\n\n<img src=\"/a b.png\" alt=\"A chart of sales\" className=\"big wide\" />\n\n\
             <Input aria-label=\"Search the docs\" margin=\"0 auto\" name=\"Imani Nakai\" \
             labelText=\"Your full name\" data-x=\"one two\" />\n",
        );
        let text = &page.sections[0].text;
        for kept in ["A chart of sales", "Search the docs", "Your full name"] {
            assert!(text.contains(kept), "{kept}: {text:?}");
        }
        for gone in ["a b.png", "big wide", "0 auto", "Imani", "one two"] {
            assert!(!text.contains(gone), "{gone}: {text:?}");
        }
    }

    /// The Paste page with the CodeSandbox iframes: their `allow` and `sandbox` lists were kept
    /// as prose and quoted in answers; their titles are prose.
    #[test]
    fn an_iframes_machine_attributes_never_reach_the_text() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/corpus/paste-docs/core/libraries/uid-library/index.mdx");
        let source = std::fs::read_to_string(&path).unwrap();
        assert!(source.contains("allow=\"accelerometer"), "the page changed");
        let page = parse_page("core/libraries/uid-library/index.mdx", &source);
        let text: String = page.sections.iter().map(|s| s.text.as_str()).collect();
        for gone in [
            "accelerometer",
            "allow-forms",
            "allow-scripts",
            "codesandbox.io",
            "borderRadius",
        ] {
            assert!(!text.contains(gone), "{gone}");
        }
        assert!(text.contains("useUID example"), "{text}");
    }

    #[test]
    fn every_page_of_the_paste_corpus_parses() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/paste-docs");
        assert!(
            root.is_dir(),
            "the shared Paste corpus is missing: {}",
            root.display()
        );
        let mut pages = 0;
        for path in crate::docs::walk(&root) {
            let source = std::fs::read_to_string(&path).unwrap();
            let rel = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let page = parse_page(&rel, &source);
            pages += 1;
            assert!(!page.title.is_empty());
            for s in &page.sections {
                assert!(!s.text.contains("export const getStaticProps"), "{rel}");
                assert!(
                    !s.text.starts_with("import "),
                    "{rel}: {}",
                    &s.text[..s.text.len().min(200)]
                );
            }
        }
        assert!(pages > 250, "{pages}");
    }
}
