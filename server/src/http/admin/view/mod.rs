//! The admin pages' HTML, made on the server: plain pages with forms and links (no script),
//! so the chat's WASM carries nothing of them. Every text from a reader or the model is
//! escaped, and answers are the same safe HTML the chat shows.
mod lists;
mod record;

use std::fmt::Write as _;

use app::api::escape_html as esc;

use crate::service::admin::{DocPage, Overview, PageUse};
use crate::service::{Conversation, ServiceError};
use crate::store::{FeedbackRow, QuestionRow};
pub use lists::{feedback, not_covered, pages, questions};
pub use record::conversation;

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
        "{}{cards}{}{}<p><a href=\"/api/admin/export.csv?from={}\">Export the questions of this period (CSV)</a> · \
         <a href=\"/api/admin/questions?from={}\">as JSON</a></p>",
        periods("/admin", days, ""),
        chart(overview, days),
        lists::docs_sources(&overview.sources),
        day_text(overview.period.from),
        day_text(overview.period.from),
    )
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
