use server::{
    config::Config,
    startup::{Application, leptos_options},
    telemetry,
};

fn main() {
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("--help" | "-h") => {
            print!("{}", server::config::settings::help());
            return;
        }
        Some("--version" | "-V") => {
            println!("paste-assistant {}", env!("CARGO_PKG_VERSION"));
            return;
        }
        Some(other) => {
            eprintln!(
                "paste-assistant: unknown argument {other:?} (settings come from the environment; see --help)"
            );
            std::process::exit(2);
        }
    }
    limit_malloc_arenas();
    telemetry::init("info,sqlx=warn", std::io::stderr);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("paste-assistant: could not start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(run()) {
        eprintln!("paste-assistant: {e:#}");
        std::process::exit(1);
    }
}

/// glibc gives every thread that allocates (the runtime's workers, SQLite's connection threads)
/// an arena of its own and keeps what was freed in each: with thousands of runs waiting on the
/// model, 4,000 runs took 206 MiB with the default against 165 MiB with few arenas, at no cost
/// in speed measured (docs/benchmarks.md "Load and scale"). Two arenas, unless the operator set
/// `MALLOC_ARENA_MAX` (glibc reads it itself). It must run before any thread starts, hence a
/// hand-built runtime instead of `#[tokio::main]`.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; no other thread exists yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let config = Config::from_env()?;
    let app = Application::build(config, leptos_options()?).await?;
    tracing::info!(
        port = app.port(),
        start_ms = started.elapsed().as_millis() as u64,
        "Paste Assistant listening"
    );
    app.run_until_stopped().await?;
    Ok(())
}
