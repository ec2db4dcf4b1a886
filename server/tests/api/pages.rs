use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_is_server_rendered_with_a_session_cookie() {
    let app = spawn_app().await;
    let r = app.get("/").await;
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("pa_session="));
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    let html = r.text().await.unwrap();
    assert!(html.contains("New thread"));
    assert!(html.contains("aria-label=\"Conversation\""));
    assert!(html.contains("role=\"log\" aria-label=\"Answers\""));
    assert!(html.contains("aria-label=\"Message\""));
    assert!(html.contains("Ask the docs"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_page_renders_its_conversation_and_the_sidebar_lists_it() {
    let app = spawn_app().await;
    let (tid, _) = app.ask("How do I use <Postgres> & SQLite?").await;
    let html = app.get(&format!("/t/{tid}")).await.text().await.unwrap();
    assert!(
        html.contains("How do I use &lt;Postgres&gt; &amp; SQLite?"),
        "the question is escaped"
    );
    assert!(html.contains("Here is what the docs say"));
    assert!(html.contains(&format!("/t/{tid}")));
    assert!(html.contains("Delete thread"));
    // Another session sees neither.
    let other = app.other_session();
    let html = other.get(&format!("/t/{tid}")).await.text().await.unwrap();
    assert!(!html.contains("Here is what the docs say"));
    assert!(html.contains("does not exist"));
    let _: Option<Value> = None;
}
