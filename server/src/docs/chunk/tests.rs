use super::*;
use crate::test_support::assert_contains;

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
    assert_contains(&all, "import {Card} from '@twilio-paste/card';");
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
    let path = crate::test_support::paste_docs().join("core/libraries/uid-library/index.mdx");
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
    let root = crate::test_support::paste_docs();
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

#[test]
fn a_heading_may_name_its_own_anchor() {
    let page = from_markdown(
        "https://d.example.com/button/",
        Some("Button".into()),
        None,
        "## Variants {#variants-1}\n\nPrimary.\n\n## Sizes {not an anchor}\n\nSmall.\n".into(),
    );
    let slugs: Vec<(&str, &str)> = page
        .sections
        .iter()
        .map(|s| (s.heading.as_str(), s.slug.as_str()))
        .collect();
    assert_eq!(
        slugs,
        [
            ("Variants", "variants-1"),
            ("Sizes {not an anchor}", "sizes-not-an-anchor")
        ]
    );
    let annotated = annotate_headings(&page.markdown);
    assert!(
        annotated.contains("## Variants {#variants-1}\n"),
        "{annotated}"
    );
    assert!(!annotated.contains("{#variants-1} {#"), "{annotated}");
}
