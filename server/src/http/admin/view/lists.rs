//! The list pages: questions, the ones the docs don't cover, feedback, and the docs' pages.
use std::fmt::Write as _;

use app::api::escape_html as esc;

use super::*;
use crate::service::DocsSource;

/// The status of a question's run, for people.
pub(super) fn outcome(status: &str) -> &'static str {
    match status {
        "completed" => "answered",
        "failed" => "failed",
        "expired" => "timed out",
        "cancelled" => "stopped",
        "incomplete" => "cut off",
        _ => "in progress",
    }
}

pub(super) fn rating_text(row: &QuestionRow) -> String {
    match row.rating.as_deref() {
        Some("up") => "<span class=\"rating up\">Helpful</span>".into(),
        Some("down") => {
            let reason = row
                .reason
                .as_deref()
                .map(|r| format!(" ({})", esc(reason_label(r))))
                .unwrap_or_default();
            format!("<span class=\"rating down\">Not helpful{reason}</span>")
        }
        _ => String::new(),
    }
}

pub(super) fn reason_label(reason: &str) -> &str {
    app::api::REASONS
        .iter()
        .find(|(value, _)| *value == reason)
        .map_or(reason, |(_, label)| label)
}

pub(super) fn sources(json: &str) -> String {
    let list: Vec<app::api::Source> = serde_json::from_str(json).unwrap_or_default();
    if list.is_empty() {
        return "<p class=\"muted\">No docs pages were searched.</p>".into();
    }
    let mut out = String::from("<ul class=\"sources\">");
    for s in list {
        let _ = write!(
            out,
            "<li><a href=\"{}\">{}</a></li>",
            esc(&s.url),
            esc(&s.title)
        );
    }
    out.push_str("</ul>");
    out
}

/// A table of questions, with a link to each conversation.
fn question_table(rows: &[QuestionRow], why: bool) -> String {
    if rows.is_empty() {
        return "<p class=\"muted\">No questions here for this period.</p>".into();
    }
    let why_head = if why {
        "<th scope=\"col\">Why listed</th>"
    } else {
        ""
    };
    let mut out = format!(
        "<table class=\"questions\"><thead><tr><th scope=\"col\">Asked (UTC)</th>\
         <th scope=\"col\">Question</th><th scope=\"col\">Outcome</th>{why_head}\
         <th scope=\"col\">Rating</th></tr></thead><tbody>"
    );
    for r in rows {
        let why_cell = if why {
            format!("<td>{}</td>", esc(r.why.as_deref().unwrap_or("")))
        } else {
            String::new()
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td><a href=\"/admin/threads/{}#{}\">{}</a></td><td>{}</td>{why_cell}<td>{}</td></tr>",
            time_text(r.created_at),
            esc(&r.thread_id),
            esc(&r.message_id),
            esc(&shorten(&r.question, 200)),
            outcome(&r.status),
            rating_text(r),
        );
    }
    out.push_str("</tbody></table>");
    out
}

pub fn questions(v: &ListView) -> String {
    let q = esc(v.search);
    let extra = if v.search.is_empty() {
        String::new()
    } else {
        format!("&amp;q={}", url_encode(v.search))
    };
    format!(
        "{}<form class=\"search\" method=\"get\" action=\"/admin/questions\" role=\"search\">\
         <input type=\"hidden\" name=\"days\" value=\"{}\">\
         <label for=\"q\">Search questions</label><input id=\"q\" name=\"q\" type=\"search\" value=\"{q}\">\
         <button type=\"submit\">Search</button></form>{}{}",
        periods(v.path, v.days, &extra),
        v.days,
        question_table(v.rows, false),
        v.pager(&extra),
    )
}

pub fn not_covered(v: &ListView) -> String {
    format!(
        "{}<p class=\"rule\"><strong>The rule:</strong> a question is listed when no more than \
         half of its own words (leaving out words such as “how” or “the”) appear in the three \
         docs sections that search ranks best for it, or when the search finds nothing. These \
         are the docs' to-do list.</p>{}{}",
        periods(v.path, v.days, ""),
        question_table(v.rows, true),
        v.pager(""),
    )
}

pub fn feedback(v: &ListView) -> String {
    if v.rows.is_empty() {
        return format!(
            "{}<p class=\"muted\">No ratings in this period.</p>",
            periods(v.path, v.days, "")
        );
    }
    let mut out = periods(v.path, v.days, "");
    for r in v.rows {
        let comment = r
            .comment
            .as_deref()
            .map(|c| format!("<blockquote class=\"comment\">{}</blockquote>", esc(c)))
            .unwrap_or_default();
        let answer = r
            .answer
            .as_deref()
            .map(crate::markdown::render)
            .unwrap_or_else(|| "<p class=\"muted\">No answer.</p>".into());
        let _ = write!(
            out,
            "<article class=\"rated\"><h2><a href=\"/admin/threads/{}#{}\">{}</a></h2>\
             <p class=\"meta\">{} · {}</p>{comment}\
             <details><summary>Answer and sources</summary><div class=\"answer\">{answer}</div>{}</details></article>",
            esc(&r.thread_id),
            esc(&r.message_id),
            esc(&shorten(&r.question, 300)),
            rating_text(r),
            time_text(r.created_at),
            sources(&r.sources),
        );
    }
    out.push_str(&v.pager(""));
    out
}

pub fn pages(usage: &PageUse, days: i64) -> String {
    let link = |page: &DocPage| {
        format!(
            "<a href=\"{}\">{}</a> <span class=\"muted\">{}</span>",
            esc(&page.url),
            esc(&page.title),
            esc(&page.path)
        )
    };
    let mut out = periods("/admin/pages", days, "");
    out.push_str("<h2>Cited by answers</h2>");
    if usage.cited.is_empty() {
        out.push_str("<p class=\"muted\">No answer of this period cited a page.</p>");
    } else {
        out.push_str(
            "<table class=\"pages\"><thead><tr><th scope=\"col\">Page</th>\
             <th scope=\"col\">Answers citing it</th></tr></thead><tbody>",
        );
        for (page, n) in &usage.cited {
            let _ = write!(out, "<tr><td>{}</td><td>{n}</td></tr>", link(page));
        }
        out.push_str("</tbody></table>");
    }
    let _ = write!(
        out,
        "<h2>Never cited ({})</h2><ul class=\"never\">",
        usage.never.len()
    );
    for page in &usage.never {
        let _ = write!(out, "<li>{}</li>", link(page));
    }
    out.push_str("</ul>");
    if !usage.failed.is_empty() {
        let _ = write!(
            out,
            "<h2>Not read from the sites ({})</h2><table class=\"pages failed\"><thead><tr>\
             <th scope=\"col\">Address</th><th scope=\"col\">Why</th>\
             <th scope=\"col\">When</th></tr></thead><tbody>",
            usage.failed.len()
        );
        for f in &usage.failed {
            let _ = write!(
                out,
                "<tr><td><a href=\"{u}\">{u}</a></td><td>{}</td><td>{}</td></tr>",
                esc(&f.reason),
                super::time_text(f.at),
                u = esc(&f.url),
            );
        }
        out.push_str("</tbody></table>");
    }
    out
}

/// Where the docs come from: each source's pages, and a site's last crawl.
pub fn docs_sources(sources: &[DocsSource]) -> String {
    if sources.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<h2>Docs sources</h2><table class=\"pages sources\"><thead><tr>\
         <th scope=\"col\">Source</th><th scope=\"col\">Pages</th>\
         <th scope=\"col\">Not read</th><th scope=\"col\">Last crawl</th></tr></thead><tbody>",
    );
    for s in sources {
        let not_read = match s.failures {
            Some(0) | None => "–".to_string(),
            Some(n) => format!("<a href=\"/admin/pages\">{n}</a>"),
        };
        let last = match (s.kind, s.last_crawl_at, s.crawling) {
            ("folder", ..) => "watched".to_string(),
            (_, _, true) => "crawling now".to_string(),
            (_, Some(at), _) => super::time_text(at),
            (_, None, _) => "not yet".to_string(),
        };
        let error = s
            .error
            .as_deref()
            .map(|e| format!("<br><span class=\"muted\">{}</span>", esc(e)))
            .unwrap_or_default();
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{not_read}</td><td>{last}{error}</td></tr>",
            esc(&s.location),
            s.pages
        );
    }
    out.push_str("</tbody></table>");
    out
}
