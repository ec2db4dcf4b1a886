//! Each server function is a few lines: find the session and the service, call it.
use leptos::prelude::*;

use crate::api::{AppError, Rating, RunState, SentMessage, Site, ThreadSummary, ThreadView};

#[cfg(feature = "ssr")]
mod ssr {
    use crate::api::AppError;
    use crate::service::{SessionId, SharedService};
    use leptos::prelude::*;

    pub async fn context() -> Result<(SharedService, SessionId), AppError> {
        let service = use_context::<SharedService>()
            .ok_or_else(|| AppError::server("the assistant service is not configured"))?;
        let axum::Extension(session) = leptos_axum::extract::<axum::Extension<SessionId>>()
            .await
            .map_err(|e| AppError::server(format!("no session: {e}")))?;
        Ok((service, session))
    }

    /// The caller's address group, for the limits that count by it.
    pub async fn addr() -> crate::service::ClientAddr {
        leptos_axum::extract::<axum::Extension<crate::service::ClientAddr>>()
            .await
            .map(|axum::Extension(addr)| addr)
            .unwrap_or_default()
    }

    /// Gives a failed server function the status code its error deserves (API.md), not 500.
    pub fn status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(e) = &result
            && let Some(options) = use_context::<leptos_axum::ResponseOptions>()
        {
            options
                .set_status(axum::http::StatusCode::from_u16(e.kind.status()).unwrap_or_default());
        }
        result
    }
}

#[server]
pub async fn list_threads() -> Result<Vec<ThreadSummary>, AppError> {
    let (service, session) = ssr::context().await?;
    ssr::status(service.list_threads(&session).await)
}

#[server]
pub async fn get_thread_view(thread_id: String, newest: usize) -> Result<ThreadView, AppError> {
    let (service, session) = ssr::context().await?;
    ssr::status(service.thread_view(&session, &thread_id, newest).await)
}

#[server]
pub async fn create_thread() -> Result<ThreadSummary, AppError> {
    let (service, session) = ssr::context().await?;
    ssr::status(service.create_thread(&session, &ssr::addr().await).await)
}

#[server]
pub async fn send_message(thread_id: String, text: String) -> Result<SentMessage, AppError> {
    let (service, session) = ssr::context().await?;
    let addr = ssr::addr().await;
    ssr::status(
        service
            .send_message(&session, &addr, &thread_id, &text)
            .await,
    )
}

#[server]
pub async fn get_run_state(thread_id: String, run_id: String) -> Result<RunState, AppError> {
    let (service, session) = ssr::context().await?;
    ssr::status(service.run_state(&session, &thread_id, &run_id).await)
}

#[server]
pub async fn cancel_run(thread_id: String, run_id: String) -> Result<RunState, AppError> {
    let (service, session) = ssr::context().await?;
    ssr::status(service.cancel_run(&session, &thread_id, &run_id).await)
}

/// Asks the model for a few-word title and saves it as the thread's `threadTitle`.
#[server]
pub async fn title_thread(thread_id: String, text: String) -> Result<ThreadSummary, AppError> {
    let (service, session) = ssr::context().await?;
    let addr = ssr::addr().await;
    ssr::status(
        service
            .title_thread(&session, &addr, &thread_id, &text)
            .await,
    )
}

#[server]
pub async fn delete_thread(thread_id: String) -> Result<(), AppError> {
    let (service, session) = ssr::context().await?;
    ssr::status(service.delete_thread(&session, &thread_id).await)
}

#[server]
pub async fn rename_thread(thread_id: String, title: String) -> Result<ThreadSummary, AppError> {
    let (service, session) = ssr::context().await?;
    ssr::status(service.rename_thread(&session, &thread_id, &title).await)
}

/// Asks the last question of the thread again after its run failed.
#[server]
pub async fn retry_run(thread_id: String) -> Result<RunState, AppError> {
    let (service, session) = ssr::context().await?;
    let addr = ssr::addr().await;
    ssr::status(service.retry_run(&session, &addr, &thread_id).await)
}

/// Rates an answer ("Helpful" / "Not helpful"), or removes the rating (`rating: None`).
#[server]
pub async fn rate_answer(
    thread_id: String,
    message_id: String,
    rating: Option<Rating>,
    reason: Option<String>,
    comment: Option<String>,
) -> Result<Option<Rating>, AppError> {
    let (service, session) = ssr::context().await?;
    ssr::status(
        service
            .rate_answer(
                &session,
                &thread_id,
                &message_id,
                rating,
                reason.as_deref(),
                comment.as_deref(),
            )
            .await,
    )
}

/// The assistant's name, model, example questions and retention.
#[server]
pub async fn get_site() -> Result<Site, AppError> {
    let (service, _) = ssr::context().await?;
    Ok(service.site())
}
