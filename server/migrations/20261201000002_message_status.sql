-- Answers are stored as they are written (issue 13): an assistant message exists from its first
-- words with status 'in_progress', is saved every fraction of a second, and ends 'completed',
-- or 'incomplete' with the reason (OpenAI's message object: incomplete_details) when its run
-- was cancelled, failed or expired mid-answer. Questions, and answers stored before, are whole.
ALTER TABLE messages ADD COLUMN status TEXT NOT NULL DEFAULT 'completed';
-- {"reason": "run_cancelled" | "run_failed" | "run_expired"} as JSON text, or NULL.
ALTER TABLE messages ADD COLUMN incomplete_details TEXT;
ALTER TABLE messages ADD COLUMN completed_at BIGINT;
ALTER TABLE messages ADD COLUMN incomplete_at BIGINT;
-- The answer a run is writing (or wrote), found by its run.
CREATE INDEX messages_by_run ON messages (run_id);
