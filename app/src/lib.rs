//! The Leptos application: pages, components, server functions and the wire types they share.
#![recursion_limit = "256"]

/// Wire types exchanged between the browser and the server functions.
pub mod api;
/// Server functions: thin calls into the service.
pub mod server_fns;
/// The ssr-only service trait that the `server` crate implements.
#[cfg(feature = "ssr")]
pub mod service;
/// Small pure helpers shared by SSR and the browser (dates).
pub mod util;

mod components;
mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, provide_meta_context};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path,
};

use components::{layout::Layout, state::ChatState};
use pages::{embed::EmbedPage, home::HomePage, thread::ThreadPage};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The page title is the assistant's name: fixed per server, so it is written here once,
    // on the server, rather than waited for in the page.
    #[cfg(feature = "ssr")]
    let name = use_context::<service::SharedService>()
        .map(|s| s.site().name)
        .unwrap_or_else(|| components::site::DEFAULT_NAME.to_string());
    #[cfg(not(feature = "ssr"))]
    let name = components::site::DEFAULT_NAME.to_string();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                // As the element's whole text: a text node of its own would carry a hydration
                // marker (`<!>`), which a title shows as it is.
                <title inner_html=api::escape_html(&name)></title>
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: shared chat state, the full-page layout with its two routes, and the
/// widget's compact `/embed` page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(ChatState::new());
    components::site::provide_site();
    // Tests and people can tell when the page has become interactive.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/paste-assistant.css" />
        <Router>
            <Routes fallback=|| view! { <p class="not-found">"Page not found."</p> }>
                <Route path=path!("/embed") view=EmbedPage />
                <ParentRoute path=path!("") view=Layout>
                    <Route path=path!("") view=HomePage />
                    <Route path=path!("t/:id") view=ThreadPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
