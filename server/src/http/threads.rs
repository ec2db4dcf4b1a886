use super::prelude::*;
use crate::ids::ThreadId;

pub fn router() -> Router<Assistant> {
    Router::new()
        .route("/api/paste-assistant-thread", post(create))
        .route("/api/paste-assistant-threads", get(list))
        .route(
            "/api/paste-assistant-thread/{tid}",
            get(fetch).put(update).delete(remove),
        )
}

#[derive(Deserialize)]
struct ThreadBody {
    metadata: Option<Value>,
}

async fn create(
    State(a): State<Assistant>,
    Session(s): Session,
    Addr(addr): Addr,
    ApiJson(body): ApiJson<ThreadBody>,
) -> JsonResult {
    let thread = a.create_thread(&s, addr.as_deref(), body.metadata).await?;
    Ok(Json(objects::thread(&thread)))
}

async fn list(
    State(a): State<Assistant>,
    Session(s): Session,
    ApiQuery(params): ApiQuery<ListParams>,
) -> JsonResult {
    let (page, limit) = params.page(true)?;
    let rows = a.list_threads(&s, &page).await?;
    Ok(Json(objects::list(
        rows.iter().map(objects::thread).collect(),
        limit,
    )))
}

async fn fetch(
    State(a): State<Assistant>,
    Session(s): Session,
    ApiPath(tid): ApiPath<ThreadId>,
) -> JsonResult {
    Ok(Json(objects::thread(&a.thread(&s, &tid).await?)))
}

async fn update(
    State(a): State<Assistant>,
    Session(s): Session,
    ApiPath(tid): ApiPath<ThreadId>,
    ApiJson(body): ApiJson<ThreadBody>,
) -> JsonResult {
    Ok(Json(objects::thread(
        &a.update_thread(&s, &tid, body.metadata).await?,
    )))
}

async fn remove(
    State(a): State<Assistant>,
    Session(s): Session,
    ApiPath(tid): ApiPath<ThreadId>,
) -> JsonResult {
    a.delete_thread(&s, &tid).await?;
    Ok(Json(
        json!({"id": tid.as_str(), "object": "thread.deleted", "deleted": true}),
    ))
}
