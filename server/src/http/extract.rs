//! Extractors whose rejections are API.md error objects.
use axum::{
    body::Bytes,
    extract::{
        FromRequest, FromRequestParts, Path, Request,
        path::ErrorKind as PathErrorKind,
        rejection::{BytesRejection, PathRejection},
    },
    http::{StatusCode, header, request::Parts},
};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use app::service::{ClientAddr, SessionId};

/// A JSON body; an empty body reads as `{}`. Content type is not required.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e: BytesRejection| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::BadRequest(format!(
                        "could not read the request body: {}",
                        e.body_text()
                    ))
                }
            })?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        let mut body = serde_json::Deserializer::from_slice(text);
        serde_path_to_error::deserialize(&mut body)
            .map(ApiJson)
            .map_err(|e| {
                let path = e.path().to_string();
                let at = if path == "." {
                    String::new()
                } else {
                    format!(" (at `{path}`)")
                };
                ApiError::BadRequest(format!(
                    "the request body is not valid JSON for this route{at}: {}",
                    e.inner()
                ))
            })
    }
}

/// Query parameters.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded_from(query)
            .map(ApiQuery)
            .map_err(|e| ApiError::BadRequest(format!("invalid query parameters: {e}")))
    }
}

fn serde_urlencoded_from<T: DeserializeOwned>(query: &str) -> Result<T, String> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("http://x/?{query}")
            .parse()
            .map_err(|e| format!("{e}"))?,
    )
    .map(|q| q.0)
    .map_err(|e| e.body_text())
}

/// The caller's session (put there by the session middleware).
pub struct Session(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<SessionId>()
            .map(|s| Session(s.0.clone()))
            .ok_or_else(|| ApiError::Internal("session middleware missing".into()))
    }
}

/// The caller's address group (put there by the session middleware), when known.
pub struct Addr(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Addr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Addr(
            parts
                .extensions
                .get::<ClientAddr>()
                .and_then(|a| a.0.clone()),
        ))
    }
}

/// Path parameters, typed: ids (`ThreadId`, `RunId`) are parsed here, once, and a malformed
/// one answers 400 with the id's own message.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => match e.into_kind() {
                PathErrorKind::Message(message) => Err(ApiError::BadRequest(message)),
                other => Err(ApiError::BadRequest(format!("invalid path: {other}"))),
            },
            Err(other) => Err(ApiError::BadRequest(other.body_text())),
        }
    }
}

/// The token of `Authorization: Bearer <token>`, when one is sent.
pub struct Bearer(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Bearer(
            parts
                .headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(|t| t.trim().to_string()),
        ))
    }
}
