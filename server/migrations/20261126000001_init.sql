-- Threads, messages, runs and run steps: the objects of API.md, kept by us since OpenAI's hosted
-- Assistants API is gone. Written in the SQL both SQLite and Postgres accept: TEXT ids, BIGINT
-- unix times, JSON kept as TEXT (the server reads and writes it whole; nothing queries inside).

CREATE TABLE threads (
    id TEXT PRIMARY KEY,
    -- The anonymous browser session that owns the thread; other sessions get 404.
    session_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    metadata TEXT NOT NULL,
    -- Slack's `ts` of the thread's announcement, when Slack is configured.
    slack_ts TEXT
);
-- The sidebar lists a session's threads newest first; ids sort by creation time.
CREATE INDEX threads_by_session ON threads (session_id, id);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    thread_id TEXT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    role TEXT NOT NULL,
    -- The Markdown text of the message's single text content part.
    content TEXT NOT NULL,
    run_id TEXT,
    metadata TEXT NOT NULL
);
CREATE INDEX messages_by_thread ON messages (thread_id, id);

CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    thread_id TEXT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    -- The user message that started the run (the UI shows a failed run's error after it).
    message_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    model TEXT NOT NULL,
    instructions TEXT NOT NULL,
    required_action TEXT,
    last_error TEXT,
    started_at BIGINT,
    completed_at BIGINT,
    failed_at BIGINT,
    cancelled_at BIGINT,
    expires_at BIGINT NOT NULL,
    usage TEXT,
    -- Until when the process executing the run holds it; a restart reclaims runs past it.
    lease_until BIGINT
);
CREATE INDEX runs_by_thread ON runs (thread_id, id);
CREATE INDEX runs_by_status ON runs (status);
-- At most one active run per thread: a second message while one is active fails this index
-- inside the transaction that stores the message, which the API answers with 409.
CREATE UNIQUE INDEX runs_one_active_per_thread ON runs (thread_id)
    WHERE status IN ('queued', 'in_progress', 'requires_action', 'cancelling');

CREATE TABLE run_steps (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    thread_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    step_details TEXT NOT NULL,
    last_error TEXT,
    completed_at BIGINT,
    failed_at BIGINT,
    cancelled_at BIGINT,
    expired_at BIGINT,
    usage TEXT
);
CREATE INDEX run_steps_by_run ON run_steps (run_id, id);
