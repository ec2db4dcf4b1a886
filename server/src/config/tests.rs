use super::*;
use std::collections::HashMap;

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let docs = env!("CARGO_MANIFEST_DIR").to_string() + "/../docs";
    Config::from_lookup(move |k| {
        map.get(k)
            .cloned()
            .or_else(|| (k == "DOCS_DIR").then(|| docs.clone()))
    })
}

#[test]
fn defaults_follow_the_api_table() {
    let c = config(&[]).unwrap();
    assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
    assert_eq!(c.database_url, "sqlite://data/paste-assistant.db");
    assert_eq!(c.run_time_limit, Duration::from_secs(600));
    assert_eq!(c.openai_model, "gpt-4o-mini");
    assert_eq!(c.max_message_chars, 32_000);
    assert!(!c.uses_remote_model());
    // Issue 12's limits.
    assert_eq!(c.max_active_runs_per_addr, 10);
    assert_eq!(c.max_running_runs, 64);
    assert_eq!(c.token_budget_per_addr_per_day, 200_000);
    assert_eq!(c.token_budget_per_day, 0);
    assert_eq!(c.model_context_tokens, 12_000);
    assert_eq!(c.rate_limit_reads_addr_per_min, 1200);
    assert_eq!(c.max_thread_messages, 500);
    assert_eq!(c.header_read_timeout, Some(Duration::from_secs(10)));
    assert_eq!(c.slack_notices_addr_per_min, 10);
    assert!(c.metrics_token.is_none());
    assert!(!c.counts_tokens(), "the offline model costs nothing");
    let remote = config(&[("OPENAI_API_KEY", "sk-1")]).unwrap();
    assert!(remote.counts_tokens());
    let off = config(&[("HEADER_READ_TIMEOUT_SECS", "0")]).unwrap();
    assert_eq!(off.header_read_timeout, None);
}

#[test]
fn http2_to_the_model_is_auto_unless_set() {
    assert_eq!(config(&[]).unwrap().openai_http2, Http2::Auto);
    for (raw, want) in [
        ("off", Http2::Off),
        ("Always", Http2::Always),
        ("auto", Http2::Auto),
    ] {
        let c = config(&[("OPENAI_HTTP2", raw)]).unwrap();
        assert_eq!(c.openai_http2, want, "{raw}");
    }
    let e = config(&[("OPENAI_HTTP2", "yes")]).unwrap_err();
    assert_eq!(e.variable, "OPENAI_HTTP2");
    assert!(e.reason.contains("auto, off or always"), "{}", e.reason);
}

#[test]
fn answer_length_is_1024_tokens_unless_set_and_0_sends_none() {
    assert_eq!(config(&[]).unwrap().max_answer_tokens, Some(1024));
    let c = config(&[("MAX_ANSWER_TOKENS", "64")]).unwrap();
    assert_eq!(c.max_answer_tokens, Some(64));
    let c = config(&[("MAX_ANSWER_TOKENS", "0")]).unwrap();
    assert_eq!(c.max_answer_tokens, None);
    let e = config(&[("MAX_ANSWER_TOKENS", "-1")]).unwrap_err();
    assert_eq!(e.variable, "MAX_ANSWER_TOKENS");
}

#[test]
fn a_bad_value_names_its_variable() {
    let e = config(&[("RUN_TIME_LIMIT_SECS", "soon")]).unwrap_err();
    assert_eq!(e.variable, "RUN_TIME_LIMIT_SECS");
    let e = config(&[("DATABASE_URL", "mysql://x")]).unwrap_err();
    assert_eq!(e.variable, "DATABASE_URL");
    let e = config(&[("DOCS_DIR", "/nonexistent/dir")]).unwrap_err();
    assert_eq!(e.variable, "DOCS_DIR");
    let e = config(&[("LEPTOS_SITE_ADDR", "nowhere")]).unwrap_err();
    assert_eq!(e.variable, "LEPTOS_SITE_ADDR");
    let e = config(&[("OPENAI_BASE_URL", "localhost:11434")]).unwrap_err();
    assert_eq!(e.variable, "OPENAI_BASE_URL");
    let e = config(&[("OPENAI_TIMEOUT_SECS", "0")]).unwrap_err();
    assert_eq!(e.variable, "OPENAI_TIMEOUT_SECS");
    let e = config(&[("REQUEST_TIMEOUT_SECS", "0")]).unwrap_err();
    assert_eq!(e.variable, "REQUEST_TIMEOUT_SECS");
    let e = config(&[("EMBEDDINGS_MODEL", "e5")]).unwrap_err();
    assert_eq!(e.variable, "EMBEDDINGS_MODEL");
    let e = config(&[("ASSISTANT_INSTRUCTIONS", "/nonexistent/file")]).unwrap_err();
    assert_eq!(e.variable, "ASSISTANT_INSTRUCTIONS");
    let e = config(&[("DOCS_BASE_URL", "docs.example.com")]).unwrap_err();
    assert_eq!(e.variable, "DOCS_BASE_URL");
    let e = config(&[("SLACK_BOT_TOKEN", "xoxb-1")]).unwrap_err();
    assert_eq!(e.variable, "SLACK_CHANNEL");
    let e = config(&[("SLACK_CHANNEL", "C1")]).unwrap_err();
    assert_eq!(e.variable, "SLACK_BOT_TOKEN");
    let e = config(&[
        ("SLACK_BOT_TOKEN", "x"),
        ("SLACK_CHANNEL", "C1"),
        ("SLACK_API_URL", "slack"),
    ])
    .unwrap_err();
    assert_eq!(e.variable, "SLACK_API_URL");
    let e = config(&[("TRUST_PROXY", "yes")]).unwrap_err();
    assert_eq!(e.variable, "TRUST_PROXY");
    let e = config(&[("LOG_FORMAT", "xml")]).unwrap_err();
    assert_eq!(e.variable, "LOG_FORMAT");
    let e = config(&[("RUN_LEASE_SECS", "1")]).unwrap_err();
    assert_eq!(e.variable, "RUN_LEASE_SECS");
    let e = config(&[("SESSION_SECRET", "short")]).unwrap_err();
    assert_eq!(e.variable, "SESSION_SECRET");
    for token in ["ADMIN_TOKEN", "METRICS_TOKEN"] {
        let e = config(&[(token, "s3cret-admin")]).unwrap_err();
        assert_eq!(e.variable, token);
        assert!(e.reason.contains("32"), "{}", e.reason);
        assert!(config(&[(token, &"t".repeat(32))]).is_ok());
    }
    for variable in [
        "MAX_ACTIVE_RUNS_PER_ADDR",
        "MAX_RUNNING_RUNS",
        "TOKEN_BUDGET_PER_ADDR_PER_DAY",
        "TOKEN_BUDGET_PER_DAY",
        "MODEL_CONTEXT_TOKENS",
        "RATE_LIMIT_READS_ADDR_PER_MIN",
        "MAX_THREAD_MESSAGES",
        "HEADER_READ_TIMEOUT_SECS",
        "SLACK_NOTICES_ADDR_PER_MIN",
    ] {
        let e = config(&[(variable, "-1")]).unwrap_err();
        assert_eq!(e.variable, variable);
    }
    for bad in [
        "docs.example.com",
        "https://docs.example.com/path",
        "https://a.b; script-src *",
    ] {
        let e = config(&[("WIDGET_ALLOWED_ORIGINS", bad)]).unwrap_err();
        assert_eq!(e.variable, "WIDGET_ALLOWED_ORIGINS", "{bad}");
    }
}

#[test]
fn widget_origins_are_a_list() {
    assert_eq!(config(&[]).unwrap().widget_allowed_origins, None);
    let c = config(&[(
        "WIDGET_ALLOWED_ORIGINS",
        "https://docs.example.com/, http://127.0.0.1:8080 https://*.example.org",
    )])
    .unwrap();
    assert_eq!(
        c.widget_allowed_origins.unwrap(),
        vec![
            "https://docs.example.com",
            "http://127.0.0.1:8080",
            "https://*.example.org"
        ]
    );
}

#[test]
fn names_and_example_questions_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let fine = file("fine.txt", "# ours\nOne?\n\nTwo?\n");
    let c = config(&[("EXAMPLE_QUESTIONS", &fine), ("ASSISTANT_NAME", " Acme ")]).unwrap();
    assert_eq!(c.example_questions, ["One?", "Two?"]);
    assert_eq!(c.assistant_name, "Acme");
    assert!(c.assistant_name_set);
    let many = file("many.txt", &"Q?\n".repeat(7));
    let long = file("long.txt", &"x".repeat(201));
    for (vars, variable) in [
        (
            vec![("EXAMPLE_QUESTIONS", many.as_str())],
            "EXAMPLE_QUESTIONS",
        ),
        (
            vec![("EXAMPLE_QUESTIONS", long.as_str())],
            "EXAMPLE_QUESTIONS",
        ),
        (
            vec![("EXAMPLE_QUESTIONS", "/no/such/file")],
            "EXAMPLE_QUESTIONS",
        ),
        (vec![("ASSISTANT_NAME", "a\nb")], "ASSISTANT_NAME"),
        (vec![("RETENTION_DAYS", "-1")], "RETENTION_DAYS"),
    ] {
        let Err(e) = config(&vars) else {
            panic!("{vars:?} is refused");
        };
        assert_eq!(e.variable, variable, "{vars:?}");
    }
    let defaults = config(&[]).unwrap();
    assert_eq!(defaults.assistant_name, "Paste Assistant");
    assert!(!defaults.assistant_name_set);
    assert_eq!(defaults.retention_days, 0);
    assert_eq!(
        defaults.example_questions.len(),
        3,
        "our own guide, our own examples"
    );
}

#[test]
fn secrets_do_not_print() {
    let c = config(&[
        ("OPENAI_API_KEY", "sk-very-secret"),
        ("SLACK_BOT_TOKEN", "xoxb-very-secret"),
        ("SLACK_CHANNEL", "C123"),
        ("SESSION_SECRET", "session-very-secret-session-very-secret"),
    ])
    .unwrap();
    let printed = format!("{c:?}");
    for secret in ["sk-very-secret", "xoxb-very-secret", "session-very-secret"] {
        assert!(!printed.contains(secret), "{printed}");
    }
    assert_eq!(c.slack.as_ref().unwrap().api_url, "https://slack.com/api");
    assert!(c.uses_remote_model());
}

/// The README's settings table, row by row: (variables, default, meaning).
fn readme_table() -> Vec<(Vec<String>, String, String)> {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Configuration"))
        .expect("the README has a Configuration section");
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l
                .trim()
                .trim_matches('|')
                .split(" | ")
                .map(str::trim)
                .collect();
            assert_eq!(cells.len(), 3, "{l}");
            let names = cells[0]
                .split(", ")
                .map(|n| n.trim_matches('`').to_string())
                .collect();
            (names, cells[1].to_string(), cells[2].to_string())
        })
        .collect()
}

#[test]
fn the_readme_table_is_the_settings_list() {
    let table = readme_table();
    let listed: Vec<(Vec<String>, String, String)> = settings::SETTINGS
        .iter()
        .map(|s| {
            let names = s.names.iter().map(|n| n.to_string()).collect();
            (names, s.default.to_string(), s.meaning.to_string())
        })
        .collect();
    for (row, setting) in table.iter().zip(&listed) {
        assert_eq!(row, setting, "README row against config/settings.rs");
    }
    assert_eq!(
        table.len(),
        listed.len(),
        "rows in the README against settings"
    );
}

#[test]
fn the_server_reads_only_listed_settings_and_every_listed_one() {
    let asked = std::sync::Mutex::new(std::collections::BTreeSet::new());
    let docs = env!("CARGO_MANIFEST_DIR").to_string() + "/../docs";
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), "How do I start?\n").unwrap();
    let guide = file.path().display().to_string();
    // Every optional part on, so every setting is read.
    let vars: HashMap<&str, String> = [
        ("DOCS_DIR", docs),
        ("OPENAI_API_KEY", "sk-test".into()),
        ("EMBEDDINGS_MODEL", "embed".into()),
        ("SLACK_BOT_TOKEN", "xoxb-test".into()),
        ("SLACK_CHANNEL", "C1".into()),
        ("EXAMPLE_QUESTIONS", guide.clone()),
        ("ASSISTANT_INSTRUCTIONS", guide),
    ]
    .into_iter()
    .collect();
    Config::from_lookup(|name| {
        asked.lock().unwrap().insert(name.to_string());
        vars.get(name).cloned()
    })
    .unwrap();
    let asked = asked.into_inner().unwrap();
    let listed: std::collections::BTreeSet<String> = settings::SETTINGS
        .iter()
        .flat_map(|s| s.names.iter().map(|n| n.to_string()))
        .collect();
    let unlisted: Vec<&String> = asked.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "read but not in settings.rs: {unlisted:?}"
    );
    let unread: Vec<&String> = listed
        .difference(&asked)
        .filter(|n| !settings::READ_ELSEWHERE.contains(&n.as_str()))
        .collect();
    assert!(unread.is_empty(), "listed but never read: {unread:?}");
}

#[test]
fn help_lists_every_setting_with_its_default() {
    let help = settings::help();
    assert!(help.starts_with(&format!("Paste Assistant {}", env!("CARGO_PKG_VERSION"))));
    for s in settings::SETTINGS {
        for name in s.names {
            assert!(help.contains(name), "{name}");
        }
        assert!(help.contains(&s.default.replace('`', "")), "{}", s.default);
    }
    assert!(!help.contains('`'), "plain text");
    assert!(
        help.lines()
            .all(|l| l.chars().count() <= 100 || !l.starts_with("    "))
    );
}
