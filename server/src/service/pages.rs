//! The pages' view of the service: `app`'s `AssistantService` implemented over [`Assistant`].
//! Ids from the server functions are parsed here, once.
use app::api::{
    AppError, ConversationItem, Feedback, ItemKind, Rating, RunState, RunStatus, SentMessage, Site,
    ThreadSummary, ThreadView,
};
use app::service::{AssistantService, ClientAddr, ServiceFuture, SessionId};

use crate::engine::tools::sources_of;
use crate::ids::{RunId, ThreadId};
use crate::markdown;
use crate::service::{Assistant, DEFAULT_TITLE, ServiceError, ServiceResult};
use crate::store::{Page, RunRow, ThreadRow};

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        AppError::new(e.kind(), e.public_message())
    }
}

impl From<crate::ids::InvalidId> for AppError {
    fn from(e: crate::ids::InvalidId) -> Self {
        ServiceError::from(e).into()
    }
}

fn ids(thread_id: &str, run_id: &str) -> ServiceResult<(ThreadId, RunId)> {
    Ok((ThreadId::parse(thread_id)?, RunId::parse(run_id)?))
}

fn summary(row: &ThreadRow) -> ThreadSummary {
    ThreadSummary {
        id: row.id.clone(),
        title: thread_title(row),
        created_at: row.created_at,
    }
}

/// A thread's title (`threadTitle`), or the default one.
pub fn thread_title(row: &ThreadRow) -> String {
    let metadata: serde_json::Value = serde_json::from_str(&row.metadata).unwrap_or_default();
    metadata
        .get("threadTitle")
        .and_then(|t| t.as_str())
        .unwrap_or(DEFAULT_TITLE)
        .to_string()
}

fn run_state(run: &RunRow) -> RunState {
    RunState {
        id: run.id.clone(),
        status: run.status,
        error: last_error_message(run),
    }
}

fn last_error_message(run: &RunRow) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(run.last_error.as_deref()?).ok()?;
    value
        .get("message")
        .and_then(|m| m.as_str())
        .map(str::to_string)
}

/// How a run that ended without an answer reads in the conversation.
fn ending_text(run: &RunRow) -> String {
    let what = match run.status {
        RunStatus::Expired => "The answer took too long and was stopped.",
        RunStatus::Cancelled => "The answer was stopped.",
        RunStatus::Incomplete => "The answer was cut short.",
        _ => "The assistant could not answer.",
    };
    match last_error_message(run) {
        Some(detail) => format!("{what} {detail}"),
        None => what.to_string(),
    }
}

impl AssistantService for Assistant {
    fn list_threads<'a>(&'a self, session: &'a SessionId) -> ServiceFuture<'a, Vec<ThreadSummary>> {
        let session = &session.0;
        Box::pin(async move {
            let page = Page {
                limit: 100,
                after: None,
                descending: true,
            };
            let rows = Assistant::list_threads(self, session, &page).await?;
            Ok(rows.iter().map(summary).collect())
        })
    }

    fn thread_view<'a>(
        &'a self,
        session: &'a SessionId,
        thread_id: &'a str,
        newest: usize,
    ) -> ServiceFuture<'a, ThreadView> {
        Box::pin(async move {
            let c = self
                .conversation(&session.0, &ThreadId::parse(thread_id)?)
                .await?;
            let mut items = Vec::with_capacity(c.messages.len() + 1);
            let last_question = crate::service::unanswered_question(&c.messages).map(|m| &m.id);
            // The latest run of each question decides: a retry that answered hides the failure
            // and the cut-off answer of the earlier try.
            let latest_run =
                |question: &str| c.runs.iter().rev().find(|r| r.message_id == question);
            // A failed question's error goes after what its run wrote before it stopped.
            let mut pending_error: Option<ConversationItem> = None;
            for (i, m) in c.messages.iter().enumerate() {
                if m.role == "assistant" {
                    let run = m.run_id.as_deref();
                    // Or its run, resumed after a restart, wrote the answer again.
                    let rewritten = || c.messages[i + 1..].iter().any(|o| o.run_id == m.run_id);
                    let superseded = !m.is_complete()
                        && run.is_some_and(|id| {
                            rewritten()
                                || c.runs.iter().find(|r| r.id == id).is_some_and(|r| {
                                    latest_run(&r.message_id).is_some_and(|l| l.id != r.id)
                                })
                        });
                    // An answer still being written is shown by the run's stream, not here.
                    let writing = m.status == crate::store::message_status::IN_PROGRESS;
                    if m.content.is_empty() || superseded || writing {
                        continue;
                    }
                    let sources = run.map(|run| sources_of(&c.steps, run)).unwrap_or_default();
                    let feedback = m.is_complete().then(|| Feedback {
                        thread_id: m.thread_id.clone(),
                        rating: rating_of(&m.metadata),
                    });
                    items.push(ConversationItem {
                        id: m.id.clone(),
                        kind: ItemKind::Assistant,
                        html: markdown::render(&m.content),
                        sources,
                        retry: false,
                        feedback,
                        not_covered: not_covered(&m.metadata),
                    });
                    continue;
                }
                items.extend(pending_error.take());
                items.push(ConversationItem {
                    id: m.id.clone(),
                    kind: ItemKind::User,
                    html: markdown::render_plain(&m.content),
                    sources: Vec::new(),
                    retry: false,
                    feedback: None,
                    not_covered: false,
                });
                if let Some(run) = latest_run(&m.id).filter(|r| r.status.is_unanswered_end()) {
                    pending_error = Some(ConversationItem {
                        id: format!("error-{}", run.id),
                        kind: ItemKind::Error,
                        html: markdown::render_plain(&ending_text(run)),
                        sources: Vec::new(),
                        retry: last_question == Some(&m.id),
                        feedback: None,
                        not_covered: false,
                    });
                }
            }
            items.extend(pending_error);
            let active_run = c
                .runs
                .iter()
                .find(|r| r.status.is_active())
                .map(|r| r.id.clone());
            // A thread holds at most MAX_THREAD_MESSAGES messages (and an error item each), so
            // this bounds the page; fewer than one item is no view.
            let earlier = items.len().saturating_sub(newest.max(1));
            items.drain(..earlier);
            Ok(ThreadView {
                id: c.thread.id.clone(),
                title: summary(&c.thread).title,
                items,
                earlier,
                active_run,
            })
        })
    }

    fn create_thread<'a>(
        &'a self,
        session: &'a SessionId,
        addr: &'a ClientAddr,
    ) -> ServiceFuture<'a, ThreadSummary> {
        Box::pin(async move {
            let row = Assistant::create_thread(self, &session.0, addr.as_deref(), None).await?;
            Ok(summary(&row))
        })
    }

    fn send_message<'a>(
        &'a self,
        session: &'a SessionId,
        addr: &'a ClientAddr,
        thread_id: &'a str,
        text: &'a str,
    ) -> ServiceFuture<'a, SentMessage> {
        Box::pin(async move {
            let thread_id = ThreadId::parse(thread_id)?;
            let run = self
                .post_message(&session.0, addr.as_deref(), &thread_id, text)
                .await?;
            Ok(SentMessage {
                thread_id: thread_id.into_string(),
                run: run_state(&run),
            })
        })
    }

    fn run_state<'a>(
        &'a self,
        session: &'a SessionId,
        thread_id: &'a str,
        run_id: &'a str,
    ) -> ServiceFuture<'a, RunState> {
        Box::pin(async move {
            let (thread_id, run_id) = ids(thread_id, run_id)?;
            Ok(run_state(&self.run(&session.0, &thread_id, &run_id).await?))
        })
    }

    fn cancel_run<'a>(
        &'a self,
        session: &'a SessionId,
        thread_id: &'a str,
        run_id: &'a str,
    ) -> ServiceFuture<'a, RunState> {
        Box::pin(async move {
            let (thread_id, run_id) = ids(thread_id, run_id)?;
            let run = Assistant::cancel_run(self, &session.0, &thread_id, &run_id).await?;
            Ok(run_state(&run))
        })
    }

    fn title_thread<'a>(
        &'a self,
        session: &'a SessionId,
        addr: &'a ClientAddr,
        thread_id: &'a str,
        text: &'a str,
    ) -> ServiceFuture<'a, ThreadSummary> {
        Box::pin(async move {
            let thread_id = ThreadId::parse(thread_id)?;
            let row = Assistant::title_thread(self, &session.0, addr.as_deref(), &thread_id, text)
                .await?;
            Ok(summary(&row))
        })
    }

    fn delete_thread<'a>(
        &'a self,
        session: &'a SessionId,
        thread_id: &'a str,
    ) -> ServiceFuture<'a, ()> {
        Box::pin(async move {
            let thread_id = ThreadId::parse(thread_id)?;
            Ok(Assistant::delete_thread(self, &session.0, &thread_id).await?)
        })
    }

    fn rename_thread<'a>(
        &'a self,
        session: &'a SessionId,
        thread_id: &'a str,
        title: &'a str,
    ) -> ServiceFuture<'a, ThreadSummary> {
        Box::pin(async move {
            let thread_id = ThreadId::parse(thread_id)?;
            let row = Assistant::rename_thread(self, &session.0, &thread_id, title).await?;
            Ok(summary(&row))
        })
    }

    fn retry_run<'a>(
        &'a self,
        session: &'a SessionId,
        addr: &'a ClientAddr,
        thread_id: &'a str,
    ) -> ServiceFuture<'a, RunState> {
        Box::pin(async move {
            let thread_id = ThreadId::parse(thread_id)?;
            let run = Assistant::retry_run(self, &session.0, addr.as_deref(), &thread_id).await?;
            Ok(run_state(&run))
        })
    }

    fn rate_answer<'a>(
        &'a self,
        session: &'a SessionId,
        thread_id: &'a str,
        message_id: &'a str,
        rating: Option<Rating>,
        reason: Option<&'a str>,
        comment: Option<&'a str>,
    ) -> ServiceFuture<'a, Option<Rating>> {
        Box::pin(async move {
            let thread_id = ThreadId::parse(thread_id)?;
            let message_id = crate::ids::MessageId::parse(message_id)?;
            let asked = rating.map(|r| crate::service::feedback::Rating {
                rating: Some(r.as_str().into()),
                reason: reason.map(str::to_string),
                comment: comment.map(str::to_string),
            });
            let rated =
                Assistant::rate_answer(self, &session.0, &thread_id, &message_id, asked).await?;
            Ok(match rated {
                crate::service::feedback::Rated::Stored(row) => Rating::parse(&row.rating),
                crate::service::feedback::Rated::Removed(_) => None,
            })
        })
    }

    fn site(&self) -> Site {
        Site {
            name: self.config.assistant_name.clone(),
            model: self.model_label(),
            examples: self.config.example_questions.clone(),
            retention_days: self.config.retention_days,
        }
    }
}

/// The rating a message's metadata carries (`feedback`).
/// Whether an answer's metadata says the docs do not cover its question.
fn not_covered(metadata: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(metadata)
        .is_ok_and(|v| v.get("covered").and_then(|c| c.as_str()) == Some("false"))
}

fn rating_of(metadata: &str) -> Option<Rating> {
    let value: serde_json::Value = serde_json::from_str(metadata).ok()?;
    Rating::parse(value.get("feedback")?.as_str()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StepRow;

    fn step(run_id: &str, details: serde_json::Value) -> StepRow {
        let run = RunRow {
            id: run_id.into(),
            ..RunRow::queued("thread_1", "msg_1", "m", "i", 0, 1)
        };
        StepRow::new(
            &run,
            "tool_calls",
            RunStatus::Completed,
            details.to_string(),
            0,
        )
    }

    fn call(name: &str, output: serde_json::Value) -> serde_json::Value {
        serde_json::json!({"id": "c", "type": "function",
            "function": {"name": name, "arguments": "{}", "output": output.to_string()}})
    }

    #[test]
    fn sources_are_the_searched_pages_once_each() {
        let results = serde_json::json!({"query": "q", "results": [
            {"title": "Setup", "url": "/docs/setup.md#install"},
            {"title": "Setup", "url": "/docs/setup.md#run"},
            {"title": "Deploy", "url": "/docs/deployment.md#postgres"},
        ]});
        let more = serde_json::json!({"query": "r", "results": [
            {"title": "Config", "url": "https://docs.example/config#x"},
            {"title": "Deploy", "url": "/docs/deployment.md"},
        ]});
        let steps = vec![
            step(
                "run_a",
                serde_json::json!({"type": "tool_calls", "tool_calls": [
                    call("get_relevant_docs", results), call("other_tool", serde_json::json!({"results": [{"title": "No", "url": "/no"}]}))
                ]}),
            ),
            step(
                "run_a",
                serde_json::json!({"type": "tool_calls", "tool_calls": [call("get_relevant_docs", more)]}),
            ),
            step(
                "run_b",
                serde_json::json!({"type": "tool_calls", "tool_calls": [call("get_relevant_docs", serde_json::json!({"results": [{"title": "B", "url": "/b"}]}))]}),
            ),
        ];
        let got: Vec<(String, String)> = sources_of(&steps, "run_a")
            .into_iter()
            .map(|s| (s.title, s.url))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Setup".to_string(), "/docs/setup.md".to_string()),
                ("Deploy".to_string(), "/docs/deployment.md".to_string()),
                (
                    "Config".to_string(),
                    "https://docs.example/config".to_string()
                ),
            ]
        );
        // An error output or an unfinished step (no output yet) gives no sources.
        let broken = vec![step(
            "run_c",
            serde_json::json!({"type": "tool_calls", "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "get_relevant_docs", "arguments": "{}", "output": null}},
                call("get_relevant_docs", serde_json::json!({"error": "bad"}))
            ]}),
        )];
        assert!(sources_of(&broken, "run_c").is_empty());
    }
}
