//! The answer while it is written: the run's event stream (`…/events?render=html`) in the
//! browser's own `EventSource`, whose `thread.message.html` events carry the answer so far as
//! safe HTML made on the server (so the WASM has no Markdown parser). It only adds to the
//! 1-second poll, which still decides when the run is over: a stream that cannot open, or
//! drops, changes nothing but how soon the words show.
use leptos::prelude::*;

use crate::components::follower::{Phase, RunRef};

/// Follows the stream of the run `phase` follows, into `html`; closes it when the phase moves
/// on (the HTML stays until the view shows the stored answer and clears it).
pub fn stream_answers(phase: RwSignal<Phase>, html: RwSignal<Option<String>>) {
    #[cfg(feature = "hydrate")]
    {
        let open: StoredValue<Option<browser::Stream>, LocalStorage> = StoredValue::new_local(None);
        Effect::new(move |_| {
            let run = phase.with(|p| p.run().cloned());
            let same = open.with_value(|o| o.as_ref().and_then(|s| s.run.clone()) == run);
            if same {
                return;
            }
            // Dropping the old one closes it.
            open.set_value(run.and_then(|run| browser::Stream::open(run, html)));
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (phase, html, |_: RunRef| ());
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use wasm_bindgen::{JsCast, closure::Closure};

    use super::RunRef;

    pub struct Stream {
        pub run: Option<RunRef>,
        source: web_sys::EventSource,
        _on_html: Closure<dyn FnMut(web_sys::MessageEvent)>,
        _on_done: Closure<dyn FnMut(web_sys::MessageEvent)>,
    }

    impl Stream {
        pub fn open(run: RunRef, html: RwSignal<Option<String>>) -> Option<Self> {
            let url = format!(
                "/api/paste-assistant-thread/{}/run/{}/events?render=html",
                run.thread, run.run
            );
            let source = web_sys::EventSource::new(&url).ok()?;
            let on_html = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |event: web_sys::MessageEvent| {
                    let text = event.data().as_string().unwrap_or_default();
                    let value = js_sys::JSON::parse(&text).ok();
                    let got = value
                        .and_then(|v| js_sys::Reflect::get(&v, &"html".into()).ok())
                        .and_then(|h| h.as_string());
                    if let Some(got) = got {
                        let _ = html.try_set(Some(got));
                    }
                },
            );
            let _ = source.add_event_listener_with_callback(
                "thread.message.html",
                on_html.as_ref().unchecked_ref(),
            );
            // At the end (or when the browser gives up reconnecting) the stream is closed;
            // the poll finishes the run either way.
            let closer = source.clone();
            let on_done = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |_event: web_sys::MessageEvent| closer.close(),
            );
            let _ =
                source.add_event_listener_with_callback("done", on_done.as_ref().unchecked_ref());
            Some(Self {
                run: Some(run),
                source,
                _on_html: on_html,
                _on_done: on_done,
            })
        }
    }

    impl Drop for Stream {
        fn drop(&mut self) {
            self.source.close();
        }
    }
}
