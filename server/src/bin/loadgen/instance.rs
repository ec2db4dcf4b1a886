//! The release server under load: started on a fresh database with every limit off, and
//! stopped with its database removed.
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use crate::Options;
use crate::database::{
    create_postgres_database, drop_postgres_database, fill, tempfile_dir, wait_until_up,
};

pub struct Instance {
    pub child: Child,
    pub base: String,
    dir: std::path::PathBuf,
    postgres: Option<String>,
}

impl Instance {
    /// Starts the server; with `--grow`, stops it while the history is written, then starts it
    /// again on the grown database.
    pub async fn start(o: &Options, model_url: &str, client: &reqwest::Client) -> Self {
        let dir = tempfile_dir();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let base = format!("http://127.0.0.1:{port}");
        let database = match &o.postgres {
            Some(admin) => create_postgres_database(admin).await,
            None => format!("sqlite://{}/load.db", dir.display()),
        };
        let mut child = spawn(o, port, &database, model_url);
        wait_until_up(client, &base).await;
        if o.grow > 0 {
            // The server made the schema; it stops while the history is written.
            let _ = child.kill();
            let _ = child.wait();
            let filled = Instant::now();
            fill(&database, o.grow).await;
            println!(
                "grew the database to {} threads, {} messages, {} runs in {:.1} s ({} MiB)",
                o.grow,
                o.grow * 10,
                o.grow * 5,
                filled.elapsed().as_secs_f64(),
                std::fs::metadata(dir.join("load.db")).map_or(0, |m| m.len() >> 20)
            );
            child = spawn(o, port, &database, model_url);
            wait_until_up(client, &base).await;
        }
        Self {
            child,
            base,
            dir,
            postgres: o.postgres.clone(),
        }
    }

    pub async fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(admin) = &self.postgres {
            drop_postgres_database(admin).await;
        }
    }
}

fn spawn(o: &Options, port: u16, database: &str, model_url: &str) -> Child {
    Command::new(&o.server_path)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_OUTPUT_NAME", "paste-assistant")
        .env("DATABASE_URL", database)
        .env("OPENAI_BASE_URL", model_url)
        .env("OPENAI_MODEL", "load-model")
        .env("OPENAI_HTTP2", if o.http2 { "always" } else { "auto" })
        // The model's whole answer must fit in one call's time limit (a 120-second model).
        .env(
            "OPENAI_TIMEOUT_SECS",
            (o.model.time().as_secs() + 60).to_string(),
        )
        .env(
            "RUST_LOG",
            if o.log.is_some() {
                "warn,sqlx::query=debug"
            } else {
                "error"
            },
        )
        .env("SESSION_SECRET", "loadgen-secret-loadgen-secret-loadgen-01")
        .env("DOCS_WATCH_SECS", "0")
        .envs(
            [
                "RATE_LIMIT_SESSION_PER_MIN",
                "RATE_LIMIT_ADDR_PER_MIN",
                "RATE_LIMIT_READS_ADDR_PER_MIN",
                "MAX_ACTIVE_RUNS_PER_SESSION",
                "MAX_ACTIVE_RUNS_PER_ADDR",
                "TOKEN_BUDGET_PER_ADDR_PER_DAY",
                "MAX_RUNNING_RUNS",
            ]
            .map(|k| (k, "0")),
        )
        .stdout(Stdio::null())
        .stderr(match &o.log {
            Some(path) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .expect("--server-log: cannot open the file"),
            ),
            None => Stdio::null(),
        })
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {}: {e} (build it: cargo build -p server --release)",
                o.server_path
            )
        })
}
