//! The database: threads, messages, runs and run steps, on SQLite or Postgres through one
//! `AnyPool`. Queries are runtime `query_as` with `$1` placeholders, which both accept.
use std::{path::Path, str::FromStr, time::Duration};

use sqlx::{
    AnyPool, AssertSqlSafe, Row,
    any::{AnyConnectOptions, AnyPoolOptions},
};

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

mod events;
mod feedback;
mod insights;
mod leases;
mod messages;
mod rows;
mod runs;
mod sites;
mod steps;
mod threads;
pub use insights::{Counts, Period, QuestionFilter};
pub use rows::{
    Change, FeedbackRow, MessageRow, QuestionRow, RunRow, StepRow, ThreadRow, message_status,
};
pub use sites::{CrawlChanges, SiteFailureRow, SitePageRow, SiteRow};

/// A row type read from either database.
trait Readable: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin {}
impl<T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin> Readable for T {}

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

    /// One page of `table`'s rows whose `owner_column` is `owner`, by id (ids sort by
    /// creation time), after the `page.after` cursor. Table and column are constants of this
    /// module, never input.
    async fn page_of<R: Readable>(
        &self,
        table: &str,
        owner_column: &str,
        owner: &str,
        page: &Page,
    ) -> StoreResult<Vec<R>> {
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

    /// Every row of `table` that belongs to a thread, in the order of `key` (oldest first for
    /// ids).
    async fn of_thread<R: Readable>(
        &self,
        table: &str,
        key: &str,
        thread_id: &str,
    ) -> StoreResult<Vec<R>> {
        let sql = format!("SELECT * FROM {table} WHERE thread_id = $1 ORDER BY {key}");
        self.select(sql, &[thread_id]).await
    }

    /// The row of `table` with `id` whose `owner_column` is `owner`, if any.
    async fn owned<R: Readable>(
        &self,
        table: &str,
        owner_column: &str,
        id: &str,
        owner: &str,
    ) -> StoreResult<Option<R>> {
        let sql = format!("SELECT * FROM {table} WHERE id = $1 AND {owner_column} = $2");
        Ok(self.select(sql, &[id, owner]).await?.pop())
    }

    /// The rows `sql` (made of this module's constants) selects with `values` as `$1`, `$2`, ….
    async fn select<R: Readable>(&self, sql: String, values: &[&str]) -> StoreResult<Vec<R>> {
        let mut query = sqlx::query_as(AssertSqlSafe(sql));
        for value in values {
            query = query.bind(*value);
        }
        Ok(query.fetch_all(&self.pool).await?)
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
