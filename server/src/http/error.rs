//! The HTTP boundary's error: status code and API.md's error JSON; internal causes are logged,
//! never sent.
use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::service::ServiceError;

#[derive(Debug)]
pub enum ApiError {
    BadRequest(String),
    /// 401 with `WWW-Authenticate: Bearer`.
    Unauthorized(String),
    Forbidden(String),
    NotFound(String),
    MethodNotAllowed,
    Conflict(String),
    PayloadTooLarge,
    RateLimited {
        retry_after_secs: u64,
    },
    /// 429 for a reason of its own (too many answers in progress).
    Busy(String),
    Upstream(String),
    Internal(String),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            ApiError::BadRequest(m) => {
                (StatusCode::BAD_REQUEST, "invalid_request_error", m.clone())
            }
            ApiError::Unauthorized(m) => {
                (StatusCode::UNAUTHORIZED, "authentication_error", m.clone())
            }
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, "permission_error", m.clone()),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found_error", m.clone()),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "invalid_request_error",
                "This method is not allowed on this route.".into(),
            ),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, "conflict_error", m.clone()),
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                "The request body is larger than the limit of 1 MiB.".into(),
            ),
            ApiError::RateLimited { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                format!("Too many requests; try again in {retry_after_secs} seconds."),
            ),
            ApiError::Busy(m) => (StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", m.clone()),
            ApiError::Upstream(m) => (StatusCode::BAD_GATEWAY, "upstream_error", m.clone()),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "The server could not complete the request; nothing was lost, please retry.".into(),
            ),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::BadRequest(m) => ApiError::BadRequest(m),
            ServiceError::NotFound(m) => ApiError::NotFound(m),
            ServiceError::Conflict(m) => ApiError::Conflict(m),
            ServiceError::Upstream(m) => ApiError::Upstream(m),
            ServiceError::Busy(m) => ApiError::Busy(m),
            ServiceError::Store(e) => ApiError::Internal(format!("{e:?}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let (status, kind, message) = self.parts();
        let code = match &self {
            ApiError::RateLimited { .. } => json!("rate_limit_exceeded"),
            ApiError::Busy(_) => json!("too_many_active_runs"),
            _ => json!(null),
        };
        let mut response = (
            status,
            Json(json!({"error": {"message": message, "type": kind, "code": code}})),
        )
            .into_response();
        if matches!(self, ApiError::Unauthorized(_)) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        let retry_after = match self {
            ApiError::RateLimited { retry_after_secs } => Some(retry_after_secs),
            // Answers take seconds: a few seconds is a fair first wait.
            ApiError::Busy(_) => Some(5),
            _ => None,
        };
        if let Some(secs) = retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}
