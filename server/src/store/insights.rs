//! What the docs team sees: one `questions` row per question (written when its latest run
//! ends) with the pages its answer cited, and the queries of the admin pages over them. Every
//! query is bounded by a period and served by an index on `created_at`.
use sqlx::AssertSqlSafe;

use super::{QuestionRow, Store, StoreResult};

/// `[from, to)` in unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: i64,
    pub to: i64,
}

/// Which questions, and how many.
#[derive(Clone, Debug, Default)]
pub struct QuestionFilter {
    /// Words the question contains (case-insensitive).
    pub search: Option<String>,
    /// `up` or `down`: rated so; `none`: not rated.
    pub rating: Option<String>,
    pub covered: Option<bool>,
    /// Rated ones only, "Not helpful" first (the Feedback page).
    pub rated_first: bool,
    pub limit: i64,
    pub offset: i64,
}

/// The overview's numbers for a period.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Counts {
    pub questions: i64,
    pub threads: i64,
    pub answered: i64,
    pub not_covered: i64,
    pub failed: i64,
    pub helpful: i64,
    pub not_helpful: i64,
}

/// A question row's columns, with its answer's text and rating's reason and comment, over
/// `{from}` (the `questions` table, or a page of it).
fn rows_of(from: &str) -> String {
    format!(
        "SELECT q.message_id, q.thread_id, q.created_at, q.run_id, q.status, q.answer_id, \
         q.covered, q.coverage, q.why, q.sources, q.question, a.content AS answer, \
         q.rating, f.reason, f.comment \
         FROM {from} q LEFT JOIN messages a ON a.id = q.answer_id \
         LEFT JOIN feedback f ON f.message_id = q.answer_id"
    )
}

/// `text` for a `LIKE … ESCAPE '\'` pattern that matches it anywhere.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl Store {
    /// Records (or, after a retry, replaces) what `fact`'s question came to, with the docs
    /// pages its answer cited.
    pub async fn record_question(&self, fact: &QuestionRow, cited: &[String]) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM cited_pages WHERE message_id = $1")
            .bind(&fact.message_id)
            .execute(&mut *tx)
            .await?;
        fact.upsert().execute(&mut *tx).await?;
        for path in cited {
            sqlx::query(
                "INSERT INTO cited_pages (message_id, path, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&fact.message_id)
            .bind(path)
            .bind(fact.created_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The overview's counts for `period`.
    pub async fn question_counts(&self, period: Period) -> StoreResult<Counts> {
        Ok(sqlx::query_as(
            "SELECT COUNT(*) AS questions, COUNT(DISTINCT thread_id) AS threads, \
             COALESCE(SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END), 0) AS answered, \
             COALESCE(SUM(CASE WHEN covered = 0 THEN 1 ELSE 0 END), 0) AS not_covered, \
             COALESCE(SUM(CASE WHEN status IN ('failed', 'expired') THEN 1 ELSE 0 END), 0) AS failed, \
             COALESCE(SUM(CASE WHEN rating = 'up' THEN 1 ELSE 0 END), 0) AS helpful, \
             COALESCE(SUM(CASE WHEN rating = 'down' THEN 1 ELSE 0 END), 0) AS not_helpful \
             FROM questions WHERE created_at >= $1 AND created_at < $2",
        )
        .bind(period.from)
        .bind(period.to)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Questions per UTC day of `period`: (day number since 1970-01-01, count), days with
    /// none left out.
    pub async fn questions_per_day(&self, period: Period) -> StoreResult<Vec<(i64, i64)>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT created_at / 86400 AS day, COUNT(*) AS n FROM questions \
             WHERE created_at >= $1 AND created_at < $2 GROUP BY created_at / 86400 ORDER BY day",
        )
        .bind(period.from)
        .bind(period.to)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// The questions of `period` that `filter` picks, newest first (or rated ones, "Not
    /// helpful" first), with the total that match.
    pub async fn questions(
        &self,
        period: Period,
        filter: &QuestionFilter,
    ) -> StoreResult<(Vec<QuestionRow>, i64)> {
        let mut wheres = vec!["q.created_at >= $1".to_string(), "q.created_at < $2".into()];
        let mut texts: Vec<String> = Vec::new();
        let mut next = 3;
        let mut param = |value: String, texts: &mut Vec<String>| {
            texts.push(value);
            let n = next;
            next += 1;
            format!("${n}")
        };
        if let Some(search) = filter.search.as_deref().filter(|s| !s.trim().is_empty()) {
            let p = param(contains_pattern(search.trim()), &mut texts);
            wheres.push(format!("LOWER(q.question) LIKE {p} ESCAPE '\\'"));
        }
        match filter.rating.as_deref() {
            Some("none") => wheres.push("q.rating IS NULL".into()),
            Some(r) => {
                let p = param(r.to_string(), &mut texts);
                wheres.push(format!("q.rating = {p}"));
            }
            None => {}
        }
        if let Some(covered) = filter.covered {
            wheres.push(format!("q.covered = {}", i64::from(covered)));
        }
        if filter.rated_first {
            wheres.push("q.rating IS NOT NULL".into());
        }
        let clause = wheres.join(" AND ");
        let order = if filter.rated_first {
            "CASE WHEN q.rating = 'down' THEN 0 ELSE 1 END, q.created_at DESC, q.message_id DESC"
        } else {
            "q.created_at DESC, q.message_id DESC"
        };
        // The page is picked from `questions` alone (its indexes), and only its rows are
        // joined with their answers and ratings.
        let page = format!(
            "(SELECT * FROM questions q WHERE {clause} ORDER BY {order} LIMIT {} OFFSET {})",
            filter.limit.clamp(1, 100_000),
            filter.offset.max(0)
        );
        let sql = format!("{} ORDER BY {order}", rows_of(&page));
        let mut query = sqlx::query_as(AssertSqlSafe(sql))
            .bind(period.from)
            .bind(period.to);
        for t in &texts {
            query = query.bind(t.clone());
        }
        let rows: Vec<QuestionRow> = query.fetch_all(&self.pool).await?;
        let count_sql = format!("SELECT COUNT(*) FROM questions q WHERE {clause}");
        let mut count = sqlx::query_scalar(AssertSqlSafe(count_sql))
            .bind(period.from)
            .bind(period.to);
        for t in &texts {
            count = count.bind(t.clone());
        }
        let total: i64 = count.fetch_one(&self.pool).await?;
        Ok((rows, total))
    }

    /// One question by its message id.
    pub async fn question(&self, message_id: &str) -> StoreResult<Option<QuestionRow>> {
        let sql = format!("{} WHERE q.message_id = $1", rows_of("questions"));
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(message_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Up to `limit` threads with no message at or after `cutoff` that began before it.
    pub async fn stale_threads(&self, cutoff: i64, limit: i64) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT t.id FROM threads t WHERE t.created_at < $1 AND NOT EXISTS \
             (SELECT 1 FROM messages m WHERE m.thread_id = t.id AND m.created_at >= $1) \
             ORDER BY t.id LIMIT $2",
        )
        .bind(cutoff)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A message by its id, whoever's thread it is in (for the team's views).
    pub async fn message_by_id(&self, id: &str) -> StoreResult<Option<super::MessageRow>> {
        Ok(sqlx::query_as("SELECT * FROM messages WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// A thread by its id, whoever's it is (for the team's views).
    pub async fn thread_by_id(&self, id: &str) -> StoreResult<Option<super::ThreadRow>> {
        Ok(sqlx::query_as("SELECT * FROM threads WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The last answer `run_id` wrote with some text (after a restart, the one it wrote
    /// again, not the one set aside).
    pub async fn answer_of_run(&self, run_id: &str) -> StoreResult<Option<super::MessageRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM messages WHERE run_id = $1 AND role = 'assistant' AND content <> '' \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(run_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// How many answers of `period` cited each docs page, most cited first.
    pub async fn page_citations(&self, period: Period) -> StoreResult<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT path, COUNT(*) AS n FROM cited_pages WHERE created_at >= $1 AND created_at < $2 \
             GROUP BY path ORDER BY n DESC, path",
        )
        .bind(period.from)
        .bind(period.to)
        .fetch_all(&self.pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_matched_literally() {
        assert_eq!(contains_pattern("100%_a\\B"), "%100\\%\\_a\\\\b%");
    }
}
