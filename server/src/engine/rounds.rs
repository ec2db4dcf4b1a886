//! One round of a run: a model call (retried within the run's time limit) and the tool calls
//! it asks for.
use std::{sync::Arc, time::Duration};

use serde_json::json;

use super::run::Stop;
use super::run::tool_step_details;
use super::{Engine, draft, tools};
use super::{context, today};
use crate::ids::now_secs;
use crate::models::{ChatMessage, Completion, ModelError, ToolCall, Usage};
use crate::store::{RunRow, StepRow};
use app::api::RunStatus;

/// Waits before retrying a model call: 0.5 s doubling, with jitter; `Retry-After` honoured up
/// to the run's time limit (which ends the run anyway).
pub(super) const BACKOFF: crate::backoff::Backoff = crate::backoff::Backoff {
    base: Duration::from_millis(500),
    jitter: true,
    max_retry_after: Duration::MAX,
};

/// Tool calls executed in one round; the model gets an error output for the rest.
pub const MAX_CALLS_PER_ROUND: usize = 8;

impl Engine {
    pub(super) async fn call_model(
        &self,
        run: &RunRow,
        conversation: &[ChatMessage],
        specs: &[crate::models::ToolSpec],
        draft: &Arc<draft::Draft>,
    ) -> Result<Completion, Stop> {
        let mut attempt = 0;
        let sink = |piece: &str| {
            draft.push(piece);
            self.changed(&run.id);
        };
        loop {
            let started = std::time::Instant::now();
            let saver = self.keep_saving(draft);
            let result = self.inner.model.stream(conversation, specs, &sink).await;
            saver.finish().await;
            let outcome = match &result {
                Ok(_) => "ok",
                Err(ModelError::Retryable { .. }) => "retryable",
                Err(ModelError::Fatal(_)) => "fatal",
            };
            crate::metrics::upstream_call(outcome, started.elapsed());
            match result {
                Ok(c) => {
                    if self.inner.settings.count_tokens {
                        let tokens = context::spent(&c, conversation);
                        let addr = run.client_addr.as_deref();
                        if let Err(e) = self.inner.store.add_tokens(today(), addr, tokens).await {
                            tracing::warn!(run_id = %run.id, error = %e, "could not count a run's tokens");
                        }
                    }
                    return Ok(c);
                }
                Err(ModelError::Retryable {
                    message,
                    retry_after,
                }) if attempt < self.inner.settings.max_retries => {
                    attempt += 1;
                    let wait = BACKOFF.delay(attempt, retry_after);
                    tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, %message, "model call failed; retrying");
                    tokio::time::sleep(wait).await;
                }
                Err(e @ ModelError::Retryable { .. }) => {
                    let message =
                        format!("{} (gave up after {} attempts)", e.message(), attempt + 1);
                    return Err(Stop::Failed {
                        code: "server_error",
                        message,
                    });
                }
                Err(ModelError::Fatal(message)) => {
                    return Err(Stop::Failed {
                        code: "server_error",
                        message,
                    });
                }
            }
        }
    }

    /// One tool round: the run waits in `requires_action` while the server executes the calls,
    /// then goes back to `in_progress`. The round is a `tool_calls` run step.
    pub(super) async fn run_tools(
        &self,
        run: &RunRow,
        calls: &[ToolCall],
        usage: Usage,
    ) -> Result<Vec<String>, Stop> {
        let store = &self.inner.store;
        let details = tool_step_details(calls, None);
        let mut step = StepRow::new(
            run,
            "tool_calls",
            RunStatus::InProgress,
            details,
            now_secs(),
        );
        store.insert_step(&step).await?;
        self.emit_step(&step, "created").await;
        let required = json!({
            "type": "submit_tool_outputs",
            "submit_tool_outputs": {"tool_calls": calls.iter().map(|c| json!({
                "id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}
            })).collect::<Vec<_>>()}
        })
        .to_string();
        self.move_run(
            run,
            RunStatus::InProgress,
            RunStatus::RequiresAction,
            Some(&required),
        )
        .await?;
        let mut outputs = Vec::with_capacity(calls.len());
        for (i, call) in calls.iter().enumerate() {
            outputs.push(if i < MAX_CALLS_PER_ROUND {
                tools::execute(call, &self.inner.docs).await
            } else {
                tools::refused(&format!(
                    "not run: at most {MAX_CALLS_PER_ROUND} tool calls are executed per round"
                ))
            });
        }
        step.status = RunStatus::Completed;
        step.completed_at = Some(now_secs());
        step.step_details = tool_step_details(calls, Some(&outputs));
        step.usage = Some(serde_json::to_string(&usage).unwrap_or_default());
        store.finish_step(&step).await?;
        self.emit_step(&step, "completed").await;
        self.move_run(run, RunStatus::RequiresAction, RunStatus::InProgress, None)
            .await?;
        Ok(outputs)
    }
}
