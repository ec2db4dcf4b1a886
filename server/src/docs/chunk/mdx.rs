//! MDX cleaning: front matter and `import`/`export` blocks removed (their `meta` title and
//! description kept); JSX is `jsx`'s.
use super::Fences;

/// YAML front matter between `---` lines: returns its `title` and the rest.
pub(super) fn split_front_matter(source: &str) -> (Option<String>, &str) {
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
pub(super) struct Meta {
    pub(super) title: Option<String>,
    pub(super) description: Option<String>,
}

/// Removes top-level `import`/`export` statements (multi-line ones too), outside code fences.
/// Returns the `meta` object's title and description and the remaining text.
pub(super) fn remove_esm(body: &str) -> (Meta, String) {
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
pub(super) fn statement_ends(depth: i32, line: &str) -> bool {
    let t = line.trim_end();
    depth <= 0
        && !t.ends_with([',', '(', '{', '[', '=', '>', '+', '|', '&', '?', ':'])
        && !t.is_empty()
}

/// The change of bracket depth over a line, ignoring brackets inside string literals.
pub(super) fn bracket_delta(line: &str) -> i32 {
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

pub(super) fn read_meta(statement: &str, meta: &mut Meta) {
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
pub(super) fn js_string_property(source: &str, key: &str) -> Option<String> {
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
