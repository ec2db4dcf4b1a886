//! The docs team's side: admin is off without `ADMIN_TOKEN`; with it, a sign-in form sets an
//! HttpOnly cookie for the pages and the JSON API takes the token as a bearer; the overview,
//! questions, not-covered, feedback and pages views and the export show what readers asked,
//! from the database.
use reqwest::{Client, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{Settings, TestApp, body_of, ok_json, spawn_app, spawn_app_with};

const TOKEN: &str = "team-token-team-token-team-token-0001";

async fn admin_app() -> TestApp {
    spawn_app_with(Settings {
        vars: vec![("ADMIN_TOKEN", TOKEN.into())],
    })
    .await
}

/// A browser of the docs team: keeps cookies, does not follow redirects (to see them).
fn team_browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn sign_in(app: &TestApp, browser: &Client, token: &str, next: &str) -> reqwest::Response {
    browser
        .post(app.url("/admin/sign-in"))
        .form(&[("token", token), ("next", next)])
        .send()
        .await
        .unwrap()
}

async fn page(app: &TestApp, browser: &Client, path: &str) -> (StatusCode, String) {
    let r = browser.get(app.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The JSON API with the token as a bearer.
async fn api(app: &TestApp, path: &str) -> reqwest::Response {
    app.get_with(path, "authorization", &format!("Bearer {TOKEN}"))
        .await
}

/// Waits until the admin API lists `n` questions (each is recorded as its run ends).
async fn wait_for_questions(app: &TestApp, n: usize) -> Vec<Value> {
    let listed = || async {
        let body = ok_json(api(app, "/api/admin/questions").await).await;
        body["data"].as_array().unwrap().clone()
    };
    app.wait_until("the questions are recorded", || async {
        listed().await.len() == n
    })
    .await;
    listed().await
}

/// The number the overview shows under `label`, its markup aside.
fn count_shown(html: &str, label: &str) -> String {
    let start = html
        .find(&format!("<dt>{label}</dt><dd>"))
        .unwrap_or_else(|| panic!("no {label} in {html}"));
    let rest = &html[start + label.len() + 13..];
    let cell = &rest[..rest.find("</dd>").unwrap()];
    let mut text = String::new();
    let mut in_tag = false;
    for c in cell.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_is_off_while_no_token_is_set() {
    let app = spawn_app().await;
    let browser = team_browser();
    for path in [
        "/admin",
        "/admin/questions",
        "/admin/feedback",
        "/api/admin/questions",
        "/api/admin/export.csv",
    ] {
        let (status, _) = page(&app, &browser, path).await;
        assert_eq!(status, 404, "{path}");
    }
    let r = sign_in(&app, &browser, "anything", "/admin").await;
    assert_eq!(r.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_team_signs_in_with_the_token_and_out_again() {
    let app = admin_app().await;
    let browser = team_browser();

    // Nothing admin without signing in: the form for pages, 401 for the API.
    for path in ["/admin", "/admin/questions?days=7", "/admin/pages"] {
        let (status, html) = page(&app, &browser, path).await;
        assert_eq!(status, 401, "{path}");
        assert!(html.contains("name=\"token\""), "{path}: the sign-in form");
        assert!(
            !html.contains("Not covered"),
            "{path}: nothing of the team's data"
        );
    }
    let r = app.get("/api/admin/questions").await;
    assert_eq!(r.status(), 401);
    assert_eq!(body_of(r).await["error"]["type"], "authentication_error");
    let r = app
        .client
        .get(app.url("/api/admin/export.csv"))
        .bearer_auth("not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // A wrong token: the form again, saying so, and no cookie.
    let r = sign_in(&app, &browser, "guess", "/admin").await;
    assert_eq!(r.status(), 401);
    assert!(r.headers().get(header::SET_COOKIE).is_none());
    assert!(r.text().await.unwrap().contains("not the admin token"));

    // From another site: refused.
    let r = browser
        .post(app.url("/admin/sign-in"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("token", TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // The token: a session cookie, and on to the page asked for (only ever an admin page).
    let r = sign_in(&app, &browser, TOKEN, "https://evil.example/").await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[header::LOCATION], "/admin");
    let cookie = r.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("pa_admin="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains(TOKEN), "the cookie is not the token");
    let r = sign_in(&app, &browser, TOKEN, "/admin/feedback?days=7").await;
    assert_eq!(r.headers()[header::LOCATION], "/admin/feedback?days=7");
    let (status, html) = page(&app, &browser, "/admin").await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>Overview</h1>"), "{html}");
    // The cookie also opens the export (the page links to it).
    let (status, csv) = page(&app, &browser, "/api/admin/export.csv").await;
    assert_eq!(status, 200);
    assert!(
        csv.starts_with("asked_at,thread_id,question_id,question"),
        "{csv}"
    );

    // Signing out clears it.
    let r = browser
        .post(app.url("/admin/sign-out"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, _) = page(&app, &browser, "/admin").await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_team_sees_what_readers_asked_what_the_docs_miss_and_how_answers_were_rated() {
    let app = admin_app().await;
    let deploy = app.answered("How do I deploy with Postgres?").await;
    let bread = app.answered("How do I bake sourdough bread?").await;
    let hostile = app
        .answered("=HYPERLINK(\"x\") <script>alert(1)</script> sourdough bread?")
        .await;
    // The deploy answer is rated "Not helpful", with a reason and words.
    let list = ok_json(app.list_messages(&deploy, "?order=asc").await).await;
    let answer = list["data"][1]["id"].as_str().unwrap().to_string();
    let rated = app
        .rate(
            &deploy,
            &answer,
            &json!({"rating": "down", "reason": "incomplete", "comment": "No word on pools."}),
        )
        .await;
    assert_eq!(rated.status(), 200);

    // The JSON API: newest first, with the answer, sources, coverage and feedback.
    let listed = wait_for_questions(&app, 3).await;
    let threads: Vec<&str> = listed
        .iter()
        .map(|q| q["thread_id"].as_str().unwrap())
        .collect();
    assert_eq!(threads, [hostile.as_str(), bread.as_str(), deploy.as_str()]);
    let (deploy_q, bread_q) = (&listed[2], &listed[1]);
    assert_eq!(deploy_q["question"], "How do I deploy with Postgres?");
    assert_eq!(deploy_q["status"], "completed");
    assert_eq!(deploy_q["covered"], true, "{deploy_q}");
    assert!(deploy_q["answer"].as_str().unwrap().len() > 20);
    assert!(!deploy_q["sources"].as_array().unwrap().is_empty());
    assert_eq!(
        deploy_q["feedback"],
        json!({"rating": "down", "reason": "incomplete", "comment": "No word on pools."})
    );
    assert_eq!(bread_q["covered"], false, "{bread_q}");
    let why = bread_q["not_covered_because"].as_str().unwrap();
    assert!(why.contains("sourdough"), "{why}");
    assert!(bread_q["feedback"].is_null());
    // Never a session id or an address: these fields and no others.
    let keys: Vec<&str> = deploy_q
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "answer",
            "coverage",
            "covered",
            "created_at",
            "feedback",
            "id",
            "not_covered_because",
            "object",
            "question",
            "sources",
            "status",
            "thread_id"
        ]
    );
    assert!(
        !serde_json::to_string(&listed)
            .unwrap()
            .contains("127.0.0.1")
    );

    // Filters, each optional.
    let ids = |body: Value| -> Vec<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["thread_id"].as_str().unwrap().to_string())
            .collect()
    };
    let get = |query: &'static str| {
        let app = &app;
        async move { ok_json(api(app, &format!("/api/admin/questions{query}")).await).await }
    };
    assert_eq!(
        ids(get("?covered=false").await),
        [hostile.clone(), bread.clone()]
    );
    assert_eq!(ids(get("?covered=true").await), [deploy.as_str()]);
    assert_eq!(ids(get("?rating=down").await), [deploy.as_str()]);
    assert_eq!(
        ids(get("?rating=none").await),
        [hostile.clone(), bread.clone()]
    );
    assert_eq!(ids(get("?q=BAKE%20SOUR").await), [bread.as_str()]);
    assert_eq!(ids(get("?q=100%25").await), Vec::<String>::new());
    assert_eq!(
        ids(get("?from=2000-01-01&to=2000-12-31").await),
        Vec::<String>::new()
    );
    assert_eq!(get("?limit=1").await["has_more"], true);
    for (query, says) in [
        ("?from=yesterday", "`from`"),
        ("?from=2026-02-30", "`from`"),
        ("?from=2026-12-02&to=2026-12-01", "`to`"),
        ("?rating=meh", "`rating`"),
        ("?covered=maybe", "`covered`"),
        ("?limit=0", "`limit`"),
    ] {
        let r = api(&app, &format!("/api/admin/questions{query}")).await;
        assert_eq!(r.status(), 400, "{query}");
        let message = body_of(r).await["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(message.contains(says), "{query}: {message}");
    }

    // The export: the same rows as CSV, formulas defused.
    let r = api(&app, "/api/admin/export.csv?rating=none").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert!(
        r.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"questions-")
    );
    let csv = r.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(
        rows[0][3].starts_with("'=HYPERLINK"),
        "defused: {:?}",
        &rows[0][3]
    );
    assert_eq!(&rows[1][3], "How do I bake sourdough bread?");
    assert_eq!(&rows[1][5], "false");
    assert!(rows[1][0].ends_with('Z'));

    // The pages, signed in.
    let browser = team_browser();
    assert_eq!(sign_in(&app, &browser, TOKEN, "/admin").await.status(), 303);
    let (_, html) = page(&app, &browser, "/admin?days=7").await;
    assert!(html.contains("role=\"img\""), "a chart");
    assert!(html.contains("Questions per day, last 7 days"));
    assert!(html.contains("3 questions from"), "{html}");
    for (label, n) in [
        ("Questions", "3"),
        ("Threads", "3"),
        ("Answered", "3"),
        ("Not covered", "2"),
        ("Failed", "0"),
        ("Helpful", "0"),
        ("Not helpful", "1"),
    ] {
        assert_eq!(count_shown(&html, label), n, "{label}");
    }
    let (_, html) = page(&app, &browser, "/admin/questions?q=sourdough").await;
    assert!(html.contains("How do I bake sourdough bread?"));
    assert!(!html.contains("deploy with Postgres"));
    let (_, html) = page(&app, &browser, "/admin/questions").await;
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "escaped"
    );
    assert!(!html.contains("<script>alert(1)"), "never markup");
    let (_, html) = page(&app, &browser, "/admin/not-covered").await;
    assert!(html.contains("How do I bake sourdough bread?") && html.contains("sourdough"));
    assert!(!html.contains("deploy with Postgres"));
    assert!(html.contains("The rule:"));
    let (_, html) = page(&app, &browser, "/admin/feedback").await;
    assert!(html.contains("How do I deploy with Postgres?"));
    assert!(html.contains("Not helpful (Incomplete)"));
    assert!(html.contains("No word on pools."));
    let (_, html) = page(&app, &browser, "/admin/pages").await;
    assert!(html.contains("Cited by answers") && html.contains("Never cited"));
    let (status, html) = page(&app, &browser, &format!("/admin/threads/{deploy}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("How do I deploy with Postgres?"));
    assert!(html.contains("get_relevant_docs"), "the tool calls");
    assert!(html.contains("Rated: Not helpful"));
    let (status, _) = page(&app, &browser, "/admin/threads/thread_missing000000").await;
    assert_eq!(status, 404);
    let (status, _) = page(&app, &browser, "/admin/threads/bad'id").await;
    assert_eq!(status, 400);

    // A deleted thread leaves the team's views with its questions.
    ok_json(app.delete_thread(&bread).await).await;
    let left = ok_json(api(&app, "/api/admin/questions").await).await;
    assert_eq!(ids(left), [hostile.as_str(), deploy.as_str()]);
}
