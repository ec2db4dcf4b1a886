//! The docs team's routes: the admin pages (`/admin…`, server-rendered HTML behind the sign-in
//! cookie) and the JSON API and export (`/api/admin/…`, behind `Authorization: Bearer
//! <ADMIN_TOKEN>` or the same cookie). All answer 404 while `ADMIN_TOKEN` is unset. Sign-in and
//! sign-out are form posts, refused from other sites like every state-changing request
//! (`csrf`), and counted by the per-address write limit, which bounds guessing the token.
mod auth;
mod export;
mod view;

use auth::{Caller, sign_in, sign_out};
use export::export;

use axum::{
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};

use super::prelude::*;
use crate::ids::{ThreadId, now_secs};
use crate::service::ServiceError;
use crate::store::{Period, QuestionFilter};

/// Rows a list page shows.
const PER_PAGE: i64 = 50;

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
