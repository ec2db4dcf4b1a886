use server::{
    config::Config,
    startup::{Application, leptos_options},
    telemetry,
};

#[tokio::main]
async fn main() {
    telemetry::init("info,sqlx=warn", std::io::stderr);
    if let Err(e) = run().await {
        eprintln!("paste-assistant: {e:#}");
        std::process::exit(1);
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
