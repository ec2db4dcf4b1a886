-- The docs team's view of each question (issue 14), written when the question's latest run
-- ends, so the admin pages read one indexed table instead of reassembling runs and steps:
-- how it ended, whether the docs cover it (the rule in server/src/docs/coverage.rs) and which
-- docs pages the answer cited. Removed with its message (and so with its thread).
CREATE TABLE questions (
    message_id TEXT PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    thread_id TEXT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    -- When the question was asked (unix seconds).
    created_at BIGINT NOT NULL,
    -- The question's text (a copy: questions never change), so lists and searches read one
    -- table.
    question TEXT NOT NULL,
    run_id TEXT NOT NULL,
    -- The run's terminal status.
    status TEXT NOT NULL,
    -- The answer (completed, or incomplete with what was written), if any.
    answer_id TEXT,
    -- 1 when the docs cover the question, 0 when not; the share of its words found, in %.
    covered BIGINT NOT NULL,
    coverage BIGINT NOT NULL,
    -- Why it is not covered, for people.
    why TEXT,
    -- The docs pages the run's searches returned, as a JSON array of {title, url}.
    sources TEXT NOT NULL,
    -- The answer's rating (`up`, `down`), kept here by the feedback writes, so the counts and
    -- filters need no join.
    rating TEXT
);
-- Lists, newest first.
CREATE INDEX questions_by_time ON questions (created_at, message_id);
-- The overview's counts and the filters read this index alone (it covers them).
CREATE INDEX questions_counts ON questions (created_at, status, covered, rating, thread_id);
-- The Feedback page: the rated questions only.
CREATE INDEX questions_rated ON questions (created_at) WHERE rating IS NOT NULL;

-- The docs pages (paths in DOCS_DIR) each answer links to.
CREATE TABLE cited_pages (
    message_id TEXT NOT NULL REFERENCES questions (message_id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, path)
);
CREATE INDEX cited_pages_by_time ON cited_pages (created_at, path);
