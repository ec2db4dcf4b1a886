-- Limits a new browser cookie does not reset (issue 12) count by the client's address.

-- The address (IPv6 grouped by its /64) of the request that started the run: answers in
-- progress are capped per address, and the run's model tokens count against its budget.
ALTER TABLE runs ADD COLUMN client_addr TEXT;
CREATE INDEX runs_active_by_addr ON runs (client_addr)
    WHERE status IN ('queued', 'in_progress', 'requires_action', 'cancelling');
-- Queued runs are started oldest first, by whichever instance has room.
CREATE INDEX runs_queued ON runs (created_at, id) WHERE status = 'queued';

-- Model tokens spent per UTC day, per client address and for everyone (scope '*'). In the
-- database, not in memory, so every instance counts against the same budget and a restart
-- forgets nothing. One row per (day, scope): an UPSERT adds to it.
CREATE TABLE token_usage (
    -- Days since 1970-01-01, UTC.
    day BIGINT NOT NULL,
    scope TEXT NOT NULL,
    tokens BIGINT NOT NULL,
    PRIMARY KEY (day, scope)
);
