//! What every route module uses: axum's router pieces, the JSON types, the extractors and the
//! error object (`use super::prelude::*;`).
pub use axum::{
    Json, Router,
    extract::State,
    routing::{get, post, put},
};
pub use serde::Deserialize;
pub use serde_json::{Value, json};

pub use super::{
    ListParams,
    error::ApiError,
    extract::{Addr, ApiJson, ApiPath, ApiQuery, Bearer, Session},
};
pub use crate::objects;
pub use crate::service::Assistant;

/// A route's answer: a JSON object, or the error object.
pub type JsonResult = Result<Json<Value>, ApiError>;
