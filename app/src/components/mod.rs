//! Components shared by the pages.
pub mod composer;
pub mod conversation;
pub mod dom;
pub mod follower;
pub mod layout;
pub mod live;
pub mod rating;
pub mod sidebar;
pub mod site;
pub mod state;

use leptos::prelude::*;

use crate::api::WireJson;

/// A resource whose server-rendered value reaches the browser as [`WireJson`], decoded by the
/// same deserializer as the server functions' answers.
pub fn resource<S, T, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, WireJson>
where
    S: Send + Sync + Clone + PartialEq + 'static,
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}
