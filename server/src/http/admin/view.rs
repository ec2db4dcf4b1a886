//! The admin pages' HTML, made on the server: plain pages with forms and links (no script),
//! so the chat's WASM carries nothing of them. Every text from a reader or the model is
//! escaped, and answers are the same safe HTML the chat shows.
use std::fmt::Write as _;

use app::api::escape_html as esc;

use crate::service::admin::{DocPage, Overview, PageUse};
use crate::service::{Conversation, ServiceError};
use crate::store::{FeedbackRow, QuestionRow};

/// The periods offered, in days.
pub const PERIODS: [i64; 3] = [7, 30, 90];

/// `YYYY-MM-DD` of a unix time (UTC).
pub fn day_text(unix: i64) -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| t.date())
        .unwrap_or(time::Date::MIN);
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// `YYYY-MM-DD HH:MM` of a unix time (UTC).
pub fn time_text(unix: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{} {:02}:{:02}", day_text(unix), t.hour(), t.minute())
}

/// A whole page: the header with the navigation (`current` marked) and sign-out, then `body`.
pub fn page(title: &str, current: &str, body: &str) -> String {
    let mut nav = String::new();
    for (href, label) in [
        ("/admin", "Overview"),
        ("/admin/questions", "Questions"),
        ("/admin/not-covered", "Not covered"),
        ("/admin/feedback", "Feedback"),
        ("/admin/pages", "Pages"),
    ] {
        let mark = if label == current {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = write!(nav, "<a href=\"{href}\"{mark}>{label}</a>");
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Paste Assistant for the docs team</title>\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\
         <link rel=\"stylesheet\" href=\"/admin/style.css\"></head>\
         <body class=\"admin\"><header class=\"admin-header\">\
         <a class=\"brand\" href=\"/admin\">Paste Assistant <span>for the docs team</span></a>\
         <nav aria-label=\"Admin\">{nav}</nav>\
         <form method=\"post\" action=\"/admin/sign-out\"><button type=\"submit\">Sign out</button></form>\
         </header><main id=\"main\"><h1>{title}</h1>{body}</main></body></html>",
        title = esc(title)
    )
}

/// The sign-in form; `next` is where to go after it, `error` what went wrong.
pub fn sign_in(next: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"admin-error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sign in · Paste Assistant for the docs team</title>\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\
         <link rel=\"stylesheet\" href=\"/admin/style.css\"></head>\
         <body class=\"admin\"><main id=\"main\" class=\"sign-in\">\
         <h1>Paste Assistant for the docs team</h1>{error}\
         <form method=\"post\" action=\"/admin/sign-in\">\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <label for=\"token\">Admin token</label>\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Sign in</button></form>\
         <p class=\"hint\">The token is the server's <code>ADMIN_TOKEN</code>.</p></main></body></html>",
        next = esc(next)
    )
}

/// A page for an error a person caused (a bad filter, an unknown thread).
pub fn error_page(e: &ServiceError) -> String {
    page(
        "Not available",
        "",
        &format!(
            "<p class=\"admin-error\" role=\"alert\">{}</p>",
            esc(&e.public_message())
        ),
    )
}

/// Links to the same page for each period.
fn periods(path: &str, days: i64, extra: &str) -> String {
    let mut out = String::from("<nav class=\"periods\" aria-label=\"Period\">");
    for d in PERIODS {
        let mark = if d == days {
            " aria-current=\"true\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<a href=\"{path}?days={d}{extra}\"{mark}>Last {d} days</a>"
        );
    }
    out.push_str("</nav>");
    out
}

/// Questions per day as bars, with an accessible name and a summary for screen readers.
pub fn chart(overview: &Overview, days: i64) -> String {
    let per_day = &overview.per_day;
    let max = per_day.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let total: i64 = per_day.iter().map(|(_, n)| *n).sum();
    let (w, h, pad) = (720.0_f64, 200.0_f64, 28.0_f64);
    let slot = (w - pad) / per_day.len().max(1) as f64;
    let mut bars = String::new();
    for (i, (day, n)) in per_day.iter().enumerate() {
        let bar = (h - pad) * (*n as f64) / max as f64;
        let _ = write!(
            bars,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>{}: {n}</title></rect>",
            pad + i as f64 * slot + slot * 0.1,
            h - pad - bar,
            (slot * 0.8).max(1.0),
            bar,
            day_text(day * 86_400),
        );
    }
    let busiest = per_day
        .iter()
        .max_by_key(|(d, n)| (*n, -*d))
        .filter(|(_, n)| *n > 0)
        .map(|(d, n)| format!(" The busiest day was {} with {n}.", day_text(d * 86_400)))
        .unwrap_or_default();
    let first = per_day.first().map_or(0, |(d, _)| *d);
    let last = per_day.last().map_or(0, |(d, _)| *d);
    format!(
        "<figure class=\"chart\"><svg viewBox=\"0 0 {w} {h}\" role=\"img\" \
         aria-labelledby=\"chart-title chart-desc\">\
         <title id=\"chart-title\">Questions per day, last {days} days</title>\
         <desc id=\"chart-desc\">{total} questions from {} to {}.{busiest}</desc>\
         <line x1=\"{pad}\" y1=\"{base}\" x2=\"{w}\" y2=\"{base}\" class=\"axis\"/>\
         <text x=\"0\" y=\"12\" class=\"tick\">{max}</text><text x=\"0\" y=\"{base}\" class=\"tick\">0</text>\
         <g class=\"bars\">{bars}</g>\
         <text x=\"{pad}\" y=\"{h}\" class=\"tick\">{}</text>\
         <text x=\"{w}\" y=\"{h}\" class=\"tick end\">{}</text></svg>\
         <figcaption>Questions per day (UTC)</figcaption></figure>",
        day_text(first * 86_400),
        day_text(last * 86_400),
        day_text(first * 86_400),
        day_text(last * 86_400),
        base = h - pad,
    )
}

pub fn overview(overview: &Overview, days: i64) -> String {
    let c = &overview.counts;
    let mut cards = String::from("<dl class=\"counts\">");
    for (label, n, href) in [
        (
            "Questions",
            c.questions,
            format!("/admin/questions?days={days}"),
        ),
        ("Threads", c.threads, String::new()),
        ("Answered", c.answered, String::new()),
        (
            "Not covered",
            c.not_covered,
            format!("/admin/not-covered?days={days}"),
        ),
        ("Failed", c.failed, String::new()),
        ("Helpful", c.helpful, format!("/admin/feedback?days={days}")),
        (
            "Not helpful",
            c.not_helpful,
            format!("/admin/feedback?days={days}"),
        ),
    ] {
        let value = if href.is_empty() {
            n.to_string()
        } else {
            format!("<a href=\"{href}\">{n}</a>")
        };
        let _ = write!(cards, "<div><dt>{label}</dt><dd>{value}</dd></div>");
    }
    cards.push_str("</dl>");
    format!(
        "{}{cards}{}<p><a href=\"/api/admin/export.csv?from={}\">Export the questions of this period (CSV)</a> · \
         <a href=\"/api/admin/questions?from={}\">as JSON</a></p>",
        periods("/admin", days, ""),
        chart(overview, days),
        day_text(overview.period.from),
        day_text(overview.period.from),
    )
}

/// The status of a question's run, for people.
fn outcome(status: &str) -> &'static str {
    match status {
        "completed" => "answered",
        "failed" => "failed",
        "expired" => "timed out",
        "cancelled" => "stopped",
        "incomplete" => "cut off",
        _ => "in progress",
    }
}

fn rating_text(row: &QuestionRow) -> String {
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

fn reason_label(reason: &str) -> &str {
    app::api::REASONS
        .iter()
        .find(|(value, _)| *value == reason)
        .map_or(reason, |(_, label)| label)
}

fn sources(json: &str) -> String {
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

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{}…", cut.trim_end())
}

/// Links to the previous and next pages of a list.
fn pager(path_and_query: &str, offset: i64, shown: usize, total: i64, per_page: i64) -> String {
    let mut out = format!(
        "<p class=\"pager\">{}–{} of {total}",
        if shown == 0 { 0 } else { offset + 1 },
        offset + shown as i64
    );
    if offset > 0 {
        let _ = write!(
            out,
            " · <a href=\"{path_and_query}&amp;offset={}\" rel=\"prev\">Newer</a>",
            (offset - per_page).max(0)
        );
    }
    if offset + (shown as i64) < total {
        let _ = write!(
            out,
            " · <a href=\"{path_and_query}&amp;offset={}\" rel=\"next\">Older</a>",
            offset + per_page
        );
    }
    out.push_str("</p>");
    out
}

pub struct ListView<'a> {
    pub path: &'a str,
    pub days: i64,
    pub search: &'a str,
    pub rows: &'a [QuestionRow],
    pub total: i64,
    pub offset: i64,
    pub per_page: i64,
}

impl ListView<'_> {
    /// Links to the list's newer and older pages; `extra` is more of the query.
    fn pager(&self, extra: &str) -> String {
        pager(
            &format!("{}?days={}{extra}", self.path, self.days),
            self.offset,
            self.rows.len(),
            self.total,
            self.per_page,
        )
    }
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
    out
}

/// A conversation as the reader saw it, with each run's tool calls and sources.
pub fn conversation(c: &Conversation, feedback: &[FeedbackRow]) -> String {
    let mut out = format!(
        "<p class=\"meta\">Started {} · {} messages</p>",
        time_text(c.thread.created_at),
        c.messages.len()
    );
    for m in &c.messages {
        let (class, who) = if m.role == "assistant" {
            ("assistant", "Assistant")
        } else {
            ("user", "Reader")
        };
        let body = if m.role == "assistant" {
            crate::markdown::render(&m.content)
        } else {
            format!("<p>{}</p>", esc(&m.content))
        };
        let status = if m.is_complete() {
            String::new()
        } else {
            format!(" · {}", esc(&m.status))
        };
        let rated = feedback
            .iter()
            .find(|f| f.message_id == m.id)
            .map(|f| {
                let reason = f
                    .reason
                    .as_deref()
                    .map(|r| format!(" ({})", esc(reason_label(r))))
                    .unwrap_or_default();
                let comment = f
                    .comment
                    .as_deref()
                    .map(|c| format!("<blockquote class=\"comment\">{}</blockquote>", esc(c)))
                    .unwrap_or_default();
                let word = if f.rating == "up" {
                    "Helpful"
                } else {
                    "Not helpful"
                };
                format!(
                    "<p class=\"rating {}\">Rated: {word}{reason}</p>{comment}",
                    esc(&f.rating)
                )
            })
            .unwrap_or_default();
        let _ = write!(
            out,
            "<article class=\"msg {class}\" id=\"{}\"><p class=\"meta\">{who} · {}{status}</p>{body}{rated}</article>",
            esc(&m.id),
            time_text(m.created_at),
        );
        if m.role == "user" {
            for run in c.runs.iter().filter(|r| r.message_id == m.id) {
                out.push_str(&run_details(run, &c.steps));
            }
        }
    }
    out
}

fn run_details(run: &crate::store::RunRow, steps: &[crate::store::StepRow]) -> String {
    let mut calls = String::new();
    for step in steps
        .iter()
        .filter(|s| s.run_id == run.id && s.step_type == "tool_calls")
    {
        let details: serde_json::Value =
            serde_json::from_str(&step.step_details).unwrap_or_default();
        for call in details["tool_calls"].as_array().into_iter().flatten() {
            let name = call["function"]["name"].as_str().unwrap_or("?");
            let args = call["function"]["arguments"].as_str().unwrap_or("");
            let output = call["function"]["output"].as_str().unwrap_or("");
            let _ = write!(
                calls,
                "<li><code>{}({})</code><details><summary>Output</summary><pre>{}</pre></details></li>",
                esc(name),
                esc(&shorten(args, 600)),
                esc(&shorten(output, 4_000))
            );
        }
    }
    let sources_json = serde_json::to_string(&crate::engine::tools::sources_of(steps, &run.id))
        .unwrap_or_default();
    let error = run
        .last_error
        .as_deref()
        .and_then(|e| serde_json::from_str::<serde_json::Value>(e).ok())
        .and_then(|e| e["message"].as_str().map(str::to_string))
        .map(|m| format!("<p class=\"admin-error\">{}</p>", esc(&m)))
        .unwrap_or_default();
    let calls = if calls.is_empty() {
        "<p class=\"muted\">No tool calls.</p>".to_string()
    } else {
        format!("<ol class=\"calls\">{calls}</ol>")
    };
    format!(
        "<details class=\"run\"><summary>Run <code>{}</code>: {}</summary>{error}<h3>Tool calls</h3>{calls}<h3>Sources</h3>{}</details>",
        esc(&run.id),
        esc(run.status.as_str()),
        sources(&sources_json)
    )
}

/// `text` for a URL's query.
pub fn url_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_times_are_utc() {
        assert_eq!(day_text(0), "1970-01-01");
        assert_eq!(time_text(1_764_547_200 + 3_661), "2025-12-01 01:01");
    }

    #[test]
    fn reader_text_is_escaped_and_queries_encoded() {
        assert_eq!(url_encode("a b&c/é"), "a%20b%26c%2F%C3%A9");
        assert_eq!(shorten("abcdef", 3), "abc…");
    }
}
