-- A thread's run steps (the question record written when a run ends, the admin conversation)
-- were found by scanning every step: issue 15's query plans showed `SCAN run_steps`, a cost
-- that grows with the whole history on every run's end.
CREATE INDEX run_steps_by_thread ON run_steps (thread_id, id);
