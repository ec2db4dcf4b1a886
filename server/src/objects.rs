//! The OpenAI-shaped JSON objects of API.md (`ThreadObject`, `MessageObject`, `RunObject`,
//! `RunStepObject`, lists), with every field OpenAI's schema requires.
use serde_json::{Value, json};

use crate::models::prompt::tool_specs;
use crate::store::{FeedbackRow, MessageRow, RunRow, StepRow, ThreadRow};

/// The tools every run offers, as run objects list them (built once: runs are polled often).
static RUN_TOOLS: std::sync::LazyLock<Vec<Value>> =
    std::sync::LazyLock::new(|| tool_specs().iter().map(|t| t.to_openai()).collect());

/// The id runs report as their assistant (there is one assistant per server).
pub const ASSISTANT_ID: &str = "asst_paste_assistant";

fn parse(text: Option<&str>) -> Value {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null)
}

fn metadata(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| json!({}))
}

pub fn thread(row: &ThreadRow) -> Value {
    json!({
        "id": row.id,
        "object": "thread",
        "created_at": row.created_at,
        "tool_resources": {},
        "metadata": metadata(&row.metadata),
    })
}

pub fn message(row: &MessageRow) -> Value {
    json!({
        "id": row.id,
        "object": "thread.message",
        "created_at": row.created_at,
        "thread_id": row.thread_id,
        "status": row.status,
        "incomplete_details": parse(row.incomplete_details.as_deref()),
        // Messages stored before answers were saved as written have no time of their own.
        "completed_at": if row.is_complete() { json!(row.completed_at.unwrap_or(row.created_at)) } else { Value::Null },
        "incomplete_at": row.incomplete_at,
        "role": row.role,
        "content": [{"type": "text", "text": {"value": row.content, "annotations": []}}],
        "assistant_id": if row.role == "assistant" { json!(ASSISTANT_ID) } else { Value::Null },
        "run_id": row.run_id,
        "attachments": [],
        "metadata": metadata(&row.metadata),
    })
}

/// A reader's rating of an answer (ours: OpenAI's objects have none).
pub fn feedback(row: &FeedbackRow) -> Value {
    json!({
        "object": "thread.message.feedback",
        "message_id": row.message_id,
        "thread_id": row.thread_id,
        "rating": row.rating,
        "reason": row.reason,
        "comment": row.comment,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    })
}

pub fn run(row: &RunRow) -> Value {
    json!({
        "id": row.id,
        "object": "thread.run",
        "created_at": row.created_at,
        "thread_id": row.thread_id,
        "assistant_id": ASSISTANT_ID,
        "status": row.status,
        "required_action": parse(row.required_action.as_deref()),
        "last_error": parse(row.last_error.as_deref()),
        "expires_at": if row.status.is_terminal() { Value::Null } else { json!(row.expires_at) },
        "started_at": row.started_at,
        "cancelled_at": row.cancelled_at,
        "failed_at": row.failed_at,
        "completed_at": row.completed_at,
        "incomplete_details": null,
        "model": row.model,
        "instructions": row.instructions,
        "tools": &*RUN_TOOLS,
        "metadata": {},
        "usage": parse(row.usage.as_deref()),
        "temperature": null,
        "top_p": null,
        "max_prompt_tokens": null,
        "max_completion_tokens": null,
        "truncation_strategy": {"type": "auto", "last_messages": null},
        "tool_choice": "auto",
        "parallel_tool_calls": true,
        "response_format": "auto",
    })
}

pub fn step(row: &StepRow) -> Value {
    json!({
        "id": row.id,
        "object": "thread.run.step",
        "created_at": row.created_at,
        "assistant_id": ASSISTANT_ID,
        "thread_id": row.thread_id,
        "run_id": row.run_id,
        "type": row.step_type,
        "status": row.status,
        "step_details": parse(Some(&row.step_details)),
        "last_error": parse(row.last_error.as_deref()),
        "expired_at": row.expired_at,
        "cancelled_at": row.cancelled_at,
        "failed_at": row.failed_at,
        "completed_at": row.completed_at,
        "metadata": {},
        "usage": parse(row.usage.as_deref()),
    })
}

/// A list page: `has_more` is known because one row more than the limit was fetched.
pub fn list(mut data: Vec<Value>, limit: usize) -> Value {
    let has_more = data.len() > limit;
    data.truncate(limit);
    let id = |v: Option<&Value>| v.and_then(|v| v.get("id")).cloned().unwrap_or(Value::Null);
    json!({
        "object": "list",
        "first_id": id(data.first()),
        "last_id": id(data.last()),
        "has_more": has_more,
        "data": data,
    })
}
