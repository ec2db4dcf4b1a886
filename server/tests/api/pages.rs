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

/// A team's docs get the team's name and examples, never questions about this project; and
/// with a team's `DOCS_DIR` but no `EXAMPLE_QUESTIONS`, no examples rather than wrong ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_name_and_example_questions_are_the_teams() {
    let dir = tempfile::tempdir().unwrap();
    let examples = dir.path().join("examples.txt");
    std::fs::write(
        &examples,
        "# Shown on the empty state\nHow do I theme a Button?\n\nWhere are the design tokens?\n",
    )
    .unwrap();
    let app = crate::helpers::spawn_app_with(crate::helpers::Settings {
        vars: vec![
            ("ASSISTANT_NAME", "Acme Docs Helper".into()),
            ("EXAMPLE_QUESTIONS", examples.display().to_string()),
        ],
    })
    .await;
    let page = app.get("/").await.text().await.unwrap();
    assert!(
        page.contains("<title>Acme Docs Helper</title>"),
        "the page title"
    );
    assert!(
        page.matches("Acme Docs Helper").count() >= 3,
        "the name in the sidebar, the top bar and the empty state"
    );
    assert!(page.contains("How do I theme a Button?"));
    assert!(page.contains("Where are the design tokens?"));
    assert!(
        !page.contains("Shown on the empty state"),
        "comments are not questions"
    );
    assert!(
        !page.contains("set up Paste Assistant"),
        "no examples about us"
    );

    let docs = tempfile::tempdir().unwrap();
    std::fs::write(docs.path().join("a.md"), "# Acme\n\nAcme's own docs.\n").unwrap();
    let theirs = crate::helpers::spawn_app_with(crate::helpers::Settings {
        vars: vec![("DOCS_DIR", docs.path().display().to_string())],
    })
    .await;
    let page = theirs.get("/").await.text().await.unwrap();
    assert!(page.contains("Ask the docs"), "the empty state is there");
    assert!(
        !page.contains("Example questions"),
        "no examples for a team's docs"
    );

    let ours = crate::helpers::spawn_app().await;
    let page = ours.get("/").await.text().await.unwrap();
    assert!(page.contains("How do I set up Paste Assistant on my machine?"));
}
