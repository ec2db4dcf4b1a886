//! Readers' ratings of answers: a row per rated message, and the rating mirrored into the
//! message's metadata (`feedback`, so the message object shows it) and into its question's
//! `questions` row (so the team's counts need no join), in the same transaction.
use serde_json::Value;

use sqlx::FromRow;

use super::{FeedbackRow, Store, StoreResult};

/// `metadata` (a JSON object as text) with `feedback` set to `rating`, or removed for `None`.
fn with_rating(metadata: &str, rating: Option<&str>) -> String {
    let mut object = match serde_json::from_str::<Value>(metadata) {
        Ok(Value::Object(map)) => map,
        _ => Default::default(),
    };
    match rating {
        Some(r) => object.insert("feedback".into(), Value::String(r.into())),
        None => object.remove("feedback"),
    };
    Value::Object(object).to_string()
}

impl Store {
    /// Stores `f` for its message, in place of any earlier rating (its first time is kept).
    pub async fn set_feedback(&self, f: &FeedbackRow) -> StoreResult<FeedbackRow> {
        let mut tx = self.writer.begin().await?;
        let stored = FeedbackRow::from_row(&f.upsert().fetch_one(&mut *tx).await?)?;
        set_rating(&mut tx, &f.message_id, Some(&f.rating)).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Removes the rating of `message_id`; whether there was one.
    pub async fn delete_feedback(&self, message_id: &str) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let deleted = sqlx::query("DELETE FROM feedback WHERE message_id = $1")
            .bind(message_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        set_rating(&mut tx, message_id, None).await?;
        tx.commit().await?;
        Ok(deleted)
    }

    /// Every rating in thread `thread_id`.
    pub async fn feedback_of_thread(&self, thread_id: &str) -> StoreResult<Vec<FeedbackRow>> {
        self.of_thread("feedback", "message_id", thread_id).await
    }
}

async fn set_rating(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    message_id: &str,
    rating: Option<&str>,
) -> StoreResult<()> {
    sqlx::query("UPDATE questions SET rating = $1 WHERE answer_id = $2")
        .bind(rating)
        .bind(message_id)
        .execute(&mut **tx)
        .await?;
    let metadata: Option<String> =
        sqlx::query_scalar("SELECT metadata FROM messages WHERE id = $1")
            .bind(message_id)
            .fetch_optional(&mut **tx)
            .await?;
    if let Some(metadata) = metadata {
        sqlx::query("UPDATE messages SET metadata = $1 WHERE id = $2")
            .bind(with_rating(&metadata, rating))
            .bind(message_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rating_joins_the_metadata_and_leaves_it_again() {
        let with = with_rating(r#"{"a":"1"}"#, Some("up"));
        let value: Value = serde_json::from_str(&with).unwrap();
        assert_eq!(value["a"], "1");
        assert_eq!(value["feedback"], "up");
        assert_eq!(with_rating(&with, None), r#"{"a":"1"}"#);
        assert_eq!(
            with_rating("not json", Some("down")),
            r#"{"feedback":"down"}"#
        );
    }
}
