use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::components::sidebar::Sidebar;
use crate::server_fns::get_model_name;

/// Sidebar on the left, the routed page on the right.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let navigate = use_navigate();
    let model = Resource::new(|| (), |_| get_model_name());
    // Tests and people can tell when the page has become interactive.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <div class="app">
            <aside class="sidebar">
                <div class="brand">
                    <span class="brand-mark" aria-hidden="true">"✦"</span>
                    <span>"Paste Assistant"</span>
                </div>
                <button
                    class="new-thread"
                    type="button"
                    on:click=move |_| {
                        navigate("/", Default::default());
                        focus_composer();
                    }
                >
                    "New thread"
                </button>
                <Sidebar />
                <p class="model-name">
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            model.await.ok().map(|name| view! { "Answers by " <strong>{name}</strong> })
                        })}
                    </Suspense>
                </p>
            </aside>
            <main class="main">{children()}</main>
        </div>
    }
}

/// Moves focus to the composer's textbox on the next frame, once a route change has put the new
/// view in the document.
pub fn focus_composer() {
    #[cfg(feature = "hydrate")]
    request_animation_frame(|| {
        use wasm_bindgen::JsCast;
        if let Some(el) = document().get_element_by_id("composer-input") {
            if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        }
    });
}
