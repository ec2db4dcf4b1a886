//! A run's event log: what the event stream replays from `Last-Event-ID`.

use super::StoreError;
use super::{Store, StoreResult};

impl Store {
    /// Appends an event to the run's stream (the next number in its order).
    pub async fn append_event(&self, run_id: &str, event: &str, data: &str) -> StoreResult<i64> {
        // One executor writes a run's events at a time; two writers racing (a cancel from
        // another instance) collide on the key, and the loser takes the next number.
        for _ in 0..5 {
            let row: Result<(i64,), sqlx::Error> = sqlx::query_as(
                "INSERT INTO run_events (run_id, seq, event, data) \
                 SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3 FROM run_events WHERE run_id = $1 \
                 RETURNING seq",
            )
            .bind(run_id)
            .bind(event)
            .bind(data)
            .fetch_one(&self.writer)
            .await;
            match row {
                Ok((seq,)) => return Ok(seq),
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Setup("could not number a run event".into()))
    }

    /// The run's events after `seq`, in order: (seq, event, data).
    pub async fn events_after(
        &self,
        run_id: &str,
        seq: i64,
    ) -> StoreResult<Vec<(i64, String, String)>> {
        Ok(sqlx::query_as(
            "SELECT seq, event, data FROM run_events WHERE run_id = $1 AND seq > $2 ORDER BY seq",
        )
        .bind(run_id)
        .bind(seq)
        .fetch_all(&self.pool)
        .await?)
    }
}
