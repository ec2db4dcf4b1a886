use std::{future::Future, pin::Pin, sync::Arc};

use crate::api::{AppError, RunState, SentMessage, ThreadSummary, ThreadView};

pub type ServiceFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, AppError>> + Send + 'a>>;

/// The anonymous browser session a request belongs to; the server's session middleware puts it
/// into every request's extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionId(pub String);

/// What the pages need from the server. `server` implements it over the same service the REST
/// API uses, and provides it as context to SSR and server functions.
pub trait AssistantService: Send + Sync {
    fn list_threads(&self, session: &SessionId) -> ServiceFuture<'_, Vec<ThreadSummary>>;
    fn thread_view(&self, session: &SessionId, thread_id: &str) -> ServiceFuture<'_, ThreadView>;
    fn create_thread(&self, session: &SessionId) -> ServiceFuture<'_, ThreadSummary>;
    fn send_message(
        &self,
        session: &SessionId,
        thread_id: &str,
        text: &str,
    ) -> ServiceFuture<'_, SentMessage>;
    fn run_state(
        &self,
        session: &SessionId,
        thread_id: &str,
        run_id: &str,
    ) -> ServiceFuture<'_, RunState>;
    fn cancel_run(
        &self,
        session: &SessionId,
        thread_id: &str,
        run_id: &str,
    ) -> ServiceFuture<'_, RunState>;
    /// Asks the title model for a few words about `text` and saves them as the title.
    fn title_thread(
        &self,
        session: &SessionId,
        thread_id: &str,
        text: &str,
    ) -> ServiceFuture<'_, ThreadSummary>;
    fn delete_thread(&self, session: &SessionId, thread_id: &str) -> ServiceFuture<'_, ()>;
    /// Saves a title the person typed.
    fn rename_thread(
        &self,
        session: &SessionId,
        thread_id: &str,
        title: &str,
    ) -> ServiceFuture<'_, ThreadSummary>;
    /// Starts a new run on the thread's last question, whose run failed, expired or was
    /// cancelled.
    fn retry_run(&self, session: &SessionId, thread_id: &str) -> ServiceFuture<'_, RunState>;
    /// The name of the model that answers, shown on the page.
    fn model_name(&self) -> String;
}

pub type SharedService = Arc<dyn AssistantService>;
