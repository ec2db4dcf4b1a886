//! One conversation as the docs team reads it: questions, answers, sources and each run's
//! steps.
use std::fmt::Write as _;

use app::api::escape_html as esc;

use super::lists::{reason_label, sources};
use super::*;

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
