use std::{future::Future, pin::Pin, sync::Arc};

use crate::api::{AppError, Rating, RunState, SentMessage, Site, ThreadSummary, ThreadView};

pub type ServiceFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, AppError>> + Send + 'a>>;

/// The anonymous browser session a request belongs to; the server's session middleware puts it
/// into every request's extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionId(pub String);

/// The client's address, IPv6 grouped by its /64 (what one household or host holds), as the
/// server's session middleware puts it into every request; `None` when unknown. Limits that a
/// new cookie must not reset (answers in progress, token budgets) count by it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientAddr(pub Option<String>);

impl ClientAddr {
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// What the pages need from the server. `server` implements it over the same service the REST
/// API uses, and provides it as context to SSR and server functions.
/// Every argument lives as long as the call (`'a`), so implementations need not copy them.
pub trait AssistantService: Send + Sync {
    fn list_threads<'a>(&'a self, session: &'a SessionId) -> ServiceFuture<'a, Vec<ThreadSummary>>;
    /// The thread with its `newest` items (and how many earlier ones there are).
    fn thread_view<'a>(
        &'a self,
        session: &'a SessionId,
        thread_id: &'a str,
        newest: usize,
    ) -> ServiceFuture<'a, ThreadView>;
    fn create_thread<'a>(
        &'a self,
        session: &'a SessionId,
        addr: &'a ClientAddr,
    ) -> ServiceFuture<'a, ThreadSummary>;
    fn send_message<'a>(
        &'a self,
        session: &'a SessionId,
        addr: &'a ClientAddr,
        thread_id: &'a str,
        text: &'a str,
    ) -> ServiceFuture<'a, SentMessage>;
    fn run_state<'a>(
        &'a self,
        session: &'a SessionId,
        thread_id: &'a str,
        run_id: &'a str,
    ) -> ServiceFuture<'a, RunState>;
    fn cancel_run<'a>(
        &'a self,
        session: &'a SessionId,
        thread_id: &'a str,
        run_id: &'a str,
    ) -> ServiceFuture<'a, RunState>;
    /// Asks the title model for a few words about `text` and saves them as the title.
    fn title_thread<'a>(
        &'a self,
        session: &'a SessionId,
        addr: &'a ClientAddr,
        thread_id: &'a str,
        text: &'a str,
    ) -> ServiceFuture<'a, ThreadSummary>;
    fn delete_thread<'a>(
        &'a self,
        session: &'a SessionId,
        thread_id: &'a str,
    ) -> ServiceFuture<'a, ()>;
    /// Saves a title the person typed.
    fn rename_thread<'a>(
        &'a self,
        session: &'a SessionId,
        thread_id: &'a str,
        title: &'a str,
    ) -> ServiceFuture<'a, ThreadSummary>;
    /// Starts a new run on the thread's last question, whose run failed, expired or was
    /// cancelled.
    fn retry_run<'a>(
        &'a self,
        session: &'a SessionId,
        addr: &'a ClientAddr,
        thread_id: &'a str,
    ) -> ServiceFuture<'a, RunState>;
    /// Rates answer `message_id` (`None`: removes the rating); `reason` and `comment` go with
    /// "Not helpful". The rating as stored.
    #[allow(clippy::too_many_arguments)]
    fn rate_answer<'a>(
        &'a self,
        session: &'a SessionId,
        thread_id: &'a str,
        message_id: &'a str,
        rating: Option<Rating>,
        reason: Option<&'a str>,
        comment: Option<&'a str>,
    ) -> ServiceFuture<'a, Option<Rating>>;
    /// The assistant's name, model, example questions and retention, shown on the pages.
    fn site(&self) -> Site;
}

pub type SharedService = Arc<dyn AssistantService>;
