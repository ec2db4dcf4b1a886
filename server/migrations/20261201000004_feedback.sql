-- Readers' ratings of answers (issue 14): one per assistant message, changeable, removed with
-- its message (and so with its thread). The message's metadata carries the rating too
-- (`feedback`), so a reload shows it; this table is what the docs team's pages query.
CREATE TABLE feedback (
    message_id TEXT PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    thread_id TEXT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    -- `up` (helpful) or `down` (not helpful).
    rating TEXT NOT NULL,
    -- With `down`: `wrong`, `incomplete` or `off_topic`.
    reason TEXT,
    -- The reader's own words, at most 1,000 characters.
    comment TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- The team's Feedback page: "Not helpful" first, newest first.
CREATE INDEX feedback_by_rating ON feedback (rating, updated_at);
