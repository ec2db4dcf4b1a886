//! Runs: a question posted with its run, admitted within the limits and budgets, cancelled,
//! retried, and their steps.

use super::ADMISSION_SHARDS;
use super::threads::unanswered_question;
use super::{Assistant, ServiceError, ServiceResult, bad, check_cursor};
use crate::engine::today;
use crate::ids::{Kind, RunId, ThreadId, now_secs};
use crate::store::StoreError;
use crate::store::{MessageRow, Page, RunRow, StepRow, ThreadRow};
use app::api::RunStatus;

impl Assistant {
    /// Stores the user's message and starts a run on it; the run executes in the background.
    pub async fn post_message(
        &self,
        session: &str,
        addr: Option<&str>,
        thread_id: &ThreadId,
        text: &str,
    ) -> ServiceResult<RunRow> {
        if text.trim().is_empty() {
            return Err(bad("`message` must not be empty"));
        }
        let limit = self.config.max_message_chars;
        if text.chars().count() > limit {
            return Err(bad(&format!(
                "`message` is longer than the limit of {limit} characters"
            )));
        }
        let thread = self.thread(session, thread_id).await?;
        let message = MessageRow::new(&thread.id, "user", text.to_string(), None, now_secs());
        let run = self.new_run(&thread.id, &message.id, addr);
        self.insert_run(&thread, Some(&message), &run).await?;
        if let Some(slack) = &self.slack {
            slack.message_posted(&thread.id, text, addr);
        }
        Ok(run)
    }

    pub async fn run(
        &self,
        session: &str,
        thread_id: &ThreadId,
        run_id: &RunId,
    ) -> ServiceResult<RunRow> {
        let thread = self.thread(session, thread_id).await?;
        self.store
            .run(&thread.id, run_id.as_str())
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("No run found with id '{run_id}'.")))
    }

    /// Cancels an active run: in-flight model calls are dropped and the run ends `cancelled`.
    pub async fn cancel_run(
        &self,
        session: &str,
        thread_id: &ThreadId,
        run_id: &RunId,
    ) -> ServiceResult<RunRow> {
        let run = self.run(session, thread_id, run_id).await?;
        if run.status.is_terminal() {
            return Err(ServiceError::Conflict(format!(
                "The run has already ended with status '{}' and cannot be cancelled.",
                run.status
            )));
        }
        let runnable: Vec<RunStatus> = RunStatus::all_where(RunStatus::is_runnable).collect();
        let moved = self
            .store
            .transition(
                &run.id,
                &runnable,
                RunStatus::Cancelling,
                Default::default(),
            )
            .await?;
        if moved && !self.engine.signal_cancel(&run.id) {
            // Nobody here executes it: end it now (another executor's next step will find
            // the run no longer in progress and stop).
            self.engine.end(&run.id, RunStatus::Cancelled, None).await;
        } else if moved {
            // Give the executor a moment to drop its model call, so the answer is final.
            for _ in 0..20 {
                let now = self.store.run_by_id(&run.id).await?;
                if now.as_ref().is_some_and(|r| r.status.is_terminal()) {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
        }
        self.run(session, thread_id, run_id).await
    }

    pub async fn steps(
        &self,
        session: &str,
        thread_id: &ThreadId,
        run_id: &RunId,
        page: &Page,
    ) -> ServiceResult<Vec<StepRow>> {
        let run = self.run(session, thread_id, run_id).await?;
        check_cursor(Kind::Step, page)?;
        Ok(self.store.steps(&run.id, page).await?)
    }

    /// Refuses new model work once today's tokens are spent, for `addr` or for everyone.
    pub(super) async fn check_budget(&self, addr: Option<&str>) -> ServiceResult<()> {
        if !self.config.counts_tokens() {
            return Ok(());
        }
        let (per_addr, total) = (
            self.config.token_budget_per_addr_per_day,
            self.config.token_budget_per_day,
        );
        let (mine, all) = self.store.tokens_spent(today(), addr).await?;
        let until_midnight = 86_400 - now_secs().rem_euclid(86_400) as u64;
        let hours = until_midnight.div_ceil(3_600);
        let when = match hours {
            1 => "within the hour".to_string(),
            h => format!("in about {h} hours"),
        };
        let message = if per_addr > 0 && addr.is_some() && mine >= per_addr as i64 {
            format!(
                "You have used today's share of the assistant. It renews at midnight UTC \
                 ({when}); until then, please search the docs directly."
            )
        } else if total > 0 && all >= total as i64 {
            format!(
                "The assistant has answered as many questions as it can today. It will be back \
                 at midnight UTC ({when}); until then, please search the docs directly."
            )
        } else {
            return Ok(());
        };
        Err(ServiceError::BudgetExhausted {
            message,
            retry_after_secs: until_midnight,
        })
    }

    /// Asks the thread's last question again: a new run on it, when the last run for it
    /// failed, expired or was cancelled. 409 while a run is active or when the question has
    /// an answer.
    pub async fn retry_run(
        &self,
        session: &str,
        addr: Option<&str>,
        thread_id: &ThreadId,
    ) -> ServiceResult<RunRow> {
        let thread = self.thread(session, thread_id).await?;
        let messages = self.store.all_messages(&thread.id).await?;
        let Some(question) = unanswered_question(&messages) else {
            return Err(ServiceError::Conflict(
                "There is no unanswered question to retry in this thread.".into(),
            ));
        };
        let runs = self.store.runs_of_thread(&thread.id).await?;
        if let Some(run) = runs.iter().rev().find(|r| r.message_id == question.id)
            && run.status.is_active()
        {
            return Err(ServiceError::Conflict(
                "This thread already has a run in progress; wait for it to finish.".into(),
            ));
        }
        let run = self.new_run(&thread.id, &question.id, addr);
        self.insert_run(&thread, None, &run).await?;
        Ok(run)
    }

    pub(super) fn new_run(&self, thread_id: &str, message_id: &str, addr: Option<&str>) -> RunRow {
        let now = now_secs();
        RunRow {
            client_addr: addr.map(str::to_string),
            ..RunRow::queued(
                thread_id,
                message_id,
                self.engine.model_name(),
                self.engine.instructions(),
                now,
                now + self.engine.run_time_limit().as_secs() as i64,
            )
        }
    }

    /// Stores the run (and the message that starts it) and queues it for execution, once it
    /// passes the limits; a refused request stores nothing:
    /// - the thread has room for the question and its answer (`MAX_THREAD_MESSAGES`; 400);
    /// - today's token budgets are not spent (429 `budget_exhausted`);
    /// - the session and the client address have fewer answers in progress than
    ///   `MAX_ACTIVE_RUNS_PER_SESSION` / `MAX_ACTIVE_RUNS_PER_ADDR` (429
    ///   `too_many_active_runs`): the address cap is what a new cookie does not reset.
    pub(super) async fn insert_run(
        &self,
        thread: &ThreadRow,
        message: Option<&MessageRow>,
        run: &RunRow,
    ) -> ServiceResult<()> {
        // The caps are checked and the run stored under one lock, so two requests of one
        // client cannot both pass a cap; other clients' requests go on beside them (one lock
        // for everyone made every post wait for every other under load: issue 15). The client
        // is its address group while a cap counts by address, else its session.
        let client = match run.client_addr.as_deref() {
            Some(addr) if self.config.max_active_runs_per_addr > 0 => addr,
            _ => &thread.session_id,
        };
        let shard = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            client.hash(&mut h);
            h.finish() as usize % ADMISSION_SHARDS
        };
        let admission = self.admission[shard].lock().await;
        let max_messages = self.config.max_thread_messages;
        if max_messages > 0 {
            // Room for what this request adds: the question (unless a retry) and the answer.
            let adding = 1 + i64::from(message.is_some());
            if self.store.message_count(&thread.id).await? + adding > max_messages as i64 {
                return Err(bad(&format!(
                    "This thread has reached its limit of {max_messages} messages. Start a new \
                     thread to ask more."
                )));
            }
        }
        self.check_budget(run.client_addr.as_deref()).await?;
        let cap = self.config.max_active_runs_per_session;
        if cap > 0 {
            let active = self
                .store
                .active_runs_of_session(&thread.session_id)
                .await?;
            if active >= cap as i64 {
                return Err(ServiceError::Busy(format!(
                    "{active} answers are still being written for you; wait for one to finish."
                )));
            }
        }
        let cap = self.config.max_active_runs_per_addr;
        if let Some(addr) = run.client_addr.as_deref()
            && cap > 0
        {
            let active = self.store.active_runs_of_addr(addr).await?;
            if active >= cap as i64 {
                return Err(ServiceError::Busy(format!(
                    "{active} answers are already being written for your network; wait for one \
                     to finish."
                )));
            }
        }
        match self.store.insert_message_and_run(message, run).await {
            Ok(()) => {}
            Err(StoreError::ActiveRun) => {
                return Err(ServiceError::Conflict(
                    "This thread already has a run in progress; wait for it to finish.".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        drop(admission);
        self.engine.emit_run(&run.id, "created").await;
        self.engine.emit_run(&run.id, "queued").await;
        self.engine.wake();
        Ok(())
    }
}
