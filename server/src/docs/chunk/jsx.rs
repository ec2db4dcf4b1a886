//! JSX in MDX: tags stripped, the prose of their attributes kept, everything else dropped.
use super::Fences;

/// Attributes whose values are prose to a reader, kept from JSX and HTML tags (lower case).
/// Every other attribute is a machine value (`allow`, `sandbox`, `class`, `style`, `src`, ids,
/// sizes, variants) and never reaches the index or an answer: an allow-list, because a
/// deny-list kept an iframe's `allow="accelerometer; camera; …"` as if it were text.
pub(super) const PROSE_ATTRIBUTES: &[&str] = &[
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
pub(super) fn is_prose_attribute(name: &str) -> bool {
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
pub(super) fn strip_jsx(text: &str) -> String {
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

pub(super) fn strip_prose(text: &str) -> String {
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

pub(super) fn find_run(chars: &[char], from: usize, run: usize) -> Option<usize> {
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

pub(super) fn find_str(chars: &[char], from: usize, needle: &str) -> Option<usize> {
    let needle: Vec<char> = needle.chars().collect();
    (from..chars.len().saturating_sub(needle.len() - 1)).find(|&i| chars[i..].starts_with(&needle))
}

/// Index just past the `}` that closes the `{` at `start` (strings respected).
pub(super) fn skip_balanced(chars: &[char], start: usize) -> usize {
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
pub(super) fn parse_tag(chars: &[char], start: usize) -> (usize, Vec<String>) {
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

pub(super) fn collapse_blank_lines(text: &str) -> String {
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
