//! Small browser-only actions. Each is a no-op on the server, where effects and event handlers
//! never run, so callers need no `cfg`.
#[cfg(feature = "hydrate")]
use leptos::prelude::*;
#[cfg(feature = "hydrate")]
use wasm_bindgen::JsCast;

/// Focuses the element with `id` on the next frame (after a route change or a re-render has
/// put it in the document); `select` also selects an input's text.
pub fn focus_by_id(id: impl Into<String>, select: bool) {
    let id: String = id.into();
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        let Some(el) = document().get_element_by_id(&id) else {
            return;
        };
        if let Ok(el) = el.clone().dyn_into::<web_sys::HtmlElement>() {
            let _ = el.focus();
        }
        if select && let Ok(input) = el.dyn_into::<web_sys::HtmlInputElement>() {
            input.select();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, select);
}

/// Scrolls the element matching `selector` to its end on the next frame.
pub fn scroll_to_end(selector: &'static str) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        if let Some(el) = document().query_selector(selector).ok().flatten() {
            el.set_scroll_top(el.scroll_height());
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = selector;
}

/// Whether a scrolled element shows its end (within a few pixels).
#[cfg(feature = "hydrate")]
pub fn is_at_end(el: &web_sys::Element) -> bool {
    el.scroll_height() - el.scroll_top() - el.client_height() < 48
}

/// The text of the element with `id` (an answer to announce).
pub fn text_of(id: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let text = document().get_element_by_id(id)?.text_content()?;
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        (!text.is_empty()).then_some(text)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = id;
        None
    }
}

/// A click on a code block's "Copy" button copies the block's code; the button says how it
/// went for two seconds. Other clicks are ignored.
#[cfg(feature = "hydrate")]
pub fn copy_code_on_click(ev: &web_sys::MouseEvent) {
    let Some(el) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return;
    };
    let Some(button) = el.closest(".copy-code").ok().flatten() else {
        return;
    };
    let Some(code) = button
        .closest(".code-block")
        .ok()
        .flatten()
        .and_then(|block| block.query_selector("pre").ok().flatten())
    else {
        return;
    };
    let text = code.text_content().unwrap_or_default();
    let promise = window().navigator().clipboard().write_text(&text);
    leptos::task::spawn_local(async move {
        let copied = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
        button.set_text_content(Some(if copied { "Copied" } else { "Copy failed" }));
        gloo_timers::future::TimeoutFuture::new(2000).await;
        button.set_text_content(Some("Copy"));
    });
}

/// Unix seconds as a date in the person's locale ("26 Nov 2026", "26.11.2026").
pub fn locale_date(unix_secs: i64) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_secs as f64 * 1000.0));
        let options = js_sys::Object::new();
        js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into()).ok()?;
        let locale = window()
            .navigator()
            .language()
            .unwrap_or_else(|| "en".into());
        Some(date.to_locale_date_string(&locale, &options).into())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = unix_secs;
        None
    }
}

/// This browser's saved value for `key` (the widget's last thread).
pub fn load(key: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        window().local_storage().ok()??.get_item(key).ok()?
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = key;
        None
    }
}

/// Saves (or with `None` forgets) a value in this browser.
pub fn save(key: &str, value: Option<&str>) {
    #[cfg(feature = "hydrate")]
    if let Ok(Some(storage)) = window().local_storage() {
        let _ = match value {
            Some(v) => storage.set_item(key, v),
            None => storage.remove_item(key),
        };
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (key, value);
}

/// Tells the page embedding the widget to close it (Escape inside the iframe).
pub fn ask_parent_to_close() {
    #[cfg(feature = "hydrate")]
    if let Ok(Some(parent)) = window().parent() {
        let message = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&message, &"type".into(), &"paste-assistant:close".into());
        let _ = parent.post_message(&message, "*");
    }
}

/// Deletes a thread through the REST API with a request that outlives the page (a deletion
/// still waiting for its undo time when the person closes or reloads the tab).
pub fn delete_thread_keepalive(id: &str) {
    #[cfg(feature = "hydrate")]
    {
        let init = web_sys::RequestInit::new();
        init.set_method("DELETE");
        // `keepalive` is not in web-sys' stable API; it is a plain property of the init object.
        let _ = js_sys::Reflect::set(&init, &"keepalive".into(), &true.into());
        init.set_credentials(web_sys::RequestCredentials::SameOrigin);
        let _ =
            window().fetch_with_str_and_init(&format!("/api/paste-assistant-thread/{id}"), &init);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}
