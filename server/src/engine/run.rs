//! One run's life: round after round until it ends, every way it can end, and the status
//! change that goes with each.
use std::sync::Arc;

use serde_json::json;

use super::{Engine, draft};
use super::{context, grounding};
use crate::ids::now_secs;
use crate::models::{ChatMessage, Reply, ToolCall, Usage};
use crate::store::{Change, MessageRow, RunRow, StepRow, StoreError};
use app::api::RunStatus;

/// Why a run stopped without an answer.
#[derive(Debug)]
pub(super) enum Stop {
    /// Fail the run with this `last_error`.
    Failed { code: &'static str, message: String },
    /// The run's time limit passed.
    Expired,
    /// Someone else moved the run on (expired, deleted): nothing more to do.
    Superseded,
    /// Cancelled through the API.
    Cancelled,
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "database error during a run");
        Stop::Failed {
            code: "server_error",
            message: "The server could not save the run's progress.".into(),
        }
    }
}

impl Engine {
    /// Ends a run that is not terminal yet with `status` and, unless cancelled, a `last_error`.
    pub async fn end(&self, run_id: &str, status: RunStatus, error: Option<(&str, &str)>) {
        if self.stopping() {
            return;
        }
        let last_error =
            error.map(|(code, message)| json!({ "code": code, "message": message }).to_string());
        let stamp = match status {
            RunStatus::Failed => Some("failed_at"),
            RunStatus::Cancelled => Some("cancelled_at"),
            _ => None,
        };
        let store = &self.inner.store;
        let active: Vec<RunStatus> = RunStatus::all_where(RunStatus::is_active).collect();
        let change = Change {
            stamp,
            last_error: last_error.as_deref(),
            ..Default::default()
        };
        let why = match status {
            RunStatus::Cancelled => "run_cancelled",
            RunStatus::Expired => "run_expired",
            _ => "run_failed",
        };
        // The unfinished answer ends first, so a reader who sees the run end finds its answer
        // ended too. Safe whoever ends the run: only an answer still being written is touched,
        // and a run that ends without an answer leaves it incomplete either way.
        self.end_answer(run_id, why).await;
        match store.transition(run_id, &active, status, change).await {
            Ok(true) => {
                let reason = error.map(|e| e.1);
                tracing::info!(run_id, %status, reason, "run ended without an answer");
                if let Err(e) = store.close_open_steps(run_id, status).await {
                    tracing::warn!(run_id, error = %e, "could not close a run's steps");
                }
                self.emit_run(run_id, status.as_str()).await;
                self.note_question(run_id).await;
            }
            Ok(false) => {}
            Err(e) => tracing::error!(run_id, error = %e, "could not end a run"),
        }
    }

    pub(super) async fn drive(
        &self,
        run: &RunRow,
        instructions: String,
        draft: &Arc<draft::Draft>,
    ) -> Result<(), Stop> {
        let inner = &self.inner;
        let history = inner.store.all_messages(&run.thread_id).await?;
        let (question, context) = grounding::question_and_context(&history, &run.message_id);
        // Search first: the run's first step, whatever the model would have done.
        let call = grounding::search_call(&run.id, &question, &context);
        let output = self
            .run_tools(run, std::slice::from_ref(&call), Usage::default())
            .await?
            .pop()
            .unwrap_or_default();
        let covered = inner
            .docs
            .current()
            .coverage_in_context(&question, &context)
            .covered();
        draft.set_metadata(grounding::answer_metadata(covered));
        let instructions =
            crate::models::prompt::instructions_with(&instructions, &output, covered);
        let mut conversation = vec![ChatMessage::System(instructions)];
        // Answers cut off (or being written) are not history: the model would build on half a
        // thought.
        for m in history.into_iter().filter(MessageRow::is_complete) {
            conversation.push(match m.role.as_str() {
                "assistant" => ChatMessage::Assistant {
                    content: Some(m.content),
                    tool_calls: vec![],
                },
                _ => ChatMessage::User(m.content),
            });
        }
        let specs = crate::models::prompt::tool_specs();
        let mut usage = Usage::default();
        for round in 0..inner.settings.max_rounds {
            context::trim(&mut conversation, inner.settings.context_tokens);
            // The last round offers no tools: a model that would search on and on (a small one
            // does) answers from what it has instead of failing the run.
            let offered = if round + 1 == inner.settings.max_rounds {
                &[]
            } else {
                specs
            };
            let completion = self.call_model(run, &conversation, offered, draft).await?;
            usage.add(completion.usage);
            match completion.reply {
                Reply::Answer(text) => return self.finish(run, text, usage, draft).await,
                Reply::ToolCalls(calls) => {
                    draft.end_round();
                    let outputs = self.run_tools(run, &calls, completion.usage).await?;
                    conversation.push(ChatMessage::Assistant {
                        content: None,
                        tool_calls: calls.clone(),
                    });
                    for (call, output) in calls.iter().zip(outputs) {
                        conversation.push(ChatMessage::Tool {
                            call_id: call.id.clone(),
                            content: output,
                        });
                    }
                }
            }
        }
        Err(Stop::Failed {
            code: "server_error",
            message: format!(
                "The model kept asking for tools ({} rounds) without answering, so the run was stopped.",
                inner.settings.max_rounds
            ),
        })
    }

    /// Moves the run on within a tool round (renewing its lease) and tells the stream; a run
    /// that is no longer in `from` was moved on by someone else.
    pub(super) async fn move_run(
        &self,
        run: &RunRow,
        from: RunStatus,
        to: RunStatus,
        required_action: Option<&str>,
    ) -> Result<(), Stop> {
        let change = Change {
            required_action,
            lease_until: Some(now_secs() + self.lease_secs()),
            ..Default::default()
        };
        if !self
            .inner
            .store
            .transition(&run.id, &[from], to, change)
            .await?
        {
            return Err(Stop::Superseded);
        }
        self.emit_run(&run.id, to.as_str()).await;
        Ok(())
    }

    pub(super) async fn finish(
        &self,
        run: &RunRow,
        text: String,
        usage: Usage,
        draft: &draft::Draft,
    ) -> Result<(), Stop> {
        let now = now_secs();
        self.announce(draft).await;
        // The message that was being written, now whole: all the model wrote (the text of
        // earlier rounds too, as the stream showed it).
        let written = draft.text();
        let message = MessageRow {
            content: if written.is_empty() { text } else { written },
            status: crate::store::message_status::COMPLETED.into(),
            completed_at: Some(now),
            ..draft.snapshot()
        };
        let step = StepRow {
            status: RunStatus::Completed,
            completed_at: Some(now),
            ..draft.step()
        };
        let usage = serde_json::to_string(&usage).unwrap_or_default();
        if !self
            .inner
            .store
            .complete_run(&run.id, &message, &step, &usage)
            .await?
        {
            return Err(Stop::Superseded);
        }
        self.emit(
            &run.id,
            "thread.message.completed",
            &crate::objects::message(&message),
        )
        .await;
        self.emit_step(&step, "completed").await;
        self.emit_run(&run.id, "completed").await;
        self.note_question(&run.id).await;
        Ok(())
    }
}

pub(super) fn tool_step_details(calls: &[ToolCall], outputs: Option<&[String]>) -> String {
    let tool_calls: Vec<serde_json::Value> = calls
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "id": c.id,
                "type": "function",
                "function": {
                    "name": c.name,
                    "arguments": c.arguments,
                    "output": outputs.and_then(|o| o.get(i)),
                }
            })
        })
        .collect();
    json!({"type": "tool_calls", "tool_calls": tool_calls}).to_string()
}
