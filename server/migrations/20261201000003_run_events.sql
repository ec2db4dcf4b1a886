-- The event stream of a run (issue 13): its life-cycle events in order, as the Assistants v2
-- streaming API names them, with the object as it was at that moment. Written by whichever
-- instance executes the run, read by any instance serving the stream, so a reconnect resumes
-- where it left off. The answer's text deltas are not rows: they are read from the message
-- itself (its text only grows), by offset.
CREATE TABLE run_events (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    event TEXT NOT NULL,
    -- The event's object as JSON text.
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
