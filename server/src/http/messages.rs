use super::prelude::*;
use crate::ids::{MessageId, RunId, ThreadId};
use crate::service::feedback::{Rated, Rating};

pub fn router() -> Router<Assistant> {
    Router::new()
        .route("/api/paste-assistant-messages/{tid}", get(list))
        .route("/api/paste-assistant-message", post(create))
        .route("/api/paste-assistant-thread/{tid}/run/{rid}", get(run))
        .route(
            "/api/paste-assistant-thread/{tid}/run/{rid}/steps",
            get(steps),
        )
        .route(
            "/api/paste-assistant-thread/{tid}/run/{rid}/cancel",
            post(cancel),
        )
        .route(
            "/api/paste-assistant-thread/{tid}/run/{rid}/events",
            get(events),
        )
        .route(
            "/api/paste-assistant-thread/{tid}/messages/{mid}/feedback",
            put(rate).delete(rate),
        )
}

/// `PUT` rates with the body; `DELETE` (no body) removes the rating.
async fn rate(
    State(a): State<Assistant>,
    Session(s): Session,
    method: axum::http::Method,
    ApiPath((tid, mid)): ApiPath<(ThreadId, MessageId)>,
    ApiJson(body): ApiJson<Rating>,
) -> JsonResult {
    let rating = (method == axum::http::Method::PUT).then_some(body);
    Ok(Json(match a.rate_answer(&s, &tid, &mid, rating).await? {
        Rated::Stored(row) => objects::feedback(&row),
        Rated::Removed(deleted) => json!({
            "message_id": mid.as_str(),
            "object": "thread.message.feedback.deleted",
            "deleted": deleted,
        }),
    }))
}

#[derive(Deserialize)]
struct EventParams {
    /// `html`: the answer so far as safe HTML (`thread.message.html`) instead of text deltas,
    /// for this app's pages.
    render: Option<String>,
}

/// The run's events as server-sent events (see `service::events`): `Last-Event-ID` resumes,
/// a comment every 15 s keeps proxies from closing the connection, and `X-Accel-Buffering: no`
/// tells nginx to pass each event on at once. Compression is off for `text/event-stream`
/// (tower-http's default rule), since it would hold events back.
async fn events(
    State(a): State<Assistant>,
    Session(s): Session,
    ApiPath((tid, rid)): ApiPath<(ThreadId, RunId)>,
    ApiQuery(params): ApiQuery<EventParams>,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::{
        IntoResponse,
        sse::{Event, KeepAlive, Sse},
    };
    use futures_util::StreamExt;
    let from = headers
        .get("last-event-id")
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::BadRequest("`Last-Event-ID` is not text".into()))
                .and_then(|id| Ok(crate::service::events::Cursor::parse(id)?))
        })
        .transpose()?;
    let html = match params.render.as_deref() {
        None | Some("") | Some("text") => false,
        Some("html") => true,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "`render` must be `text` or `html`".into(),
            ));
        }
    };
    let stream = a.run_events(&s, &tid, &rid, from, html).await?.map(|e| {
        Ok::<_, std::convert::Infallible>(Event::default().id(e.id).event(e.event).data(e.data))
    });
    let keep_alive = KeepAlive::new()
        .interval(std::time::Duration::from_secs(15))
        .text("keep-alive");
    let mut response = Sse::new(stream).keep_alive(keep_alive).into_response();
    response.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    Ok(response)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageBody {
    thread_id: Option<String>,
    message: Option<String>,
}

async fn create(
    State(a): State<Assistant>,
    Session(s): Session,
    Addr(addr): Addr,
    ApiJson(body): ApiJson<MessageBody>,
) -> JsonResult {
    let thread_id = body
        .thread_id
        .ok_or_else(|| ApiError::BadRequest("`threadId` is required".into()))?;
    let message = body
        .message
        .ok_or_else(|| ApiError::BadRequest("`message` is required".into()))?;
    let run = a
        .post_message(&s, addr.as_deref(), &ThreadId::parse(&thread_id)?, &message)
        .await?;
    Ok(Json(json!({ "run": objects::run(&run) })))
}

async fn list(
    State(a): State<Assistant>,
    Session(s): Session,
    ApiPath(tid): ApiPath<ThreadId>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> JsonResult {
    let (page, limit) = params.page(false)?;
    let rows = a.list_messages(&s, &tid, &page).await?;
    Ok(Json(objects::list(
        rows.iter().map(objects::message).collect(),
        limit,
    )))
}

async fn run(
    State(a): State<Assistant>,
    Session(s): Session,
    ApiPath((tid, rid)): ApiPath<(ThreadId, RunId)>,
) -> JsonResult {
    Ok(Json(objects::run(&a.run(&s, &tid, &rid).await?)))
}

async fn cancel(
    State(a): State<Assistant>,
    Session(s): Session,
    ApiPath((tid, rid)): ApiPath<(ThreadId, RunId)>,
) -> JsonResult {
    Ok(Json(objects::run(&a.cancel_run(&s, &tid, &rid).await?)))
}

async fn steps(
    State(a): State<Assistant>,
    Session(s): Session,
    ApiPath((tid, rid)): ApiPath<(ThreadId, RunId)>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> JsonResult {
    let (page, limit) = params.page(false)?;
    let rows = a.steps(&s, &tid, &rid, &page).await?;
    Ok(Json(objects::list(
        rows.iter().map(objects::step).collect(),
        limit,
    )))
}
