use leptos::{ev, prelude::*};
use leptos_router::{components::Outlet, hooks::use_navigate};

use crate::components::site::{SiteName, use_site};
use crate::components::{
    dom,
    sidebar::Sidebar,
    state::{Announcer, use_chat_state},
};

/// The keyboard shortcut for a new thread, as `aria-keyshortcuts` writes it.
pub const NEW_THREAD_SHORTCUT: &str = "Control+Shift+O";

/// The full-page app: the sidebar (a drawer on narrow screens) and the routed page.
#[component]
pub fn Layout() -> impl IntoView {
    let state = use_chat_state();
    let navigate = use_navigate();
    let site = use_site();
    let drawer = state.drawer_open;

    let new_thread = {
        let navigate = navigate.clone();
        move || {
            drawer.set(false);
            navigate("/", Default::default());
            focus_composer();
        }
    };
    // Ctrl+Shift+O (⌘⇧O on a Mac) starts a new thread from anywhere; Escape closes the drawer.
    let shortcut = new_thread.clone();
    let handle = window_event_listener(ev::keydown, move |ev| {
        if (ev.ctrl_key() || ev.meta_key()) && ev.shift_key() && ev.key().eq_ignore_ascii_case("o")
        {
            ev.prevent_default();
            shortcut();
        } else if ev.key() == "Escape" && drawer.get_untracked() {
            drawer.set(false);
            dom::focus_by_id("open-threads", false);
        }
    });
    // A deletion still waiting out its undo time happens when the page goes away.
    let pending = state.pending_delete;
    let leaving = window_event_listener(ev::pagehide, move |_| {
        if let Some(p) = pending.get_untracked() {
            dom::delete_thread_keepalive(&p.id);
        }
    });
    on_cleanup(move || {
        handle.remove();
        leaving.remove();
    });
    let toggle_drawer = move |_| {
        let open = !drawer.get_untracked();
        drawer.set(open);
        if open {
            dom::focus_by_id("new-thread", false);
        }
    };

    view! {
        <div class="app" class:drawer-open=move || drawer.get()>
            <aside id="sidebar" class="sidebar" aria-label="Threads and settings">
                <div class="brand">
                    <span class="brand-mark" aria-hidden="true">
                        "✦"
                    </span>
                    <SiteName />
                </div>
                <button
                    id="new-thread"
                    class="new-thread"
                    type="button"
                    aria-keyshortcuts=NEW_THREAD_SHORTCUT
                    title="New thread (Ctrl+Shift+O)"
                    on:click={
                        let new_thread = new_thread.clone();
                        move |_| new_thread()
                    }
                >
                    "New thread"
                </button>
                <Sidebar />
                <p class="model-name">
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            site
                                .await
                                .ok()
                                .map(|s| view! { "Answers by " <strong>{s.model}</strong> })
                        })}
                    </Suspense>
                </p>
            </aside>
            <div class="backdrop" aria-hidden="true" on:click=move |_| drawer.set(false)></div>
            <main class="main">
                <header class="topbar">
                    <button
                        id="open-threads"
                        type="button"
                        class="menu"
                        aria-controls="sidebar"
                        aria-expanded=move || if drawer.get() { "true" } else { "false" }
                        on:click=toggle_drawer
                    >
                        <span aria-hidden="true">"☰"</span>
                        " Threads"
                    </button>
                    <span class="topbar-title">
                        <SiteName />
                    </span>
                </header>
                <Outlet />
            </main>
            <UndoToast />
            <Announcer />
        </div>
    }
}

/// "Thread deleted. Undo" while a deletion can still be taken back.
#[component]
fn UndoToast() -> impl IntoView {
    let state = use_chat_state();
    view! {
        <div class="toast-area" role="status">
            {move || {
                state
                    .pending_delete
                    .get()
                    .map(|p| {
                        view! {
                            <div class="toast">
                                <span>"Deleted “" {p.title} "”."</span>
                                <button
                                    type="button"
                                    on:click=move |_| {
                                        state.undo_delete();
                                        state.threads_changed();
                                    }
                                >
                                    "Undo"
                                </button>
                            </div>
                        }
                    })
            }}
        </div>
    }
}

/// Moves focus to the composer's textbox on the next frame, once a route change has put the new
/// view in the document.
pub fn focus_composer() {
    dom::focus_by_id("composer-input", false);
}
