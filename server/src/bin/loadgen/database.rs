//! The server's database: waiting for the server, a grown history, Postgres databases of its own.
use std::time::{Duration, Instant};

pub async fn wait_until_up(client: &reqwest::Client, base: &str) {
    let up = Instant::now();
    while !client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            up.elapsed() < Duration::from_secs(60),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Writes `threads` threads of other sessions, each with five questions, their answers and
/// their completed runs, as a year of history would leave them.
pub async fn fill(database: &str, threads: usize) {
    use sqlx::Connection;
    let mut db = sqlx::SqliteConnection::connect(database).await.unwrap();
    sqlx::query("PRAGMA synchronous = OFF")
        .execute(&mut db)
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    let start = server::ids::now_secs() - 365 * 86400;
    let answer =
        "Set `DATABASE_URL` to a `postgres://` address; see [Deploying](/docs/deployment). "
            .repeat(6);
    for t in 0..threads {
        let tid = format!("thread_grow{t:013}");
        let at = start + t as i64 * 300;
        sqlx::query(
            "INSERT INTO threads (id, session_id, created_at, metadata) VALUES (?, ?, ?, '{}')",
        )
        .bind(&tid)
        .bind(format!("grown-session-{}", t / 3))
        .bind(at)
        .execute(&mut *tx)
        .await
        .unwrap();
        for q in 0..5 {
            let (qid, aid, rid) = (
                format!("msg_grow{t:013}q{q}"),
                format!("msg_grow{t:013}a{q}"),
                format!("run_grow{t:013}r{q}"),
            );
            let when = at + q * 30;
            sqlx::query("INSERT INTO runs (id, thread_id, message_id, created_at, status, model, instructions, expires_at, completed_at) VALUES (?, ?, ?, ?, 'completed', 'grown', '', ?, ?)")
                .bind(&rid).bind(&tid).bind(&qid).bind(when).bind(when + 600).bind(when + 5)
                .execute(&mut *tx).await.unwrap();
            for (id, role, content, run) in [
                (
                    &qid,
                    "user",
                    "How do I deploy the assistant with Postgres on two servers?",
                    None,
                ),
                (&aid, "assistant", answer.as_str(), Some(&rid)),
            ] {
                sqlx::query("INSERT INTO messages (id, thread_id, created_at, role, content, run_id, metadata, status, completed_at) VALUES (?, ?, ?, ?, ?, ?, '{}', 'completed', ?)")
                    .bind(id).bind(&tid).bind(when).bind(role).bind(content).bind(run).bind(when)
                    .execute(&mut *tx).await.unwrap();
            }
        }
    }
    tx.commit().await.unwrap();
    sqlx::query("ANALYZE").execute(&mut db).await.unwrap();
}

/// The Postgres database of this run (`--postgres`).
pub fn postgres_database_name() -> String {
    format!("pa_load_{}", std::process::id())
}

/// A new Postgres database for this run, created through `admin`; its URL.
pub async fn create_postgres_database(admin: &str) -> String {
    use sqlx::Connection;
    let name = postgres_database_name();
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .unwrap_or_else(|e| panic!("--postgres: cannot connect to {admin}: {e}"));
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name}"
    )))
    .execute(&mut conn)
    .await;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("--postgres: CREATE DATABASE");
    let (base, _) = admin
        .rsplit_once('/')
        .expect("--postgres: a URL ending in /database");
    format!("{base}/{name}")
}

pub async fn drop_postgres_database(admin: &str) {
    use sqlx::Connection;
    let name = postgres_database_name();
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
        {
            eprintln!("loadgen: could not drop {name}: {e}");
        }
    }
}

/// A fresh folder for the database.
pub fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
