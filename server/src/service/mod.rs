//! The one service layer: every operation the REST API and the pages' server functions offer,
//! with its validation and ownership rules (API.md). It is the only door to the store, the
//! engine and the docs; handlers parse, call one method and render its answer.
/// A run's event stream (Assistants v2 streaming events).
pub mod admin;
pub mod events;
pub mod feedback;
pub mod pages;
mod retention;

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::config::Config;
use crate::docs::{Hit, IndexStats, live::LiveDocs};
use crate::engine::{Engine, today};
use crate::ids::{InvalidId, Kind, RunId, ThreadId, is_valid, now_secs};
use crate::models::{ChatMessage, ChatModel, Completion, Reply, Usage};
use crate::slack::Slack;
use crate::store::{MessageRow, Page, RunRow, StepRow, Store, StoreError, ThreadRow};
use app::api::{ErrorKind, RunStatus};

pub const DEFAULT_TITLE: &str = app::api::DEFAULT_TITLE;
/// OpenAI's metadata limits.
const METADATA_MAX_KEYS: usize = 16;
const METADATA_MAX_KEY: usize = 64;
const METADATA_MAX_VALUE: usize = 512;
/// Longest prompt (plus context) simple-completion sends the model, in characters: longer
/// text is cut, not refused (a title needs the start of a conversation, not all of it).
pub const COMPLETION_MAX_CHARS: usize = 2_000;
/// Longest simple completion, in tokens: it writes titles of a few words.
pub const COMPLETION_MAX_TOKENS: u32 = 32;

/// Longest docs search query, in characters.
const SEARCH_MAX_CHARS: usize = 1_000;
/// Most results one docs search returns.
pub const SEARCH_MAX_LIMIT: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    BadRequest(String),
    /// No credentials, or wrong ones (`WWW-Authenticate: Bearer`).
    #[error("{0}")]
    Unauthorized(String),
    /// The operation is switched off on this server.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("The model could not answer: {0}")]
    Upstream(String),
    /// Too many answers being written for this session or address at once.
    #[error("{0}")]
    Busy(String),
    /// Today's model tokens are spent (for this address, or for everyone).
    #[error("{message}")]
    BudgetExhausted {
        message: String,
        retry_after_secs: u64,
    },
    /// The database does not answer (health checks).
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceError {
    /// The one mapping from service errors to kinds (and so to status codes).
    pub fn kind(&self) -> ErrorKind {
        match self {
            ServiceError::BadRequest(_) => ErrorKind::BadRequest,
            ServiceError::Unauthorized(_) => ErrorKind::Unauthorized,
            ServiceError::Forbidden(_) => ErrorKind::Forbidden,
            ServiceError::NotFound(_) => ErrorKind::NotFound,
            ServiceError::Conflict(_) => ErrorKind::Conflict,
            ServiceError::Upstream(_) => ErrorKind::Upstream,
            ServiceError::Busy(_) | ServiceError::BudgetExhausted { .. } => ErrorKind::RateLimited,
            ServiceError::Unavailable(_) => ErrorKind::Unavailable,
            ServiceError::Store(e) if e.is_unreachable() => ErrorKind::Unavailable,
            ServiceError::Store(_) => ErrorKind::Server,
        }
    }

    /// What the person is told. A database error's cause is logged here, never sent.
    pub fn public_message(&self) -> String {
        match self {
            ServiceError::Store(e) if e.is_unreachable() => {
                tracing::error!(error = %e, "request failed: the database does not answer");
                "The assistant's database is not answering right now; nothing was lost, please \
                 retry in a moment."
                    .into()
            }
            ServiceError::Store(e) => {
                tracing::error!(error = ?e, "request failed on a database error");
                "The server could not complete the request; nothing was lost, please retry.".into()
            }
            other => other.to_string(),
        }
    }
}

impl From<InvalidId> for ServiceError {
    fn from(e: InvalidId) -> Self {
        ServiceError::BadRequest(e.to_string())
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// Locks the admission of new runs is spread over, by client.
const ADMISSION_SHARDS: usize = 64;

/// Whether the server can take traffic (`/readyz`).
pub struct Readiness {
    pub database: bool,
    /// Whether the docs index is built (the first one is built after the server starts).
    pub docs: bool,
    pub docs_pages: usize,
    /// Runs this instance is executing now.
    pub runs_executing: usize,
}

/// A docs page for reading: its title and its body as safe HTML.
pub struct DocsPage {
    pub title: String,
    pub html: String,
}

/// A re-index: the new index's counts and the page count before.
pub struct Reindexed {
    pub stats: IndexStats,
    pub previous_pages: usize,
}

/// The answer of simple-completion.
pub struct SimpleCompletion {
    pub content: String,
    pub model: String,
    pub usage: Usage,
}

#[derive(Clone)]
pub struct Assistant {
    store: Store,
    engine: Engine,
    docs: LiveDocs,
    config: Arc<Config>,
    /// Slack notices, when configured.
    slack: Option<Slack>,
    /// Held while a new run is checked against the limits and stored, so that requests arriving
    /// together cannot all pass a check that only one of them may pass (on this instance;
    /// instances sharing a database can each let one through at the same moment). One per
    /// shard of clients.
    admission: Arc<[tokio::sync::Mutex<()>; ADMISSION_SHARDS]>,
}

impl Assistant {
    pub fn new(
        store: Store,
        engine: Engine,
        docs: LiveDocs,
        config: Arc<Config>,
        slack: Option<Slack>,
    ) -> Self {
        Self {
            store,
            engine,
            docs,
            config,
            slack,
            admission: Arc::new(std::array::from_fn(|_| Default::default())),
        }
    }

    pub async fn create_thread(
        &self,
        session: &str,
        addr: Option<&str>,
        metadata: Option<Value>,
    ) -> ServiceResult<ThreadRow> {
        let mut map = match metadata {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(bad("`metadata` must be an object of string values")),
        };
        map.retain(|_, v| v.as_str() != Some(""));
        check_metadata(&map)?;
        map.entry("threadTitle")
            .or_insert_with(|| Value::String(DEFAULT_TITLE.into()));
        check_metadata(&map)?;
        let row = ThreadRow {
            id: ThreadId::new().into_string(),
            session_id: session.to_string(),
            created_at: now_secs(),
            metadata: Value::Object(map).to_string(),
            slack_ts: None,
        };
        self.store.insert_thread(&row).await?;
        if let Some(slack) = &self.slack {
            slack.thread_created(&row.id, addr);
        }
        Ok(row)
    }

    /// The caller's thread, or 404 (another session's thread is as missing as a deleted one).
    pub async fn thread(&self, session: &str, thread_id: &ThreadId) -> ServiceResult<ThreadRow> {
        self.store
            .thread(session, thread_id.as_str())
            .await?
            .ok_or_else(|| {
                ServiceError::NotFound(format!("No thread found with id '{thread_id}'."))
            })
    }

    pub async fn list_threads(&self, session: &str, page: &Page) -> ServiceResult<Vec<ThreadRow>> {
        check_cursor(Kind::Thread, page)?;
        Ok(self.store.threads(session, page).await?)
    }

    /// Merges `metadata` into the thread's; a key set to `""` is removed.
    pub async fn update_thread(
        &self,
        session: &str,
        thread_id: &ThreadId,
        metadata: Option<Value>,
    ) -> ServiceResult<ThreadRow> {
        let mut thread = self.thread(session, thread_id).await?;
        let patch = match metadata {
            Some(Value::Object(m)) => m,
            None | Some(Value::Null) => Map::new(),
            Some(_) => return Err(bad("`metadata` must be an object of string values")),
        };
        let mut current: Map<String, Value> =
            serde_json::from_str(&thread.metadata).unwrap_or_default();
        for (key, value) in &patch {
            if key.chars().count() > METADATA_MAX_KEY {
                return Err(bad(&format!(
                    "metadata keys are at most {METADATA_MAX_KEY} characters"
                )));
            }
            match value.as_str() {
                Some("") => {
                    current.remove(key);
                }
                Some(_) => {
                    current.insert(key.clone(), value.clone());
                }
                None => {
                    return Err(bad(&format!(
                        "metadata value of `{}` must be a string",
                        shorten(key)
                    )));
                }
            }
        }
        check_metadata(&current)?;
        thread.metadata = Value::Object(current).to_string();
        self.store
            .set_thread_metadata(&thread.id, &thread.metadata)
            .await?;
        Ok(thread)
    }

    /// The caller's thread with all its messages, runs and run steps, oldest first (the
    /// page's view).
    pub async fn conversation(
        &self,
        session: &str,
        thread_id: &ThreadId,
    ) -> ServiceResult<Conversation> {
        let thread = self.thread(session, thread_id).await?;
        let messages = self.store.all_messages(&thread.id).await?;
        let runs = self.store.runs_of_thread(&thread.id).await?;
        let steps = self.store.steps_of_thread(&thread.id).await?;
        Ok(Conversation {
            thread,
            messages,
            runs,
            steps,
        })
    }

    pub async fn delete_thread(&self, session: &str, thread_id: &ThreadId) -> ServiceResult<()> {
        let thread = self.thread(session, thread_id).await?;
        self.store.delete_thread(&thread.id).await?;
        Ok(())
    }

    pub async fn list_messages(
        &self,
        session: &str,
        thread_id: &ThreadId,
        page: &Page,
    ) -> ServiceResult<Vec<MessageRow>> {
        let thread = self.thread(session, thread_id).await?;
        check_cursor(Kind::Message, page)?;
        Ok(self.store.messages(&thread.id, page).await?)
    }

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

    /// A title of a few words for the caller's text: the server's own instructions, the
    /// caller's `prompt` and `context` as the user's content, cut at [`COMPLETION_MAX_CHARS`],
    /// and at most [`COMPLETION_MAX_TOKENS`] back. Anyone may call the route, so it must not
    /// be a general-purpose model proxy; it counts against the token budgets like a run.
    pub async fn simple_completion(
        &self,
        addr: Option<&str>,
        prompt: &str,
        context: Option<&str>,
    ) -> ServiceResult<SimpleCompletion> {
        if prompt.trim().is_empty() {
            return Err(bad("`prompt` must not be empty"));
        }
        self.check_budget(addr).await?;
        let text = match context.map(str::trim).filter(|c| !c.is_empty()) {
            Some(context) => format!("{prompt}\n\n{context}"),
            None => prompt.to_string(),
        };
        let text: String = text.chars().take(COMPLETION_MAX_CHARS).collect();
        let messages = [
            ChatMessage::System(TITLE_INSTRUCTIONS.to_string()),
            ChatMessage::User(text),
        ];
        let model: &dyn ChatModel = self.engine.title_model();
        let completion = model
            .complete_short(&messages, COMPLETION_MAX_TOKENS)
            .await
            .map_err(|e| ServiceError::Upstream(e.message().to_string()))?;
        if self.config.counts_tokens() {
            let tokens = crate::engine::context::spent(&completion, &messages);
            if let Err(e) = self.store.add_tokens(today(), addr, tokens).await {
                tracing::warn!(error = %e, "could not count a completion's tokens");
            }
        }
        let Completion { reply, usage } = completion;
        let content = match reply {
            Reply::Answer(text) => text,
            Reply::ToolCalls(_) => {
                return Err(ServiceError::Upstream("the model asked for a tool".into()));
            }
        };
        Ok(SimpleCompletion {
            content,
            model: model.name().to_string(),
            usage,
        })
    }

    /// Refuses new model work once today's tokens are spent, for `addr` or for everyone.
    async fn check_budget(&self, addr: Option<&str>) -> ServiceResult<()> {
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

    /// A title of a few words for a conversation that starts with `text`.
    pub async fn suggest_title(&self, addr: Option<&str>, text: &str) -> ServiceResult<String> {
        let completion = self.simple_completion(addr, text, None).await?;
        Ok(clean_title(&completion.content))
    }

    /// Titles a thread from its first message: the title model's few words become its
    /// `threadTitle`. A title is cosmetic: when the model cannot write one, the thread keeps
    /// its title and no error reaches the person.
    pub async fn title_thread(
        &self,
        session: &str,
        addr: Option<&str>,
        thread_id: &ThreadId,
        text: &str,
    ) -> ServiceResult<ThreadRow> {
        let thread = self.thread(session, thread_id).await?;
        if has_title(&thread) {
            // Renamed by the person meanwhile: theirs wins.
            return Ok(thread);
        }
        let title = match self.suggest_title(addr, text).await {
            Ok(title) => title,
            Err(ServiceError::Upstream(reason)) => {
                tracing::warn!(%reason, "no title from the model");
                return Ok(thread);
            }
            Err(ServiceError::BudgetExhausted { .. }) => return Ok(thread),
            Err(e) => return Err(e),
        };
        if has_title(&self.thread(session, thread_id).await?) {
            return Ok(thread);
        }
        let patch = serde_json::json!({ "threadTitle": title });
        self.update_thread(session, thread_id, Some(patch)).await
    }

    /// Saves a title the person typed as the thread's `threadTitle` (one line, trimmed).
    pub async fn rename_thread(
        &self,
        session: &str,
        thread_id: &ThreadId,
        title: &str,
    ) -> ServiceResult<ThreadRow> {
        let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        if title.is_empty() {
            return Err(bad("A thread title must not be empty."));
        }
        if title.chars().count() > TITLE_MAX_CHARS {
            return Err(bad(&format!(
                "A thread title is at most {TITLE_MAX_CHARS} characters."
            )));
        }
        let patch = serde_json::json!({ "threadTitle": title });
        self.update_thread(session, thread_id, Some(patch)).await
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

    fn new_run(&self, thread_id: &str, message_id: &str, addr: Option<&str>) -> RunRow {
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
    async fn insert_run(
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

    /// The docs sections that best match `query`, best first (`limit`: 10 unless given, at
    /// most [`SEARCH_MAX_LIMIT`]).
    pub async fn search_docs(&self, query: &str, limit: Option<usize>) -> ServiceResult<Vec<Hit>> {
        if query.trim().is_empty() {
            return Err(bad("`q` is required"));
        }
        if query.chars().count() > SEARCH_MAX_CHARS {
            return Err(bad(&format!(
                "`q` is longer than {SEARCH_MAX_CHARS} characters"
            )));
        }
        let limit = match limit {
            None => 10,
            Some(n) if (1..=SEARCH_MAX_LIMIT).contains(&n) => n,
            Some(_) => {
                return Err(bad(&format!(
                    "`limit` must be a number from 1 to {SEARCH_MAX_LIMIT}"
                )));
            }
        };
        Ok(self.docs.search(query, limit).await)
    }

    /// A docs page rendered for reading (where answers link when no docs site is configured).
    pub fn docs_page(&self, path: &str) -> ServiceResult<DocsPage> {
        if !self.docs.is_ready() {
            return Err(ServiceError::Unavailable(
                "The docs are being indexed; try again in a few seconds.".into(),
            ));
        }
        let docs = self.docs.current();
        let page = docs
            .page(path)
            .ok_or_else(|| ServiceError::NotFound(format!("No docs page {path}.")))?;
        Ok(DocsPage {
            title: page.title.clone(),
            html: crate::markdown::render_page(&crate::docs::chunk::annotate_headings(
                &page.markdown,
            )),
        })
    }

    /// Re-reads the docs folder now, for an operator holding `ADMIN_TOKEN` (`bearer`). The
    /// previous index stays in use when the folder cannot be indexed (a conflict).
    pub async fn reindex_docs(&self, bearer: Option<&str>) -> ServiceResult<Reindexed> {
        self.check_admin(bearer, "Re-indexing over HTTP")?;
        let previous_pages = self.docs.current().stats.pages;
        match self.docs.reindex().await {
            Ok(stats) => Ok(Reindexed {
                stats,
                previous_pages,
            }),
            Err(e) => Err(ServiceError::Conflict(format!(
                "{e}. Searches keep using the previous index."
            ))),
        }
    }

    /// Whether `bearer` is the operator's `ADMIN_TOKEN`; `what` names the operation in the
    /// answer when admin routes are off.
    fn check_admin(&self, bearer: Option<&str>, what: &str) -> ServiceResult<()> {
        let Some(expected) = &self.config.admin_token else {
            return Err(ServiceError::Forbidden(format!(
                "{what} is off: set ADMIN_TOKEN on the server to turn it on."
            )));
        };
        match bearer {
            None => Err(ServiceError::Unauthorized(
                "Send the admin token as `Authorization: Bearer <ADMIN_TOKEN>`.".into(),
            )),
            Some(token) if !same_secret(token, expected.expose()) => Err(
                ServiceError::Unauthorized("The admin token is not valid.".into()),
            ),
            Some(_) => Ok(()),
        }
    }

    /// Liveness: the database answers.
    pub async fn health(&self) -> ServiceResult<()> {
        self.store.ping().await.map_err(|e| {
            tracing::error!(error = %e, "health check: the database does not answer");
            ServiceError::Unavailable("database unavailable".into())
        })
    }

    /// Waits until the first docs index is built (it is built after the server starts).
    pub async fn docs_ready(&self) {
        self.docs.ready().await;
    }

    /// Readiness: the database answers and the docs index is built.
    pub async fn readiness(&self) -> Readiness {
        let database = self.health().await.is_ok();
        Readiness {
            database,
            docs: self.docs.is_ready(),
            docs_pages: self.docs.current().stats.pages,
            runs_executing: *self.engine.executing().borrow(),
        }
    }

    /// `/metrics` in Prometheus's text format, for the holder of `METRICS_TOKEN` when one is
    /// set; runs are counted in the database, so every instance reports the same totals.
    pub async fn metrics(&self, bearer: Option<&str>) -> ServiceResult<String> {
        if let Some(expected) = &self.config.metrics_token
            && !bearer.is_some_and(|given| same_secret(given, expected.expose()))
        {
            return Err(ServiceError::Unauthorized(
                "Send METRICS_TOKEN as `Authorization: Bearer <token>`.".into(),
            ));
        }
        let runs = match self.store.runs_by_status().await {
            Ok(runs) => Some(runs),
            Err(e) => {
                tracing::error!(error = %e, "metrics: could not count runs");
                None
            }
        };
        Ok(crate::metrics::render(runs.as_deref()))
    }

    /// Changes when any run changes on this instance (an event recorded, new text written or
    /// saved).
    pub fn run_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.engine.any_change()
    }

    /// How many runs this instance executes, now and as it changes.
    pub fn runs_executing(&self) -> tokio::sync::watch::Receiver<usize> {
        self.engine.executing()
    }

    /// The widget's default title: the assistant's name when `ASSISTANT_NAME` is set.
    pub fn widget_title(&self) -> Option<&str> {
        self.config
            .assistant_name_set
            .then_some(self.config.assistant_name.as_str())
    }

    /// The name of the model that answers, as the pages show it.
    pub fn model_label(&self) -> String {
        let name = self.engine.model_name();
        if name == crate::models::offline::NAME {
            "the offline model (docs search)".to_string()
        } else {
            name.to_string()
        }
    }

    /// At shutdown: the runs this process executes go back to the database for another
    /// instance; how many did.
    pub async fn hand_back_runs(&self) -> usize {
        self.engine.hand_back().await
    }
}

/// Compares in constant time: the SHA-256 digests of both, byte by byte without stopping at
/// the first difference, so neither where they differ nor the token's length shows in the
/// time an answer takes.
fn same_secret(given: &str, expected: &str) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(given), Sha256::digest(expected));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// Everything stored about one thread, oldest first.
pub struct Conversation {
    pub thread: ThreadRow,
    pub messages: Vec<MessageRow>,
    pub runs: Vec<RunRow>,
    pub steps: Vec<StepRow>,
}

/// The thread's last question when nothing but cut-off answers follow it.
pub fn unanswered_question(messages: &[MessageRow]) -> Option<&MessageRow> {
    let at = messages.iter().rposition(|m| m.role == "user")?;
    messages[at + 1..]
        .iter()
        .all(|m| !m.is_complete())
        .then(|| &messages[at])
}

/// Longest thread title a person may type.
pub const TITLE_MAX_CHARS: usize = 120;

/// Whether the thread has a title other than the default one.
fn has_title(thread: &ThreadRow) -> bool {
    serde_json::from_str::<Value>(&thread.metadata)
        .ok()
        .and_then(|m| m.get("threadTitle")?.as_str().map(str::to_string))
        .is_some_and(|t| !t.is_empty() && t != DEFAULT_TITLE)
}

/// What simple-completion is asked when the browser wants a thread title.
pub const TITLE_INSTRUCTIONS: &str = "Write a title of at most five words for a conversation \
that starts with the user's message. Reply with the title only, without quotes or a period.";

/// A model's title made fit for the sidebar: one line, no quotes, at most 60 characters.
pub fn clean_title(raw: &str) -> String {
    let line = raw
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let line = line
        .trim_matches(['"', '\'', '“', '”', '*', '#', ' '])
        .trim_end_matches('.');
    let title: String = line.chars().take(60).collect();
    if title.trim().is_empty() {
        DEFAULT_TITLE.to_string()
    } else {
        title.trim().to_string()
    }
}

fn bad(message: &str) -> ServiceError {
    ServiceError::BadRequest(message.to_string())
}

fn shorten(text: &str) -> String {
    let t: String = text.chars().take(80).collect();
    if t.len() < text.len() {
        format!("{t}…")
    } else {
        t
    }
}

fn check_cursor(kind: Kind, page: &Page) -> ServiceResult<()> {
    match &page.after {
        Some(after) if !is_valid(kind, after) => {
            Err(bad(&format!("`after` is not a valid {} id", kind.name())))
        }
        _ => Ok(()),
    }
}

fn check_metadata(map: &Map<String, Value>) -> ServiceResult<()> {
    if map.len() > METADATA_MAX_KEYS {
        return Err(bad(&format!(
            "metadata can have at most {METADATA_MAX_KEYS} keys"
        )));
    }
    for (key, value) in map {
        if key.chars().count() > METADATA_MAX_KEY {
            return Err(bad(&format!(
                "metadata keys are at most {METADATA_MAX_KEY} characters"
            )));
        }
        let Some(value) = value.as_str() else {
            return Err(bad(&format!(
                "metadata value of `{}` must be a string",
                shorten(key)
            )));
        };
        if value.chars().count() > METADATA_MAX_VALUE {
            return Err(bad(&format!(
                "metadata values are at most {METADATA_MAX_VALUE} characters"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        let token = "a".repeat(40);
        assert!(same_secret(&token, &token));
        assert!(!same_secret(&"a".repeat(39), &token));
        assert!(!same_secret(&format!("{}b", "a".repeat(39)), &token));
        assert!(!same_secret("", &token));
    }

    #[test]
    fn titles_are_cleaned() {
        assert_eq!(clean_title("\"Button sizes.\"\n"), "Button sizes");
        assert_eq!(clean_title("  \n"), DEFAULT_TITLE);
        assert_eq!(clean_title(&"x".repeat(100)).len(), 60);
    }

    #[test]
    fn metadata_limits_are_openais() {
        let mut m = Map::new();
        for i in 0..16 {
            m.insert(format!("k{i}"), Value::String("v".into()));
        }
        assert!(check_metadata(&m).is_ok());
        m.insert("k16".into(), Value::String("v".into()));
        assert!(check_metadata(&m).is_err());
        let m: Map<String, Value> = [("k".repeat(65), Value::String("v".into()))]
            .into_iter()
            .collect();
        assert!(check_metadata(&m).is_err());
        let m: Map<String, Value> = [("k".into(), Value::String("v".repeat(513)))]
            .into_iter()
            .collect();
        assert!(check_metadata(&m).is_err());
        let m: Map<String, Value> = [("k".into(), Value::Bool(true))].into_iter().collect();
        assert!(check_metadata(&m).is_err());
    }
}
