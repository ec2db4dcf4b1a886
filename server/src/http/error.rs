//! The HTTP boundary's error: status code and API.md's error JSON; internal causes are logged,
//! never sent. Status codes and error types come from [`ErrorKind`], the one table both the
//! REST API and the server functions use.
use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::ids::InvalidId;
use crate::service::ServiceError;
use app::api::ErrorKind;

#[derive(Debug)]
pub enum ApiError {
    /// What the service answered.
    Service(ServiceError),
    /// A request the boundary could not parse (body, query, path).
    BadRequest(String),
    /// No such route.
    NotFound(String),
    MethodNotAllowed,
    PayloadTooLarge,
    RateLimited {
        retry_after_secs: u64,
    },
    /// Serving took longer than `REQUEST_TIMEOUT_SECS`.
    TimedOut,
    /// A browser on another site (or another site's page) asked to change something.
    CrossSite,
    /// A REST body that is not JSON.
    UnsupportedMediaType,

    /// A fault of the server itself (a missing middleware, a panic).
    Internal(String),
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        ApiError::Service(e)
    }
}

impl From<InvalidId> for ApiError {
    fn from(e: InvalidId) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl ApiError {
    /// The kind, the message for the caller and API.md's `error.code`.
    fn parts(&self) -> (ErrorKind, String, Option<&'static str>) {
        match self {
            ApiError::Service(e) => {
                let code = match e {
                    ServiceError::Busy(_) => Some("too_many_active_runs"),
                    ServiceError::BudgetExhausted { .. } => Some("budget_exhausted"),
                    _ => None,
                };
                (e.kind(), e.public_message(), code)
            }
            ApiError::BadRequest(m) => (ErrorKind::BadRequest, m.clone(), None),
            ApiError::NotFound(m) => (ErrorKind::NotFound, m.clone(), None),
            ApiError::MethodNotAllowed => (
                ErrorKind::BadRequest,
                "This method is not allowed on this route.".into(),
                None,
            ),
            ApiError::PayloadTooLarge => (
                ErrorKind::BadRequest,
                "The request body is larger than the limit of 1 MiB.".into(),
                None,
            ),
            ApiError::RateLimited { retry_after_secs } => (
                ErrorKind::RateLimited,
                format!("Too many requests; try again in {retry_after_secs} seconds."),
                Some("rate_limit_exceeded"),
            ),
            ApiError::TimedOut => (
                ErrorKind::Unavailable,
                "The server took too long to answer this request; please retry.".into(),
                Some("request_timeout"),
            ),
            ApiError::CrossSite => (
                ErrorKind::Forbidden,
                "This request came from another site; open the assistant itself to use it.".into(),
                Some("cross_site_request"),
            ),
            ApiError::UnsupportedMediaType => (
                ErrorKind::BadRequest,
                "Send the request body as JSON with `Content-Type: application/json`.".into(),
                Some("unsupported_media_type"),
            ),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "request failed");
                (
                    ErrorKind::Server,
                    "The server could not complete the request; nothing was lost, please retry."
                        .into(),
                    None,
                )
            }
        }
    }

    fn status(&self, kind: ErrorKind) -> StatusCode {
        match self {
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TimedOut => StatusCode::GATEWAY_TIMEOUT,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            _ => StatusCode::from_u16(kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            // Answers take seconds: a few seconds is a fair first wait.
            ApiError::Service(ServiceError::Busy(_)) => Some(5),
            ApiError::Service(ServiceError::BudgetExhausted {
                retry_after_secs, ..
            }) => Some(*retry_after_secs),
            ApiError::Service(e) if e.kind() == ErrorKind::Unavailable => Some(5),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (kind, message, code) = self.parts();
        let status = self.status(kind);
        let body = json!({"error": {"message": message, "type": kind.error_type(), "code": code}});
        let mut response = (status, Json(body)).into_response();
        if kind == ErrorKind::Unauthorized {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after()
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}
