//! The server's settings the pages show (`Site`: the assistant's name, the model, the example
//! questions, the retention), fetched once per page load by a resource every component shares.
use leptos::prelude::*;

use crate::api::{AppError, Site, WireJson};
use crate::server_fns::get_site;

/// The name shown until the site's settings are in (and if they cannot be had).
pub const DEFAULT_NAME: &str = "Paste Assistant";

#[derive(Clone, Copy)]
pub struct SiteInfo(pub Resource<Result<Site, AppError>, WireJson>);

/// Starts loading the settings, for [`use_site`] anywhere below.
pub fn provide_site() {
    provide_context(SiteInfo(super::resource(|| (), |_| get_site())));
}

pub fn use_site() -> Resource<Result<Site, AppError>, WireJson> {
    expect_context::<SiteInfo>().0
}

/// The assistant's name, as soon as it is known. In an element of its own: as a bare text
/// node beside other text, the browser would merge the two and hydration would not find it.
#[component]
pub fn SiteName() -> impl IntoView {
    let site = use_site();
    view! {
        <span class="site-name">
            <Suspense fallback=|| DEFAULT_NAME>
                {move || Suspend::new(async move {
                    site.await.map(|s| s.name).unwrap_or_else(|_| DEFAULT_NAME.to_string())
                })}
            </Suspense>
        </span>
    }
}

/// How long conversations are kept, above the composer.
#[component]
pub fn RetentionNotice() -> impl IntoView {
    let site = use_site();
    view! {
        <p class="retention">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move { site.await.ok().map(|s| s.retention_notice()) })}
            </Suspense>
        </p>
    }
}
