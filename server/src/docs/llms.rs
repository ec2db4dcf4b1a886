//! `llms.txt` and `llms-full.txt` (the llmstxt.org convention) of the indexed docs: the pages as
//! a Markdown list of links with one line about each, grouped by their first folder, and every
//! page's text in one file. Made from an index, so they are current with it; cached on it
//! (an index never changes: a re-index builds a new one).
use std::collections::BTreeMap;

use super::{DocsIndex, Page};

/// Longest one-line description, in characters.
const DESCRIPTION_CHARS: usize = 160;

impl DocsIndex {
    /// `llms.txt`: a heading (`name`), a summary and the pages, with the links answers use.
    pub fn llms_txt(&self, name: &str) -> &str {
        self.llms.get_or_init(|| {
            let mut out = format!(
                "# {name}\n\n> The documentation {name} answers from: {} pages. Each link \
                 opens a page; /llms-full.txt holds them all as Markdown in one file.\n",
                self.pages.len(),
            );
            let mut groups: BTreeMap<&str, Vec<&Page>> = BTreeMap::new();
            for page in &self.pages {
                // A crawled page groups by its address's path, not its scheme.
                let local = match page.path.split_once("://") {
                    Some((_, rest)) => rest.split_once('/').map_or("", |(_, path)| path),
                    None => page.path.as_str(),
                };
                let group = match local.split_once('/') {
                    Some((folder, _)) => folder,
                    None => "",
                };
                groups.entry(group).or_default().push(page);
            }
            for (group, mut pages) in groups {
                pages.sort_by(|a, b| a.path.cmp(&b.path));
                out.push_str(&format!("\n## {}\n\n", heading(group)));
                for page in pages {
                    out.push_str(&format!(
                        "- [{}]({})",
                        page.title.replace(['[', ']'], ""),
                        self.url_for(&page.path, "")
                    ));
                    if let Some(line) = description(page) {
                        out.push_str(": ");
                        out.push_str(&line);
                    }
                    out.push('\n');
                }
            }
            out
        })
    }

    /// `llms-full.txt`: every page's cleaned Markdown under its title and address, in path
    /// order.
    pub fn llms_full_txt(&self) -> &str {
        self.llms_full.get_or_init(|| {
            let mut pages: Vec<&Page> = self.pages.iter().collect();
            pages.sort_by(|a, b| a.path.cmp(&b.path));
            let mut out = String::new();
            for page in pages {
                out.push_str(&format!(
                    "# {}\n\nSource: {}\n\n{}\n\n",
                    page.title,
                    self.url_for(&page.path, ""),
                    page.markdown.trim()
                ));
            }
            out
        })
    }
}

/// A group's heading: its folder name in words (`page-templates` → `Page templates`), and
/// `Pages` for the top folder.
fn heading(folder: &str) -> String {
    if folder.is_empty() {
        return "Pages".into();
    }
    super::text::capitalized(&folder.replace(['-', '_'], " "), "Pages")
}

/// The page's description, else the first sentence of its text: one line, at most
/// [`DESCRIPTION_CHARS`].
fn description(page: &Page) -> Option<String> {
    let source = page.description.clone().or_else(|| {
        // The first line of prose: not in a code block, not a heading, table, list or quote.
        let mut in_code = false;
        let prose = page
            .sections
            .iter()
            .flat_map(|s| s.text.lines())
            .map(str::trim)
            .find(|l| {
                if l.starts_with("```") || l.starts_with("~~~") {
                    in_code = !in_code;
                    return false;
                }
                !in_code && !l.is_empty() && !l.starts_with(['#', '|', '<', '-', '*', '>'])
            })?;
        Some(
            prose
                .split_inclusive(". ")
                .next()
                .unwrap_or(prose)
                .to_string(),
        )
    })?;
    let line = source.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        return None;
    }
    let mut short: String = line.chars().take(DESCRIPTION_CHARS).collect();
    if short.chars().count() < line.chars().count() {
        short.push('…');
    }
    Some(short.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::super::chunk::parse_page;
    use super::*;

    fn index(pages: &[(&str, &str)], base: Option<&str>) -> DocsIndex {
        let pages = pages.iter().map(|(p, s)| parse_page(p, s)).collect();
        DocsIndex::from_pages(pages, base.map(str::to_string), std::time::Instant::now())
    }

    #[test]
    fn pages_are_listed_by_folder_with_one_line_each() {
        let docs = index(
            &[
                ("index.md", "# Welcome\n\nStart here. Then read on.\n"),
                (
                    "components/button.mdx",
                    "export const meta = {\n  title: 'Button',\n  description: 'A clickable action.',\n};\n\nText.\n",
                ),
                (
                    "page-templates/form.md",
                    "# Form\n\n```js\ncode\n```\n\nForms collect input.\n",
                ),
            ],
            None,
        );
        let txt = docs.llms_txt("Acme Docs");
        assert!(
            txt.starts_with("# Acme Docs\n\n> The documentation Acme Docs answers from: 3 pages."),
            "{txt}"
        );
        assert!(
            txt.contains(
                "## Components\n\n- [Button](/docs/components/button.mdx): A clickable action.\n"
            ),
            "{txt}"
        );
        assert!(txt.contains("## Page templates\n\n- [Form](/docs/page-templates/form.md): Forms collect input.\n"), "{txt}");
        assert!(
            txt.contains("## Pages\n\n- [Welcome](/docs/index.md): Start here.\n"),
            "{txt}"
        );
    }

    #[test]
    fn with_a_docs_site_the_links_point_there_and_the_full_text_is_whole() {
        let docs = index(
            &[(
                "guide/setup.md",
                "# Set-up\n\nInstall it.\n\n## Run\n\nRun it.\n",
            )],
            Some("https://docs.example.com"),
        );
        let txt = docs.llms_txt("Docs");
        assert!(
            txt.contains("(https://docs.example.com/guide/setup)"),
            "{txt}"
        );
        let full = docs.llms_full_txt();
        assert!(
            full.starts_with("# Set-up\n\nSource: https://docs.example.com/guide/setup\n"),
            "{full}"
        );
        assert!(full.contains("## Run\n\nRun it."), "{full}");
    }

    #[test]
    fn crawled_pages_group_by_their_path_and_link_to_themselves() {
        let page = super::super::chunk::from_markdown(
            "https://d.example.com/components/button/",
            Some("Button".into()),
            Some("A clickable action.".into()),
            "Text.\n".into(),
        );
        let docs = DocsIndex::of_pages(vec![page], None);
        let txt = docs.llms_txt("Docs");
        assert!(
            txt.contains("## Components\n\n- [Button](https://d.example.com/components/button/): A clickable action.\n"),
            "{txt}"
        );
    }
}
