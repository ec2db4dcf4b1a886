//! The pages' view of the service: `app`'s `AssistantService` implemented over [`Assistant`].
use app::api::{
    AppError, ConversationItem, ItemKind, RunState, SentMessage, ThreadSummary, ThreadView,
};
use app::service::{AssistantService, ServiceFuture, SessionId};

use crate::markdown;
use crate::service::{Assistant, DEFAULT_TITLE, ServiceError};
use crate::store::{Page, RunRow, ThreadRow};

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::BadRequest(m) => AppError::BadRequest(m),
            ServiceError::NotFound(m) => AppError::NotFound(m),
            ServiceError::Conflict(m) => AppError::Conflict(m),
            ServiceError::Upstream(m) => {
                AppError::Server(format!("The model could not answer: {m}"))
            }
            ServiceError::Store(e) => {
                tracing::error!(error = %e, "database error in a page request");
                AppError::Server("The server could not complete the request; please retry.".into())
            }
        }
    }
}

fn summary(row: &ThreadRow) -> ThreadSummary {
    let metadata: serde_json::Value = serde_json::from_str(&row.metadata).unwrap_or_default();
    let title = metadata
        .get("threadTitle")
        .and_then(|t| t.as_str())
        .unwrap_or(DEFAULT_TITLE)
        .to_string();
    ThreadSummary {
        id: row.id.clone(),
        title,
        created_at: row.created_at,
    }
}

fn run_state(run: &RunRow) -> RunState {
    RunState {
        id: run.id.clone(),
        status: run.status.clone(),
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
    let what = match run.status.as_str() {
        "expired" => "The answer took too long and was stopped.",
        "cancelled" => "The answer was stopped.",
        "incomplete" => "The answer was cut short.",
        _ => "The assistant could not answer.",
    };
    match last_error_message(run) {
        Some(detail) => format!("{what} {detail}"),
        None => what.to_string(),
    }
}

impl AssistantService for Assistant {
    fn list_threads(&self, session: &SessionId) -> ServiceFuture<'_, Vec<ThreadSummary>> {
        let session = session.0.clone();
        Box::pin(async move {
            let page = Page {
                limit: 100,
                after: None,
                descending: true,
            };
            let rows = Assistant::list_threads(self, &session, &page).await?;
            Ok(rows.iter().map(summary).collect())
        })
    }

    fn thread_view(&self, session: &SessionId, thread_id: &str) -> ServiceFuture<'_, ThreadView> {
        let (session, thread_id) = (session.0.clone(), thread_id.to_string());
        Box::pin(async move {
            let (thread, messages, runs) = self.conversation(&session, &thread_id).await?;
            let mut items = Vec::with_capacity(messages.len() + 1);
            for m in &messages {
                if m.role == "assistant" {
                    items.push(ConversationItem {
                        id: m.id.clone(),
                        kind: ItemKind::Assistant,
                        html: markdown::render(&m.content),
                    });
                    continue;
                }
                items.push(ConversationItem {
                    id: m.id.clone(),
                    kind: ItemKind::User,
                    html: markdown::render_plain(&m.content),
                });
                let ended = runs.iter().find(|r| {
                    r.message_id == m.id
                        && matches!(
                            r.status.as_str(),
                            "failed" | "expired" | "cancelled" | "incomplete"
                        )
                });
                if let Some(run) = ended {
                    items.push(ConversationItem {
                        id: format!("error-{}", run.id),
                        kind: ItemKind::Error,
                        html: markdown::render_plain(&ending_text(run)),
                    });
                }
            }
            let active_run = runs
                .iter()
                .find(|r| !crate::is_terminal(&r.status))
                .map(|r| r.id.clone());
            Ok(ThreadView {
                id: thread.id.clone(),
                title: summary(&thread).title,
                items,
                active_run,
            })
        })
    }

    fn create_thread(&self, session: &SessionId) -> ServiceFuture<'_, ThreadSummary> {
        let session = session.0.clone();
        Box::pin(async move {
            Ok(summary(
                &Assistant::create_thread(self, &session, None).await?,
            ))
        })
    }

    fn send_message(
        &self,
        session: &SessionId,
        thread_id: &str,
        text: &str,
    ) -> ServiceFuture<'_, SentMessage> {
        let (session, thread_id, text) =
            (session.0.clone(), thread_id.to_string(), text.to_string());
        Box::pin(async move {
            let run = self.post_message(&session, &thread_id, &text).await?;
            Ok(SentMessage {
                thread_id,
                run: run_state(&run),
            })
        })
    }

    fn run_state(
        &self,
        session: &SessionId,
        thread_id: &str,
        run_id: &str,
    ) -> ServiceFuture<'_, RunState> {
        let (session, thread_id, run_id) =
            (session.0.clone(), thread_id.to_string(), run_id.to_string());
        Box::pin(async move { Ok(run_state(&self.run(&session, &thread_id, &run_id).await?)) })
    }

    fn cancel_run(
        &self,
        session: &SessionId,
        thread_id: &str,
        run_id: &str,
    ) -> ServiceFuture<'_, RunState> {
        let (session, thread_id, run_id) =
            (session.0.clone(), thread_id.to_string(), run_id.to_string());
        Box::pin(async move {
            Ok(run_state(
                &Assistant::cancel_run(self, &session, &thread_id, &run_id).await?,
            ))
        })
    }

    fn title_thread(
        &self,
        session: &SessionId,
        thread_id: &str,
        text: &str,
    ) -> ServiceFuture<'_, ThreadSummary> {
        let (session, thread_id, text) =
            (session.0.clone(), thread_id.to_string(), text.to_string());
        Box::pin(async move {
            Ok(summary(
                &Assistant::title_thread(self, &session, &thread_id, &text).await?,
            ))
        })
    }

    fn delete_thread(&self, session: &SessionId, thread_id: &str) -> ServiceFuture<'_, ()> {
        let (session, thread_id) = (session.0.clone(), thread_id.to_string());
        Box::pin(async move { Ok(Assistant::delete_thread(self, &session, &thread_id).await?) })
    }

    fn model_name(&self) -> String {
        let name = self.engine.model_name();
        if name == crate::models::offline::NAME {
            "the offline model (docs search)".to_string()
        } else {
            name.to_string()
        }
    }
}
