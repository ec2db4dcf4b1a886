//! When a run ends, what its question came to is written down for the docs team (the
//! `questions` table): the run's status, its answer, whether the docs cover the question
//! (`docs::coverage`), the pages the run searched and the pages the answer cites.
use super::Engine;
use crate::store::{QuestionRow, StoreError};

impl Engine {
    /// Records the outcome of `run_id`'s question; a failure is logged, never the run's.
    pub(super) async fn note_question(&self, run_id: &str) {
        if let Err(e) = self.record_question(run_id).await {
            tracing::warn!(run_id, error = %e, "could not record a question for the admin pages");
        }
        // Whoever waits on the run's changes may look at the admin views now.
        self.changed(run_id);
    }

    async fn record_question(&self, run_id: &str) -> Result<(), StoreError> {
        let store = &self.inner.store;
        let Some(run) = store.run_by_id(run_id).await? else {
            return Ok(());
        };
        // The thread's messages give the question and the earlier ones it was read with: the
        // same decision the run made.
        let messages = store.all_messages(&run.thread_id).await?;
        let (_, context) = super::grounding::question_and_context(&messages, &run.message_id);
        let Some(question) = messages.into_iter().find(|m| m.id == run.message_id) else {
            return Ok(());
        };
        let answer = store.answer_of_run(run_id).await?;
        let steps = store.steps_of_thread(&run.thread_id).await?;
        let docs = self.inner.docs.current();
        let coverage = docs.coverage_in_context(&question.content, &context);
        let cited = answer
            .as_ref()
            .map(|a| docs.cited_pages(&a.content))
            .unwrap_or_default();
        let sources = super::tools::sources_of(&steps, run_id);
        let fact = QuestionRow {
            message_id: question.id,
            thread_id: question.thread_id,
            created_at: question.created_at,
            question: question.content,
            run_id: run.id,
            status: run.status.as_str().to_string(),
            answer_id: answer.map(|a| a.id),
            covered: i64::from(coverage.covered()),
            coverage: (coverage.share() * 100.0).round() as i64,
            why: coverage.why(),
            sources: serde_json::to_string(&sources).unwrap_or_else(|_| "[]".into()),
            ..Default::default()
        };
        store.record_question(&fact, &cited).await
    }
}
