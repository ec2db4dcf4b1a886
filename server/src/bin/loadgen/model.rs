//! The fake OpenAI-compatible model: a set latency, then so many tokens at a set rate.
use std::time::Duration;

use axum::{Json, Router, response::IntoResponse, routing::post};
use serde_json::{Value, json};

#[derive(Clone, Copy)]
pub struct Model {
    pub latency: Duration,
    pub token: Duration,
    pub tokens: usize,
}

impl Model {
    /// How long the model itself takes for one answer.
    pub fn time(&self) -> Duration {
        self.latency + self.token * self.tokens as u32
    }
}

/// The fake model: after `latency`, `tokens` words `token` apart (streamed when asked).
pub async fn fake_model(model: Model) -> String {
    let app = Router::new().route(
        "/v1/chat/completions",
        post(move |Json(request): Json<Value>| async move {
            tokio::time::sleep(model.latency).await;
            if request["stream"] != true {
                let text = "word ".repeat(model.tokens);
                return Json(json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]})).into_response();
            }
            let stream = futures_util::stream::unfold(0usize, move |i| async move {
                if i > model.tokens {
                    return None;
                }
                let line = if i == model.tokens {
                    "data: [DONE]\n\n".to_string()
                } else {
                    tokio::time::sleep(model.token).await;
                    let chunk = json!({"choices": [{"index": 0, "delta": {"content": "word "}, "finish_reason": null}]});
                    format!("data: {chunk}\n\n")
                };
                Some((Ok::<_, std::convert::Infallible>(line), i + 1))
            });
            (
                [("content-type", "text/event-stream")],
                axum::body::Body::from_stream(stream),
            )
                .into_response()
        }),
    );
    let root = server::startup::serve_local(app)
        .await
        .expect("the fake model listens on a free port");
    format!("{root}/v1")
}
