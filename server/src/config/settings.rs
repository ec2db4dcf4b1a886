//! Every setting with its default and what it does: the one list `paste-assistant --help`
//! prints, `Config` may read (a test holds it to that) and the README's table must match (a
//! test compares them). Written as the README writes them (Markdown), so the two read alike.

/// One row of the settings table: variables that go together, their default, their meaning.
pub struct Setting {
    pub names: &'static [&'static str],
    pub default: &'static str,
    pub meaning: &'static str,
}

pub const SETTINGS: &[Setting] = &[
    Setting {
        names: &["LEPTOS_SITE_ADDR"],
        default: "`127.0.0.1:3000`",
        meaning: "listen address",
    },
    Setting {
        names: &["LEPTOS_SITE_ROOT"],
        default: "`target/site`; unset in the release archive: the site inside the executable",
        meaning: "where the built JS/WASM/CSS are (Leptos's own variable); set, the archive's executable serves them from there too",
    },
    Setting {
        names: &["DATABASE_URL"],
        default: "`sqlite://data/paste-assistant.db`",
        meaning: "`sqlite://…` (file and folder created) or `postgres://…`",
    },
    Setting {
        names: &["DOCS_DIR"],
        default: "`docs`",
        meaning: "Markdown/MDX folder that `get_relevant_docs` searches, indexed at start and again when it changes; unset with no `docs/` where the release archive's executable runs, it answers from its own guide (written to `data/guide` at each start)",
    },
    Setting {
        names: &["DOCS_SITE_URL"],
        default: "unset",
        meaning: "published docs sites to crawl, comma-separated (`https://docs.example.com/`): the pages under each URL's path, from its sitemaps (robots.txt's, else `/sitemap.xml`; indexes and gzip too) or else by following its links; robots.txt obeyed (`User-Agent: paste-assistant/<version>`), at most 4 requests at a time; answers link to the live pages with their headings' anchors. Kept in the database: a restart searches at once, and of several instances one crawls. With `DOCS_DIR` both are searched; without it only the sites",
    },
    Setting {
        names: &["DOCS_CRAWL_HOURS"],
        default: "`24`",
        meaning: "hours between crawls of each site (conditional: an unchanged page costs a 304; a page gone from the site leaves the index); `POST /api/docs-reindex` crawls now",
    },
    Setting {
        names: &["DOCS_CRAWL_RATE"],
        default: "`4`",
        meaning: "requests a second to each site (at most 100; a slower robots.txt `Crawl-delay` wins)",
    },
    Setting {
        names: &["DOCS_CRAWL_MAX_PAGES"],
        default: "`5000`",
        meaning: "most pages read from one site per crawl (a link loop or a huge site stops here, with a warning)",
    },
    Setting {
        names: &["DOCS_CRAWL_TIMEOUT_SECS"],
        default: "`20`",
        meaning: "longest wait for one page of a site (it is logged, shown to the docs team and tried again next crawl)",
    },
    Setting {
        names: &["DOCS_WATCH_SECS"],
        default: "`2`",
        meaning: "how often `DOCS_DIR` is checked for added, removed or changed pages (path, size, mtime), and the sites for a crawl that is due or that another instance finished; a change re-indexes in the background while the old index keeps answering (0 = off; sites are then checked every 60 s)",
    },
    Setting {
        names: &["ADMIN_TOKEN"],
        default: "unset",
        meaning: "the docs team's token (32+ characters, else the server does not start; compared in constant time): signs in to the admin pages at `/admin` (an HttpOnly `SameSite=Strict` cookie signed with the token, 12 h) and is the bearer of `/api/admin/questions`, `/api/admin/export.csv` and `POST /api/docs-reindex`; unset: the admin pages and API are 404, re-indexing 403",
    },
    Setting {
        names: &["ASSISTANT_NAME"],
        default: "`Paste Assistant`",
        meaning: "1–60 characters: the name in the page title, the sidebar, the top bar, the empty state and (when set) the widget's default title",
    },
    Setting {
        names: &["EXAMPLE_QUESTIONS"],
        default: "unset",
        meaning: "a file of the empty state's example questions, one a line (at most 6 of 200 characters; blank and `#` lines skipped); unset with this project's own `docs/`: its three examples; unset with another `DOCS_DIR`: none",
    },
    Setting {
        names: &["RETENTION_DAYS"],
        default: "`0` (keep)",
        meaning: "threads with no new message for this many days are deleted with their messages, runs, steps, ratings and admin records, at start and then hourly (safe on several instances); the notice above the composer says so",
    },
    Setting {
        names: &["METRICS_TOKEN"],
        default: "unset (open)",
        meaning: "32+ characters: `/metrics` then wants `Authorization: Bearer <token>` (401 otherwise)",
    },
    Setting {
        names: &["EMBEDDINGS_MODEL"],
        default: "unset",
        meaning: "model of the OpenAI-compatible `/embeddings` endpoint at `OPENAI_BASE_URL` (with `OPENAI_API_KEY`): hybrid docs search, BM25 fused with embeddings by reciprocal rank; needs `OPENAI_BASE_URL` or `OPENAI_API_KEY`",
    },
    Setting {
        names: &["EMBEDDINGS_CACHE_DIR"],
        default: "`data/embeddings`",
        meaning: "section vectors, one file per model, keyed by a checksum of model and text: a restart or re-index embeds only what changed",
    },
    Setting {
        names: &["DOCS_BASE_URL"],
        default: "unset",
        meaning: "published docs site that answers link to; unset: the app serves pages at `/docs/…`",
    },
    Setting {
        names: &["SESSION_SECRET"],
        default: "random at start (warned)",
        meaning: "32+ characters; signs session cookies; set it for restarts and several instances",
    },
    Setting {
        names: &["RUN_TIME_LIMIT_SECS"],
        default: "`600`",
        meaning: "a run not terminal by then ends `expired`",
    },
    Setting {
        names: &["RUN_LEASE_SECS"],
        default: "`30`",
        meaning: "(3 or more) how long a run stays claimed by the instance executing it without a heartbeat; with several instances on Postgres, another one takes over a dead instance's runs after this",
    },
    Setting {
        names: &["MAX_MESSAGE_CHARS"],
        default: "`32000`",
        meaning: "longest message",
    },
    Setting {
        names: &["MAX_TOOL_ROUNDS"],
        default: "`8`",
        meaning: "model rounds per run; the last offers no tools, so the model answers from what it has (the run fails only if it still calls tools)",
    },
    Setting {
        names: &["MAX_ANSWER_TOKENS"],
        default: "`1024`",
        meaning: "`max_tokens` of answer requests, so a small model that rambles ends in seconds (0 = not sent; titles keep their own cap)",
    },
    Setting {
        names: &["REQUEST_TIMEOUT_SECS"],
        default: "`120`",
        meaning: "longest time to answer one HTTP request (until its headers): beyond, 504 with code `request_timeout`",
    },
    Setting {
        names: &["RATE_LIMIT_SESSION_PER_MIN"],
        default: "`120`",
        meaning: "state-changing requests per session per minute (0 = off): the whole allowance at once, then one more every 60/N s (GCRA); beyond: 429 + `Retry-After`",
    },
    Setting {
        names: &["RATE_LIMIT_ADDR_PER_MIN"],
        default: "`600`",
        meaning: "the same per client address",
    },
    Setting {
        names: &["MAX_ACTIVE_RUNS_PER_SESSION"],
        default: "`3`",
        meaning: "answers in progress at once per browser session, over all its threads (0 = no cap); beyond: 429, `Retry-After: 5`, code `too_many_active_runs`, nothing stored",
    },
    Setting {
        names: &["MAX_ACTIVE_RUNS_PER_ADDR"],
        default: "`10`",
        meaning: "the same per client address over all its sessions, so a new cookie does not reset it (IPv6 grouped by /64; 0 = off)",
    },
    Setting {
        names: &["MAX_RUNNING_RUNS"],
        default: "`64`",
        meaning: "runs one instance executes at once; more wait `queued` and start oldest first as others end, on whichever instance has room (0 = no ceiling)",
    },
    Setting {
        names: &["TOKEN_BUDGET_PER_ADDR_PER_DAY"],
        default: "`200000`",
        meaning: "model tokens (as the upstream reports them, else estimated at 4 characters a token) per client address per UTC day, counted in the database for all instances; past it a new message or simple completion gets 429, code `budget_exhausted`, `Retry-After` until midnight UTC, nothing stored (0 = off; the offline model spends nothing)",
    },
    Setting {
        names: &["TOKEN_BUDGET_PER_DAY"],
        default: "`0` (off)",
        meaning: "the same for everyone together",
    },
    Setting {
        names: &["MODEL_CONTEXT_TOKENS"],
        default: "`12000`",
        meaning: "longest history sent to the model (estimated tokens, tool outputs counted): oldest messages go first, then earlier tool rounds of the run; the instructions and the newest question always stay (0 = no limit)",
    },
    Setting {
        names: &["MAX_THREAD_MESSAGES"],
        default: "`500`",
        meaning: "questions and answers one thread holds; beyond, 400 asking the person to start a new thread (0 = no cap)",
    },
    Setting {
        names: &["RATE_LIMIT_READS_ADDR_PER_MIN"],
        default: "`1200`",
        meaning: "GET/HEAD requests per client address per minute (GCRA, 429 + `Retry-After`); the built assets under `/pkg/` and `/healthz`, `/readyz`, `/metrics` are not counted (0 = off)",
    },
    Setting {
        names: &["HEADER_READ_TIMEOUT_SECS"],
        default: "`10`",
        meaning: "a connection must send its request headers within this, and an idle kept-alive connection is closed after it: slow or stalled clients hold a socket no longer (0 = off)",
    },
    Setting {
        names: &["SLACK_NOTICES_ADDR_PER_MIN"],
        default: "`10`",
        meaning: "Slack notices caused per client address per minute; past it they are dropped (logged), so a flood of threads cannot flood the channel (0 = no cap)",
    },
    Setting {
        names: &["TRUST_PROXY"],
        default: "`false`",
        meaning: "`true` behind a reverse proxy: the client address (rate limits, budgets) is the last `X-Forwarded-For` entry, `X-Forwarded-Proto: https` makes the session cookies `Secure` with the `__Host-` prefix, and `X-Forwarded-Host` is the host a state-changing request's `Origin` must match; never set it when clients reach the server directly",
    },
    Setting {
        names: &["OPENAI_API_KEY"],
        default: "unset",
        meaning: "key of an OpenAI-compatible chat completions API; with it or `OPENAI_BASE_URL`, runs use that model, else the offline model",
    },
    Setting {
        names: &["OPENAI_BASE_URL"],
        default: "`https://api.openai.com/v1`",
        meaning: "API root of any OpenAI-compatible server (Ollama `http://localhost:11434/v1`, vLLM, llama.cpp, LM Studio)",
    },
    Setting {
        names: &["OPENAI_MODEL", "OPENAI_TITLE_MODEL"],
        default: "`gpt-4o-mini`, same as `OPENAI_MODEL`",
        meaning: "model for runs / for titles (simple-completion)",
    },
    Setting {
        names: &["OPENAI_TIMEOUT_SECS"],
        default: "`60`",
        meaning: "longest wait for one model request, body included",
    },
    Setting {
        names: &["OPENAI_IDLE_TIMEOUT_SECS"],
        default: "`20`",
        meaning: "(1 or more) longest silence between two pieces of a streamed answer; past it the call fails (before any text: retried; after: the run fails and keeps what was written)",
    },
    Setting {
        names: &["OPENAI_MAX_RETRIES"],
        default: "`3`",
        meaning: "retries after 429 (honouring `Retry-After`), 5xx, timeouts, resets; jittered backoff",
    },
    Setting {
        names: &["OPENAI_HTTP2"],
        default: "`auto`",
        meaning: "HTTP/2 to the model API: `auto` where the TLS handshake offers it (OpenAI does; one connection carries every call in flight), `off` HTTP/1.1 only (a connection per call), `always` HTTP/2 over `http://` too (h2c, for a local server that speaks it)",
    },
    Setting {
        names: &["MALLOC_ARENA_MAX"],
        default: "`2`",
        meaning: "glibc's malloc arenas; the server sets two before its threads start (fewer arenas keep less freed memory: `docs/benchmarks.md`, \"Load and scale\"); set it to choose another number",
    },
    Setting {
        names: &["ASSISTANT_INSTRUCTIONS"],
        default: "built-in",
        meaning: "file with the assistant's instructions",
    },
    Setting {
        names: &["WIDGET_ALLOWED_ORIGINS"],
        default: "unset (any site)",
        meaning: "origins, comma- or space-separated (`https://docs.example.com`), whose pages may embed the widget; sent as CSP `frame-ancestors` on `/embed` (all other pages: `frame-ancestors 'self'`)",
    },
    Setting {
        names: &["MCP_ENABLED"],
        default: "`true`",
        meaning: "the MCP server at `/mcp` for coding agents (`search_docs`, `get_doc_page`; `docs/mcp.md`), counted by the per-address read limit; `false`: `/mcp` is 404",
    },
    Setting {
        names: &["MCP_ASK"],
        default: "`false`",
        meaning: "`true` adds the MCP tool `ask_docs`: an answer through a run of its own, within the chat's per-address limits and daily token budgets (it spends model tokens)",
    },
    Setting {
        names: &["SLACK_BOT_TOKEN", "SLACK_CHANNEL"],
        default: "unset",
        meaning: "with both: a new thread posts \"New Paste Assistant thread created: <id>\" to the channel (its `ts` kept with the thread) and each user message is posted as a reply there; in the background, 5 attempts with backoff, never delaying or failing a request; one without the other is a configuration error",
    },
    Setting {
        names: &["SLACK_API_URL"],
        default: "`https://slack.com/api`",
        meaning: "Slack's Web API root (tests point it at a local receiver)",
    },
    Setting {
        names: &["RUST_LOG"],
        default: "`info`",
        meaning: "log filter",
    },
    Setting {
        names: &["LOG_FORMAT"],
        default: "`json`, or `text` on a terminal",
        meaning: "`json`: one JSON object per line, each line of a request with its `request_id`; `text`: for people",
    },
];

/// The settings read outside `Config`: by Leptos, the allocator, the log set-up.
pub const READ_ELSEWHERE: &[&str] = &["LEPTOS_SITE_ROOT", "MALLOC_ARENA_MAX", "RUST_LOG"];

/// `--help`: how to run it, then every setting with its default, Markdown's marks taken out.
pub fn help() -> String {
    let plain = |text: &str| text.replace('`', "").replace("**", "");
    let mut out = format!(
        "Paste Assistant {} — a documentation-site AI assistant.\n\n\
         Usage: paste-assistant [--help | --version]\n\n\
         Serves the chat on LEPTOS_SITE_ADDR (default 127.0.0.1:3000). Settings come from the\n\
         environment; a bad value stops it with the variable named.\n\n",
        env!("CARGO_PKG_VERSION")
    );
    for setting in SETTINGS {
        out.push_str(&setting.names.join(", "));
        out.push_str(&format!("  (default: {})\n", plain(setting.default)));
        for line in wrap(&plain(setting.meaning), 76) {
            out.push_str("    ");
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// `text` in lines of at most `width` characters, broken between words.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}
