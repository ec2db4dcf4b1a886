//! The docs team's routes: the admin pages (`/admin…`, server-rendered HTML behind the sign-in
//! cookie) and the JSON API and export (`/api/admin/…`, behind `Authorization: Bearer
//! <ADMIN_TOKEN>` or the same cookie). All answer 404 while `ADMIN_TOKEN` is unset. Sign-in and
//! sign-out are form posts, refused from other sites like every state-changing request
//! (`csrf`), and counted by the per-address write limit, which bounds guessing the token.
mod view;

use axum::{
    Form,
    extract::{FromRequestParts, Path},
    http::{HeaderValue, StatusCode, header, request::Parts},
    response::{Html, IntoResponse, Redirect, Response},
};

use super::prelude::*;
use super::session::{HOST_PREFIX, Https};
use crate::ids::{ThreadId, now_secs};
use crate::service::ServiceError;
use crate::service::admin::{Credentials, SESSION_SECS};
use crate::store::{Period, QuestionFilter, QuestionRow};

const COOKIE: &str = "pa_admin";
/// Rows a list page shows.
const PER_PAGE: i64 = 50;
/// Most rows the export and the JSON API give in one answer.
const EXPORT_MAX: i64 = 100_000;

pub fn router() -> Router<Assistant> {
    let mut router = Router::new();
    for view in View::ALL {
        router = router.route(view.path(), get(period_page));
    }
    router
        .route("/admin/style.css", get(style))
        .route("/admin/sign-in", post(sign_in))
        .route("/admin/sign-out", post(sign_out))
        .route("/admin/threads/{tid}", get(thread))
        .route("/api/admin/questions", get(export))
        .route("/api/admin/export.csv", get(export))
}

/// The admin cookie and the bearer token of a request, and whether it came over HTTPS.
struct Caller {
    credentials: Credentials,
    https: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let bearer = Bearer::from_request_parts(parts, state)
            .await
            .map_or(None, |Bearer(b)| b);
        let prefixed = format!("{HOST_PREFIX}{COOKIE}");
        let cookie = [prefixed.as_str(), COOKIE]
            .into_iter()
            .find_map(|name| super::session::cookie(&parts.headers, name))
            .map(str::to_string);
        let https = parts.extensions.get::<Https>().is_some_and(|h| h.0);
        Ok(Caller {
            credentials: Credentials { cookie, bearer },
            https,
        })
    }
}

impl Caller {
    fn cookie_name(&self) -> String {
        if self.https {
            format!("{HOST_PREFIX}{COOKIE}")
        } else {
            COOKIE.to_string()
        }
    }

    fn set_cookie(&self, value: &str, max_age: i64) -> HeaderValue {
        let secure = if self.https { "; Secure" } else { "" };
        let cookie = format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
            self.cookie_name()
        );
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// An admin page's answer: the page, or the sign-in form when the caller is not signed in,
/// or a plain 404 while admin is off.
fn html_page(result: Result<String, ServiceError>, next: &str) -> Response {
    let mut response = match result {
        Ok(html) => Html(html).into_response(),
        Err(ServiceError::Unauthorized(_)) => {
            (StatusCode::UNAUTHORIZED, Html(view::sign_in(next, None))).into_response()
        }
        Err(ServiceError::NotFound(_)) if next == "/admin" => {
            (StatusCode::NOT_FOUND, "Not found").into_response()
        }
        Err(e) => {
            let status = StatusCode::from_u16(e.kind().status()).unwrap_or(StatusCode::BAD_REQUEST);
            (status, Html(view::error_page(&e))).into_response()
        }
    };
    // Never cached: it is the team's data, and signing out must not leave it in the cache.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PageParams {
    days: Option<i64>,
    q: Option<String>,
    offset: Option<i64>,
}

impl PageParams {
    /// The period: the last 7, 30 or 90 days (30 unless one of those is asked for).
    fn days(&self) -> i64 {
        self.days
            .filter(|d| view::PERIODS.contains(d))
            .unwrap_or(30)
    }

    fn period(&self) -> Period {
        let to = now_secs() + 1;
        Period {
            from: to - self.days() * 86_400,
            to,
        }
    }

    fn filter(&self) -> QuestionFilter {
        QuestionFilter {
            search: self.q.clone(),
            limit: PER_PAGE,
            offset: self.offset.unwrap_or(0).max(0),
            ..Default::default()
        }
    }
}

/// The admin pages with a period: the overview, the three lists of questions, the pages.
#[derive(Clone, Copy)]
enum View {
    Overview,
    Questions,
    NotCovered,
    Feedback,
    Pages,
}

impl View {
    const ALL: [View; 5] = [
        View::Overview,
        View::Questions,
        View::NotCovered,
        View::Feedback,
        View::Pages,
    ];

    fn path(self) -> &'static str {
        match self {
            View::Overview => "/admin",
            View::Questions => "/admin/questions",
            View::NotCovered => "/admin/not-covered",
            View::Feedback => "/admin/feedback",
            View::Pages => "/admin/pages",
        }
    }

    fn title(self) -> &'static str {
        match self {
            View::Overview => "Overview",
            View::Questions => "Questions",
            View::NotCovered => "Not covered",
            View::Feedback => "Feedback",
            View::Pages => "Pages",
        }
    }

    /// The page drawn for `caller`, or the sign-in form.
    async fn page(self, a: &Assistant, caller: &Caller, p: &PageParams) -> Response {
        let result = async {
            let who = &caller.credentials;
            let body = match self {
                View::Overview => {
                    view::overview(&a.admin_overview(who, p.period()).await?, p.days())
                }
                View::Pages => view::pages(&a.admin_pages(who, p.period()).await?, p.days()),
                list => {
                    let mut filter = p.filter();
                    if let View::NotCovered = list {
                        filter.covered = Some(false);
                    }
                    filter.rated_first = matches!(list, View::Feedback);
                    let (rows, total) = a.admin_questions(who, p.period(), &filter).await?;
                    let v = view::ListView {
                        path: self.path(),
                        days: p.days(),
                        search: filter.search.as_deref().unwrap_or(""),
                        rows: &rows,
                        total,
                        offset: filter.offset,
                        per_page: PER_PAGE,
                    };
                    match list {
                        View::NotCovered => view::not_covered(&v),
                        View::Feedback => view::feedback(&v),
                        _ => view::questions(&v),
                    }
                }
            };
            Ok(view::page(self.title(), self.title(), &body))
        }
        .await;
        html_page(result, self.path())
    }
}

/// Every admin page with a period, served by one handler that tells them by their route.
async fn period_page(
    State(a): State<Assistant>,
    caller: Caller,
    route: axum::extract::MatchedPath,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Response {
    let view = View::ALL
        .into_iter()
        .find(|v| v.path() == route.as_str())
        .unwrap_or(View::Overview);
    view.page(&a, &caller, &p).await
}

async fn thread(State(a): State<Assistant>, caller: Caller, Path(tid): Path<String>) -> Response {
    let next = format!("/admin/threads/{}", view::url_encode(&tid));
    let result = async {
        let tid = ThreadId::parse(&tid)?;
        let (conversation, feedback) = a.admin_conversation(&caller.credentials, &tid).await?;
        let title = crate::service::pages::thread_title(&conversation.thread);
        Ok(view::page(
            &title,
            "",
            &view::conversation(&conversation, &feedback),
        ))
    }
    .await;
    html_page(result, &next)
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("admin.css"),
    )
        .into_response()
}

#[derive(Deserialize)]
struct SignIn {
    token: String,
    #[serde(default)]
    next: String,
}

/// Where to go after signing in: an admin page of this server, nothing else (no open
/// redirect).
fn local_admin_path(next: &str) -> &str {
    let plain = next.starts_with("/admin")
        && !next.contains("//")
        && !next.contains('\\')
        && next.chars().all(|c| c.is_ascii_graphic());
    if plain { next } else { "/admin" }
}

async fn sign_in(State(a): State<Assistant>, caller: Caller, Form(form): Form<SignIn>) -> Response {
    let next = local_admin_path(&form.next).to_string();
    match a.admin_sign_in(&form.token) {
        Ok(value) => {
            let mut response = Redirect::to(&next).into_response();
            response
                .headers_mut()
                .insert(header::SET_COOKIE, caller.set_cookie(&value, SESSION_SECS));
            response
        }
        Err(ServiceError::Unauthorized(message)) => (
            StatusCode::UNAUTHORIZED,
            Html(view::sign_in(&next, Some(&message))),
        )
            .into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "Not found").into_response(),
    }
}

async fn sign_out(State(a): State<Assistant>, caller: Caller) -> Response {
    if !a.admin_enabled() {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    }
    let mut response = Redirect::to("/admin").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, caller.set_cookie("", 0));
    response
}

/// The export's filters: a date range (UTC days, both ends included) and the rating and
/// coverage, every one optional.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ExportParams {
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
async fn export(
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
    fn only_local_admin_paths_are_followed_after_sign_in() {
        assert_eq!(
            local_admin_path("/admin/feedback?days=7"),
            "/admin/feedback?days=7"
        );
        for bad in [
            "https://evil.example/admin",
            "//evil.example",
            "/admin//evil",
            "/other",
            "/admin\\x",
            "",
        ] {
            assert_eq!(local_admin_path(bad), "/admin", "{bad}");
        }
    }

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
