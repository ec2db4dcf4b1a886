//! The questions as data: `/api/admin/questions` (JSON) and `/api/admin/export.csv`.
use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

use super::auth::Caller;
use super::view;
use crate::http::prelude::*;
use crate::ids::now_secs;
use crate::service::ServiceError;
use crate::store::{Period, QuestionFilter, QuestionRow};

/// Most rows the export and the JSON API give in one answer.
const EXPORT_MAX: i64 = 100_000;

/// The export's filters: a date range (UTC days, both ends included) and the rating and
/// coverage, every one optional.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ExportParams {
    from: Option<String>,
    to: Option<String>,
    rating: Option<String>,
    covered: Option<String>,
    q: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Unix time of the start of `YYYY-MM-DD` (UTC).
fn day_start(text: &str, name: &str) -> Result<i64, ServiceError> {
    let bad = || {
        ServiceError::BadRequest(format!(
            "`{name}` must be a date as YYYY-MM-DD, not {:?}",
            text.chars().take(20).collect::<String>()
        ))
    };
    let mut parts = text.trim().splitn(3, '-');
    let mut next = || parts.next().and_then(|p| p.parse::<i64>().ok());
    let (Some(y), Some(m), Some(d)) = (next(), next(), next()) else {
        return Err(bad());
    };
    let month = u8::try_from(m)
        .ok()
        .and_then(|m| time::Month::try_from(m).ok())
        .ok_or_else(bad)?;
    let date = i32::try_from(y)
        .ok()
        .zip(u8::try_from(d).ok())
        .and_then(|(y, d)| time::Date::from_calendar_date(y, month, d).ok())
        .ok_or_else(bad)?;
    Ok(date.midnight().assume_utc().unix_timestamp())
}

impl ExportParams {
    fn period(&self) -> Result<Period, ServiceError> {
        let from = match self.from.as_deref().filter(|s| !s.is_empty()) {
            Some(f) => day_start(f, "from")?,
            None => 0,
        };
        let to = match self.to.as_deref().filter(|s| !s.is_empty()) {
            Some(t) => day_start(t, "to")? + 86_400,
            None => now_secs() + 1,
        };
        if to <= from {
            return Err(ServiceError::BadRequest(
                "`to` must not be before `from`".into(),
            ));
        }
        Ok(Period { from, to })
    }

    fn filter(&self) -> Result<QuestionFilter, ServiceError> {
        let covered = match self.covered.as_deref() {
            None | Some("") => None,
            Some("true" | "1" | "yes") => Some(true),
            Some("false" | "0" | "no") => Some(false),
            Some(_) => {
                return Err(ServiceError::BadRequest(
                    "`covered` must be true or false".into(),
                ));
            }
        };
        let limit = self.limit.unwrap_or(EXPORT_MAX);
        if !(1..=EXPORT_MAX).contains(&limit) {
            return Err(ServiceError::BadRequest(format!(
                "`limit` must be between 1 and {EXPORT_MAX}"
            )));
        }
        Ok(QuestionFilter {
            search: self.q.clone(),
            rating: self.rating.clone().filter(|r| !r.is_empty()),
            covered,
            rated_first: false,
            limit,
            offset: self.offset.unwrap_or(0).max(0),
        })
    }
}

/// A question as the JSON API and the export give it: no session ids, no addresses.
fn question_json(r: &QuestionRow) -> Value {
    let sources: Value = serde_json::from_str(&r.sources).unwrap_or_else(|_| json!([]));
    json!({
        "id": r.message_id,
        "object": "admin.question",
        "thread_id": r.thread_id,
        "created_at": r.created_at,
        "question": r.question,
        "status": r.status,
        "covered": r.covered == 1,
        "coverage": r.coverage as f64 / 100.0,
        "not_covered_because": r.why,
        "answer": r.answer,
        "sources": sources,
        "feedback": r.rating.as_ref().map(|rating| json!({
            "rating": rating, "reason": r.reason, "comment": r.comment,
        })),
    })
}

/// The questions the filters pick, as JSON (`/api/admin/questions`) or CSV
/// (`/api/admin/export.csv`).
pub(super) async fn export(
    State(a): State<Assistant>,
    caller: Caller,
    route: axum::extract::MatchedPath,
    ApiQuery(p): ApiQuery<ExportParams>,
) -> Result<Response, ApiError> {
    let (rows, total) = a
        .admin_questions(&caller.credentials, p.period()?, &p.filter()?)
        .await?;
    if route.as_str().ends_with(".csv") {
        csv_answer(&rows)
    } else {
        Ok(json_answer(&rows, total, &p))
    }
}

fn json_answer(rows: &[QuestionRow], total: i64, p: &ExportParams) -> Response {
    let body = json!({
        "object": "list",
        "data": rows.iter().map(question_json).collect::<Vec<_>>(),
        "total": total,
        "has_more": p.offset.unwrap_or(0).max(0) + (rows.len() as i64) < total,
    });
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) gets a leading
/// `'`: the text is a reader's, and opening the export must not run it.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

fn csv_answer(rows: &[QuestionRow]) -> Result<Response, ApiError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let write = |out: &mut csv::Writer<Vec<u8>>, record: &[String]| {
        out.write_record(record)
            .map_err(|e| ApiError::Service(ServiceError::BadRequest(e.to_string())))
    };
    write(
        &mut out,
        &[
            "asked_at",
            "thread_id",
            "question_id",
            "question",
            "status",
            "covered",
            "not_covered_because",
            "answer",
            "sources",
            "rating",
            "reason",
            "comment",
        ]
        .map(String::from),
    )?;
    for r in rows {
        let sources: Vec<app::api::Source> = serde_json::from_str(&r.sources).unwrap_or_default();
        let sources = sources
            .iter()
            .map(|s| s.url.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        write(
            &mut out,
            &[
                format!("{}Z", view::time_text(r.created_at).replace(' ', "T")),
                r.thread_id.clone(),
                r.message_id.clone(),
                cell(&r.question),
                r.status.clone(),
                (r.covered == 1).to_string(),
                cell(r.why.as_deref().unwrap_or("")),
                cell(r.answer.as_deref().unwrap_or("")),
                sources,
                r.rating.clone().unwrap_or_default(),
                r.reason.clone().unwrap_or_default(),
                cell(r.comment.as_deref().unwrap_or("")),
            ],
        )?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| ApiError::Service(ServiceError::BadRequest(e.to_string())))?;
    let name = format!("questions-{}.csv", view::day_text(now_secs()));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_days_and_bad_ones_say_so() {
        assert_eq!(day_start("1970-01-02", "from").unwrap(), 86_400);
        for bad in ["", "2026-13-01", "2026-02-30", "yesterday", "2026-1"] {
            let e = day_start(bad, "from").unwrap_err();
            assert!(e.to_string().contains("`from`"), "{bad}: {e}");
        }
    }

    #[test]
    fn formulas_are_defused_in_the_export() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("-1+1"), "'-1+1");
        assert_eq!(cell("How do I?"), "How do I?");
    }
}
