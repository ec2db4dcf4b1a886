use super::prelude::*;

pub fn router() -> Router<Assistant> {
    Router::new().route("/api/paste-assistant-simple-completion", post(complete))
}

#[derive(Deserialize)]
struct CompletionBody {
    prompt: Option<String>,
    context: Option<String>,
}

async fn complete(
    State(a): State<Assistant>,
    Addr(addr): Addr,
    ApiJson(body): ApiJson<CompletionBody>,
) -> JsonResult {
    let prompt = body
        .prompt
        .ok_or_else(|| ApiError::BadRequest("`prompt` is required".into()))?;
    let done = a
        .simple_completion(addr.as_deref(), &prompt, body.context.as_deref())
        .await?;
    Ok(Json(json!({
        "id": crate::ids::new_id(crate::ids::Kind::Call).replacen("call_", "chatcmpl-", 1),
        "object": "chat.completion",
        "created": crate::ids::now_secs(),
        "model": done.model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": done.content},
            "finish_reason": "stop",
        }],
        "usage": done.usage,
    })))
}
