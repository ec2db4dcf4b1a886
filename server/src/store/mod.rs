//! The database: threads, messages, runs and run steps, on SQLite or Postgres through one
//! `AnyPool`. Queries are runtime `query_as` with `$1` placeholders, which both accept.
use std::{path::Path, str::FromStr, time::Duration};

use sqlx::{
    AnyPool, AssertSqlSafe, Row,
    any::{AnyConnectOptions, AnyPoolOptions},
};

use crate::ids::now_secs;
use app::api::RunStatus;

// Every SQL string built with `format!` below joins only constants and values this module
// computes (column names, sort order, numbers); input always goes through `bind`.

/// `('queued', 'in_progress', …)`: the statuses for which `keep` holds, as an SQL list. The
/// strings are [`RunStatus`]'s own, never input.
fn status_list(keep: fn(RunStatus) -> bool) -> String {
    let quoted: Vec<String> = RunStatus::all_where(keep)
        .map(|s| format!("'{s}'"))
        .collect();
    format!("({})", quoted.join(", "))
}

/// Runs a lease renewal names in one statement (SQLite allows 32,766 bound values, Postgres
/// 65,535; a few hundred keeps each statement short on the one writer).
const RENEW_AT_ONCE: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thread already has a run that is not terminal.
    #[error("the thread already has an active run")]
    ActiveRun,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("could not prepare the database: {0}")]
    Setup(String),
}

impl StoreError {
    /// The database cannot be reached (down, restarting, the network between): worth a retry
    /// later, unlike a fault in a query.
    pub fn is_unreachable(&self) -> bool {
        let StoreError::Database(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => true,
            // Postgres: connection exceptions (08…) and operator intervention (57P…: shut
            // down, restarting, cannot connect now).
            sqlx::Error::Database(db) => db
                .code()
                .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
            _ => false,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Longest wait for the health check's query: a database that does not answer by then is
/// reported down instead of holding the check until the pool gives up.
const PING_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ThreadRow {
    pub id: String,
    pub session_id: String,
    pub created_at: i64,
    pub metadata: String,
    pub slack_ts: Option<String>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MessageRow {
    pub id: String,
    pub thread_id: String,
    pub created_at: i64,
    pub role: String,
    pub content: String,
    pub run_id: Option<String>,
    pub metadata: String,
    /// `completed`, or for an answer being written `in_progress`, then `incomplete` when its
    /// run ended mid-answer.
    pub status: String,
    /// `{"reason": …}` of an incomplete answer.
    pub incomplete_details: Option<String>,
    pub completed_at: Option<i64>,
    pub incomplete_at: Option<i64>,
}

/// A message's status (OpenAI's message object).
mod feedback;
mod insights;
pub use feedback::FeedbackRow;
pub use insights::{Counts, Period, QuestionFilter, QuestionRow};

pub mod message_status {
    pub const COMPLETED: &str = "completed";
    pub const IN_PROGRESS: &str = "in_progress";
    pub const INCOMPLETE: &str = "incomplete";
}

impl MessageRow {
    /// A whole message of `role` (a question, or an answer written at once), made at `now`.
    pub fn new(
        thread_id: &str,
        role: &str,
        content: String,
        run_id: Option<&str>,
        now: i64,
    ) -> Self {
        Self {
            id: crate::ids::MessageId::new().into_string(),
            thread_id: thread_id.to_string(),
            created_at: now,
            role: role.to_string(),
            content,
            run_id: run_id.map(str::to_string),
            metadata: "{}".into(),
            status: message_status::COMPLETED.into(),
            incomplete_details: None,
            completed_at: Some(now),
            incomplete_at: None,
        }
    }

    /// Whether the message is whole (not an answer cut off or still being written).
    pub fn is_complete(&self) -> bool {
        self.status == message_status::COMPLETED
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RunRow {
    pub id: String,
    pub thread_id: String,
    pub message_id: String,
    pub created_at: i64,
    #[sqlx(try_from = "String")]
    pub status: RunStatus,
    pub model: String,
    pub instructions: String,
    pub required_action: Option<String>,
    pub last_error: Option<String>,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub expires_at: i64,
    pub usage: Option<String>,
    pub lease_until: Option<i64>,
    /// The address (IPv6 by /64) of the request that started the run, when known.
    pub client_addr: Option<String>,
}

impl RunRow {
    /// A new queued run of `message_id` in `thread_id`, made at `now`, ending by `expires_at`.
    pub fn queued(
        thread_id: &str,
        message_id: &str,
        model: &str,
        instructions: &str,
        now: i64,
        expires_at: i64,
    ) -> Self {
        Self {
            id: crate::ids::RunId::new().into_string(),
            thread_id: thread_id.to_string(),
            message_id: message_id.to_string(),
            created_at: now,
            status: RunStatus::Queued,
            model: model.to_string(),
            instructions: instructions.to_string(),
            required_action: None,
            last_error: None,
            started_at: None,
            completed_at: None,
            failed_at: None,
            cancelled_at: None,
            expires_at,
            usage: None,
            lease_until: None,
            client_addr: None,
        }
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StepRow {
    pub id: String,
    pub run_id: String,
    pub thread_id: String,
    pub created_at: i64,
    #[sqlx(rename = "type")]
    pub step_type: String,
    /// A step's status: `in_progress`, then `completed`, `failed`, `cancelled` or `expired`.
    #[sqlx(try_from = "String")]
    pub status: RunStatus,
    pub step_details: String,
    pub last_error: Option<String>,
    pub completed_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub expired_at: Option<i64>,
    pub usage: Option<String>,
}

impl StepRow {
    /// A new step of `run` (`tool_calls` or `message_creation`), made at `now`.
    pub fn new(
        run: &RunRow,
        step_type: &str,
        status: RunStatus,
        details: String,
        now: i64,
    ) -> Self {
        Self {
            id: crate::ids::StepId::new().into_string(),
            run_id: run.id.clone(),
            thread_id: run.thread_id.clone(),
            created_at: now,
            step_type: step_type.to_string(),
            status,
            step_details: details,
            last_error: None,
            completed_at: None,
            failed_at: None,
            cancelled_at: None,
            expired_at: None,
            usage: None,
        }
    }
}

/// One page of a list route.
pub struct Page {
    pub limit: i64,
    pub after: Option<String>,
    pub descending: bool,
}

#[derive(Clone)]
pub struct Store {
    /// Reads.
    pool: AnyPool,
    /// Writes: on SQLite one connection, so writers queue in the pool (in order, no sleeping)
    /// instead of contending for the file's lock — with four writers, SQLite's busy handler
    /// slept and retried, and under issue 15's load (100 streamed answers a second) posting
    /// a message took seconds. On Postgres the same pool as reads.
    writer: AnyPool,
    /// Postgres (several instances may share it) rather than SQLite.
    postgres: bool,
}

impl Store {
    /// Connects (creating a SQLite file and its folder when needed) and runs the migrations.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let url = prepare_url(url)?;
        let options = AnyConnectOptions::from_str(&url)?;
        let is_sqlite = url.starts_with("sqlite:");
        let open = |connections: u32| {
            AnyPoolOptions::new()
                .max_connections(connections)
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        if is_sqlite {
                            // WAL lets polls read while a run writes; NORMAL is durable across
                            // process crashes in WAL mode (only an OS crash can lose the last
                            // commits). busy_timeout covers the one writer against a reader's
                            // checkpoint and other processes (the admin benchmark's filler).
                            sqlx::raw_sql(
                                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                            )
                            .execute(conn)
                            .await?;
                        }
                        Ok(())
                    })
                })
                .connect_with(options.clone())
        };
        let (pool, writer) = if is_sqlite {
            (open(4).await?, open(1).await?)
        } else {
            let pool = open(10).await?;
            (pool.clone(), pool)
        };
        sqlx::migrate!("./migrations")
            .run(&writer)
            .await
            .map_err(|e| StoreError::Setup(format!("migrations failed: {e}")))?;
        Ok(Self {
            pool,
            writer,
            postgres: !is_sqlite,
        })
    }

    /// Whether the database answers (readiness and `/healthz`).
    pub async fn ping(&self) -> StoreResult<()> {
        let query = sqlx::query("SELECT 1").execute(&self.pool);
        match tokio::time::timeout(PING_TIMEOUT, query).await {
            Ok(done) => done.map(drop).map_err(Into::into),
            Err(_) => Err(sqlx::Error::PoolTimedOut.into()),
        }
    }

    pub async fn insert_thread(&self, row: &ThreadRow) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO threads (id, session_id, created_at, metadata, slack_ts) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&row.id)
        .bind(&row.session_id)
        .bind(row.created_at)
        .bind(&row.metadata)
        .bind(&row.slack_ts)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The thread if it exists and belongs to `session`.
    pub async fn thread(&self, session: &str, id: &str) -> StoreResult<Option<ThreadRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM threads WHERE id = $1 AND session_id = $2")
                .bind(id)
                .bind(session)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// A session's threads, newest first.
    pub async fn threads(&self, session: &str, page: &Page) -> StoreResult<Vec<ThreadRow>> {
        self.page_of("threads", "session_id", session, page).await
    }

    pub async fn set_thread_metadata(&self, id: &str, metadata: &str) -> StoreResult<()> {
        sqlx::query("UPDATE threads SET metadata = $1 WHERE id = $2")
            .bind(metadata)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Deletes a thread with its messages, runs, steps and ratings, all or nothing.
    pub async fn delete_thread(&self, id: &str) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        // `cited_pages` go with their `questions` row (ON DELETE CASCADE).
        for table in ["feedback", "questions", "run_steps", "runs", "messages"] {
            let sql = format!("DELETE FROM {table} WHERE thread_id = $1");
            sqlx::query(AssertSqlSafe(sql))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let done = sqlx::query("DELETE FROM threads WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn messages(&self, thread_id: &str, page: &Page) -> StoreResult<Vec<MessageRow>> {
        self.page_of("messages", "thread_id", thread_id, page).await
    }

    /// Every message of a thread, oldest first (what the model sees).
    pub async fn all_messages(&self, thread_id: &str) -> StoreResult<Vec<MessageRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM messages WHERE thread_id = $1 ORDER BY id ASC")
                .bind(thread_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Stores a user message (none for a retry) and the run it starts in one transaction.
    /// Fails with [`StoreError::ActiveRun`] (and stores nothing) when the thread has an
    /// active run.
    pub async fn insert_message_and_run(
        &self,
        message: Option<&MessageRow>,
        run: &RunRow,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        if let Some(message) = message {
            insert_message(&mut tx, message).await?;
        }
        let inserted = sqlx::query(
            "INSERT INTO runs (id, thread_id, message_id, created_at, status, model, instructions, \
             expires_at, client_addr) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&run.id)
        .bind(&run.thread_id)
        .bind(&run.message_id)
        .bind(run.created_at)
        .bind(run.status.as_str())
        .bind(&run.model)
        .bind(&run.instructions)
        .bind(run.expires_at)
        .bind(&run.client_addr)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                // Roll back now rather than when the pool reuses the connection: an open
                // write transaction would hold SQLite's write lock meanwhile.
                tx.rollback().await?;
                return Err(StoreError::ActiveRun);
            }
            Err(e) => {
                tx.rollback().await?;
                return Err(e.into());
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn run(&self, thread_id: &str, run_id: &str) -> StoreResult<Option<RunRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM runs WHERE id = $1 AND thread_id = $2")
                .bind(run_id)
                .bind(thread_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn run_by_id(&self, run_id: &str) -> StoreResult<Option<RunRow>> {
        Ok(sqlx::query_as("SELECT * FROM runs WHERE id = $1")
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Every run of a thread, oldest first.
    pub async fn runs_of_thread(&self, thread_id: &str) -> StoreResult<Vec<RunRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM runs WHERE thread_id = $1 ORDER BY id ASC")
                .bind(thread_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Runs that are not terminal, for recovery at start.
    pub async fn active_runs(&self) -> StoreResult<Vec<RunRow>> {
        let sql = format!(
            "SELECT * FROM runs WHERE status IN {} ORDER BY id",
            status_list(RunStatus::is_active)
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?)
    }

    /// Moves a run from one of `from` to `to`, setting the named timestamp column to now and
    /// `last_error`/`required_action` as given. Returns whether the run was in `from`: a
    /// transition that lost a race changes nothing.
    pub async fn transition(
        &self,
        run_id: &str,
        from: &[RunStatus],
        to: RunStatus,
        change: Change<'_>,
    ) -> StoreResult<bool> {
        let from_list = from
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut sets = vec![
            "status = $1".to_string(),
            "required_action = $2".to_string(),
        ];
        sets.push("last_error = COALESCE($3, last_error)".into());
        sets.push("usage = COALESCE($4, usage)".into());
        sets.push("lease_until = $5".into());
        if let Some(column) = change.stamp {
            // A number we made, not input: inlined so every bound parameter is referenced.
            sets.push(format!("{column} = COALESCE({column}, {})", now_secs()));
        }
        let sql = format!(
            "UPDATE runs SET {} WHERE id = $6 AND status IN ({from_list})",
            sets.join(", ")
        );
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(to.as_str())
            .bind(change.required_action)
            .bind(change.last_error)
            .bind(change.usage)
            .bind(change.lease_until)
            .bind(run_id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Runs not yet ended over all of a session's threads.
    pub async fn active_runs_of_session(&self, session: &str) -> StoreResult<i64> {
        let sql = format!(
            "SELECT COUNT(*) FROM runs JOIN threads ON runs.thread_id = threads.id \
             WHERE threads.session_id = $1 AND runs.status IN {}",
            status_list(RunStatus::is_active)
        );
        let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(sql))
            .bind(session)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Runs not yet ended that requests from `addr` started, over all sessions.
    pub async fn active_runs_of_addr(&self, addr: &str) -> StoreResult<i64> {
        let sql = format!(
            "SELECT COUNT(*) FROM runs WHERE client_addr = $1 AND status IN {}",
            status_list(RunStatus::is_active)
        );
        let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(sql))
            .bind(addr)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// How many messages (questions and answers) the thread holds.
    pub async fn message_count(&self, thread_id: &str) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM messages WHERE thread_id = $1")
            .bind(thread_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Takes up to `n` of the oldest queued runs that no live instance holds, in one statement:
    /// `in_progress` with a lease until `lease_until`, oldest first. Of several instances asking
    /// at once each gets other runs (Postgres skips rows another transaction has locked; SQLite
    /// has one writer). One statement for many runs matters on SQLite, where every write waits
    /// for the one writer: claiming runs one by one let them start seconds after their
    /// questions when thousands came at once (README "Load and scale").
    pub async fn claim_queued(
        &self,
        now: i64,
        lease_until: i64,
        n: usize,
    ) -> StoreResult<Vec<RunRow>> {
        let set = format!(
            "UPDATE runs SET status = '{in_progress}', lease_until = $1, \
             started_at = COALESCE(started_at, $2)",
            in_progress = RunStatus::InProgress,
        );
        let oldest = format!(
            "SELECT id FROM runs WHERE status = '{queued}' \
             AND (lease_until IS NULL OR lease_until < $2) ORDER BY created_at, id LIMIT $3",
            queued = RunStatus::Queued,
        );
        let sql = if self.postgres {
            // A CTE, which Postgres evaluates once: as `id IN (SELECT … FOR UPDATE SKIP
            // LOCKED)` the planner may run the subquery again and take more than `n` rows.
            format!(
                "WITH picked AS ({oldest} FOR UPDATE SKIP LOCKED) {set} FROM picked \
                 WHERE runs.id = picked.id AND runs.status = '{queued}' RETURNING runs.*",
                queued = RunStatus::Queued,
            )
        } else {
            format!(
                "{set} WHERE id IN ({oldest}) AND status = '{queued}' RETURNING *",
                queued = RunStatus::Queued,
            )
        };
        let mut runs: Vec<RunRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(lease_until)
            .bind(now)
            .bind(n as i64)
            .fetch_all(&self.writer)
            .await?;
        // RETURNING keeps no order: the oldest question starts first.
        runs.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(runs)
    }

    /// Model tokens spent on `day` (days since 1970, UTC) by `addr` and by everyone.
    pub async fn tokens_spent(&self, day: i64, addr: Option<&str>) -> StoreResult<(i64, i64)> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT scope, tokens FROM token_usage WHERE day = $1 AND (scope = '*' OR scope = $2)",
        )
        .bind(day)
        .bind(addr.unwrap_or("*"))
        .fetch_all(&self.pool)
        .await?;
        let of = |scope: &str| rows.iter().find(|(s, _)| s == scope).map_or(0, |(_, n)| *n);
        Ok((addr.map_or(0, of), of("*")))
    }

    /// Adds `tokens` to `addr`'s count and everyone's for `day`.
    pub async fn add_tokens(&self, day: i64, addr: Option<&str>, tokens: i64) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        for scope in addr.into_iter().chain(["*"]) {
            sqlx::query(
                "INSERT INTO token_usage (day, scope, tokens) VALUES ($1, $2, $3) \
                 ON CONFLICT (day, scope) DO UPDATE SET tokens = token_usage.tokens + $3",
            )
            .bind(day)
            .bind(scope)
            .bind(tokens)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Appends an event to the run's stream (the next number in its order).
    pub async fn append_event(&self, run_id: &str, event: &str, data: &str) -> StoreResult<i64> {
        // One executor writes a run's events at a time; two writers racing (a cancel from
        // another instance) collide on the key, and the loser takes the next number.
        for _ in 0..5 {
            let row: Result<(i64,), sqlx::Error> = sqlx::query_as(
                "INSERT INTO run_events (run_id, seq, event, data) \
                 SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3 FROM run_events WHERE run_id = $1 \
                 RETURNING seq",
            )
            .bind(run_id)
            .bind(event)
            .bind(data)
            .fetch_one(&self.writer)
            .await;
            match row {
                Ok((seq,)) => return Ok(seq),
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Setup("could not number a run event".into()))
    }

    /// The run's events after `seq`, in order: (seq, event, data).
    pub async fn events_after(
        &self,
        run_id: &str,
        seq: i64,
    ) -> StoreResult<Vec<(i64, String, String)>> {
        Ok(sqlx::query_as(
            "SELECT seq, event, data FROM run_events WHERE run_id = $1 AND seq > $2 ORDER BY seq",
        )
        .bind(run_id)
        .bind(seq)
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many runs there are in each status (metrics).
    pub async fn runs_by_status(&self) -> StoreResult<Vec<(String, i64)>> {
        Ok(
            sqlx::query_as("SELECT status, COUNT(*) FROM runs GROUP BY status ORDER BY status")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Keeps the `ts` of a thread's Slack announcement.
    pub async fn set_slack_ts(&self, thread_id: &str, ts: &str) -> StoreResult<()> {
        sqlx::query("UPDATE threads SET slack_ts = $1 WHERE id = $2")
            .bind(ts)
            .bind(thread_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The `ts` of a thread's Slack announcement, once Slack has answered it.
    pub async fn slack_ts(&self, thread_id: &str) -> StoreResult<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT slack_ts FROM threads WHERE id = $1")
                .bind(thread_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(ts,)| ts))
    }

    /// Takes back an active run whose lease ran out (or any active run with `ignore_lease`, for
    /// a single instance starting up): `queued` without a lease, for the next free slot of any
    /// instance. Returns whether this caller moved it.
    pub async fn reclaim(&self, run_id: &str, now: i64, ignore_lease: bool) -> StoreResult<bool> {
        let lease_rule = if ignore_lease {
            ""
        } else {
            " AND (lease_until IS NULL OR lease_until < $2)"
        };
        let sql = format!(
            "UPDATE runs SET status = '{}', required_action = NULL, lease_until = NULL \
             WHERE id = $1 AND status IN {}{lease_rule}",
            RunStatus::Queued,
            status_list(RunStatus::is_runnable)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(run_id);
        if !ignore_lease {
            query = query.bind(now);
        }
        Ok(query.execute(&self.writer).await?.rows_affected() == 1)
    }

    /// Gives an active run up (shutdown): `queued` without a lease, for anyone to take.
    pub async fn release(&self, run_id: &str) -> StoreResult<bool> {
        let sql = format!(
            "UPDATE runs SET status = '{}', required_action = NULL, lease_until = NULL \
             WHERE id = $1 AND status IN {}",
            RunStatus::Queued,
            status_list(RunStatus::is_runnable)
        );
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(run_id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Extends the leases of the runs this process executes, in statements of at most
    /// [`RENEW_AT_ONCE`] runs: one heartbeat for the instance rather than a write per run (at
    /// 10,000 runs and a 30-second lease that was 1,000 writes a second on SQLite's one writer).
    pub async fn renew_leases(&self, run_ids: &[String], lease_until: i64) -> StoreResult<()> {
        for chunk in run_ids.chunks(RENEW_AT_ONCE) {
            let marks: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
            let sql = format!(
                "UPDATE runs SET lease_until = $1 WHERE id IN ({})",
                marks.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(lease_until);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            query.execute(&self.writer).await?;
        }
        Ok(())
    }

    /// Completes a run: stores the answer and its step, then marks the run completed, all in
    /// one transaction, and only if the run is still in progress.
    pub async fn complete_run(
        &self,
        run_id: &str,
        message: &MessageRow,
        step: &StepRow,
        usage: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(
            "UPDATE runs SET status = $4, completed_at = $1, usage = $2, \
             required_action = NULL, lease_until = NULL WHERE id = $3 AND status = $5",
        )
        .bind(now_secs())
        .bind(usage)
        .bind(run_id)
        .bind(RunStatus::Completed.as_str())
        .bind(RunStatus::InProgress.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        upsert_answer(&mut tx, message).await?;
        insert_step(&mut tx, step).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Saves the answer a run is writing (`in_progress`, the text so far). An answer that has
    /// ended (completed or incomplete) is never written over.
    pub async fn save_partial_answer(&self, message: &MessageRow) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await?;
        upsert_answer(&mut conn, message).await
    }

    /// Ends the answer a run was writing as `incomplete`, keeping what was written; `reason`
    /// is OpenAI's (`run_cancelled`, `run_failed`, `run_expired`). Returns the answer it ended.
    pub async fn end_partial_answer(
        &self,
        run_id: &str,
        reason: &str,
    ) -> StoreResult<Option<MessageRow>> {
        let details = serde_json::json!({ "reason": reason }).to_string();
        // RETURNING: SQLite 3.35+ (bundled by sqlx) and Postgres both have it.
        Ok(sqlx::query_as(
            "UPDATE messages SET status = $1, incomplete_details = $2, incomplete_at = $3 \
             WHERE run_id = $4 AND status = $5 RETURNING *",
        )
        .bind(message_status::INCOMPLETE)
        .bind(details)
        .bind(now_secs())
        .bind(run_id)
        .bind(message_status::IN_PROGRESS)
        .fetch_optional(&self.writer)
        .await?)
    }

    pub async fn insert_step(&self, step: &StepRow) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await?;
        insert_step(&mut conn, step).await
    }

    /// Records a step's outcome: its status, details and usage.
    pub async fn finish_step(&self, step: &StepRow) -> StoreResult<()> {
        sqlx::query(
            "UPDATE run_steps SET status = $1, step_details = $2, last_error = $3, \
             completed_at = $4, failed_at = $5, usage = $6 WHERE id = $7",
        )
        .bind(step.status.as_str())
        .bind(&step.step_details)
        .bind(&step.last_error)
        .bind(step.completed_at)
        .bind(step.failed_at)
        .bind(&step.usage)
        .bind(&step.id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Marks the steps of a run that never finished with the run's terminal status.
    pub async fn close_open_steps(&self, run_id: &str, status: RunStatus) -> StoreResult<()> {
        let column = match status {
            RunStatus::Expired => "expired_at",
            RunStatus::Cancelled => "cancelled_at",
            _ => "failed_at",
        };
        let sql = format!(
            "UPDATE run_steps SET status = $1, {column} = $2 WHERE run_id = $3 AND status = '{}'",
            RunStatus::InProgress
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(status.as_str())
            .bind(now_secs())
            .bind(run_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Every run step of a thread, oldest first (the sources under its answers).
    pub async fn steps_of_thread(&self, thread_id: &str) -> StoreResult<Vec<StepRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM run_steps WHERE thread_id = $1 ORDER BY id")
                .bind(thread_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn steps(&self, run_id: &str, page: &Page) -> StoreResult<Vec<StepRow>> {
        self.page_of("run_steps", "run_id", run_id, page).await
    }

    /// One page of `table`'s rows whose `owner_column` is `owner`, by id (ids sort by
    /// creation time), after the `page.after` cursor. Table and column are constants of this
    /// module, never input.
    async fn page_of<R>(
        &self,
        table: &str,
        owner_column: &str,
        owner: &str,
        page: &Page,
    ) -> StoreResult<Vec<R>>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
    {
        let (cmp, order) = if page.descending {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        let sql = format!(
            "SELECT * FROM {table} WHERE {owner_column} = $1 AND ($2 = '' OR id {cmp} $2) \
             ORDER BY id {order} LIMIT $3"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(owner)
            .bind(page.after.clone().unwrap_or_default())
            .bind(page.limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Counts rows, for tests and metrics.
    pub async fn count(&self, table: &str) -> StoreResult<i64> {
        let sql = format!("SELECT COUNT(*) AS n FROM {table}");
        Ok(sqlx::query(AssertSqlSafe(sql))
            .fetch_one(&self.pool)
            .await?
            .try_get::<i64, _>("n")?)
    }
}

/// Optional parts of a run transition.
#[derive(Default)]
pub struct Change<'a> {
    pub stamp: Option<&'static str>,
    pub required_action: Option<&'a str>,
    pub last_error: Option<&'a str>,
    pub usage: Option<&'a str>,
    pub lease_until: Option<i64>,
}

async fn insert_message(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    m: &MessageRow,
) -> StoreResult<()> {
    upsert_answer(tx, m).await
}

/// Inserts the message, or writes its text, status and times over the stored one while that
/// one is still `in_progress` (an answer being written).
async fn upsert_answer(conn: &mut sqlx::AnyConnection, m: &MessageRow) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO messages (id, thread_id, created_at, role, content, run_id, metadata, \
         status, incomplete_details, completed_at, incomplete_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (id) DO UPDATE SET content = excluded.content, status = excluded.status, \
         incomplete_details = excluded.incomplete_details, \
         completed_at = excluded.completed_at, incomplete_at = excluded.incomplete_at \
         WHERE messages.status = 'in_progress'",
    )
    .bind(&m.id)
    .bind(&m.thread_id)
    .bind(m.created_at)
    .bind(&m.role)
    .bind(&m.content)
    .bind(&m.run_id)
    .bind(&m.metadata)
    .bind(&m.status)
    .bind(&m.incomplete_details)
    .bind(m.completed_at)
    .bind(m.incomplete_at)
    .execute(conn)
    .await?;
    Ok(())
}

async fn insert_step(conn: &mut sqlx::AnyConnection, s: &StepRow) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO run_steps (id, run_id, thread_id, created_at, type, status, step_details, \
         last_error, completed_at, failed_at, usage) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&s.id)
    .bind(&s.run_id)
    .bind(&s.thread_id)
    .bind(s.created_at)
    .bind(&s.step_type)
    .bind(s.status.as_str())
    .bind(&s.step_details)
    .bind(&s.last_error)
    .bind(s.completed_at)
    .bind(s.failed_at)
    .bind(&s.usage)
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes a SQLite URL create its file (and folder) when missing.
fn prepare_url(url: &str) -> StoreResult<String> {
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return Ok(url.to_string());
    };
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        return Ok(url.to_string());
    }
    if let Some(parent) = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| StoreError::Setup(format!("cannot create {}: {e}", parent.display())))?;
    }
    Ok(if url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

#[cfg(test)]
mod tests {
    use super::{RunStatus, prepare_url, status_list};

    #[test]
    fn status_lists_come_from_the_life_cycle() {
        assert_eq!(
            status_list(RunStatus::is_active),
            "('queued', 'in_progress', 'requires_action', 'cancelling')"
        );
        assert_eq!(
            status_list(RunStatus::is_runnable),
            "('queued', 'in_progress', 'requires_action')"
        );
    }

    #[test]
    fn sqlite_urls_create_their_file() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/sub/x.db", dir.path().display());
        assert_eq!(prepare_url(&url).unwrap(), format!("{url}?mode=rwc"));
        assert!(dir.path().join("sub").is_dir());
        assert_eq!(prepare_url("postgres://h/db").unwrap(), "postgres://h/db");
    }
}
