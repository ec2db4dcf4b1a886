//! Published docs sites (`DOCS_SITE_URL`): the pages each crawl read, the URLs it could not,
//! and which instance crawls a site now (a lease, as runs have one).
use super::{Store, StoreResult};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct SitePageRow {
    pub url: String,
    pub site: String,
    pub title: String,
    pub description: Option<String>,
    pub markdown: String,
    /// One link a line.
    pub links: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub fetched_at: i64,
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct SiteFailureRow {
    pub url: String,
    pub site: String,
    pub reason: String,
    pub at: i64,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SiteRow {
    pub site: String,
    pub holder: Option<String>,
    pub lease_until: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub generation: i64,
    pub error: Option<String>,
}

/// What one crawl of a site found, to be written at once.
#[derive(Debug, Default)]
pub struct CrawlChanges {
    /// Pages read anew (added or changed).
    pub upserted: Vec<SitePageRow>,
    /// Pages no longer on the site.
    pub removed: Vec<String>,
    /// Every URL this crawl could not read, with why (the site's earlier ones are replaced).
    pub failures: Vec<SiteFailureRow>,
}

impl Store {
    /// Every kept page of every site.
    pub async fn site_pages(&self) -> StoreResult<Vec<SitePageRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM docs_site_pages ORDER BY site, url")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// The URLs the last crawls could not read, by site and URL.
    pub async fn site_failures(&self) -> StoreResult<Vec<SiteFailureRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM docs_site_failures ORDER BY site, url")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Every site ever crawled here, with its last crawl.
    pub async fn sites(&self) -> StoreResult<Vec<SiteRow>> {
        Ok(sqlx::query_as("SELECT * FROM docs_sites ORDER BY site")
            .fetch_all(&self.pool)
            .await?)
    }

    /// Pages and failures of each site.
    pub async fn site_counts(
        &self,
    ) -> StoreResult<std::collections::HashMap<String, (usize, usize)>> {
        let mut out = std::collections::HashMap::new();
        for (table, failures) in [("docs_site_pages", false), ("docs_site_failures", true)] {
            let sql = format!("SELECT site, COUNT(*) AS n FROM {table} GROUP BY site");
            let rows: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(&self.pool)
                .await?;
            for (site, n) in rows {
                let entry: &mut (usize, usize) = out.entry(site).or_default();
                if failures {
                    entry.1 = n as usize;
                } else {
                    entry.0 = n as usize;
                }
            }
        }
        Ok(out)
    }

    /// Takes `site`'s crawl for `holder` until `until` when no one holds it and its last crawl
    /// finished at or before `due` (pass `now` to crawl whenever no one else is), or failed at
    /// or before `retry`: whether it was taken. One guarded UPDATE, so of several instances
    /// asking at once one gets it.
    pub async fn take_site(
        &self,
        site: &str,
        holder: &str,
        now: i64,
        until: i64,
        (due, retry): (i64, i64),
    ) -> StoreResult<bool> {
        sqlx::query("INSERT INTO docs_sites (site) VALUES ($1) ON CONFLICT (site) DO NOTHING")
            .bind(site)
            .execute(&self.writer)
            .await?;
        let taken = sqlx::query(
            "UPDATE docs_sites SET holder = $2, lease_until = $3, started_at = $4 \
             WHERE site = $1 AND (lease_until IS NULL OR lease_until < $4) \
             AND (finished_at IS NULL OR finished_at <= $5 \
             OR (error IS NOT NULL AND finished_at <= $6))",
        )
        .bind(site)
        .bind(holder)
        .bind(until)
        .bind(now)
        .bind(due)
        .bind(retry)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(taken == 1)
    }

    /// Keeps `holder`'s crawl of `site` until `until`; false when it lost it.
    pub async fn renew_site(&self, site: &str, holder: &str, until: i64) -> StoreResult<bool> {
        let renewed = sqlx::query(
            "UPDATE docs_sites SET lease_until = $3 WHERE site = $1 AND holder = $2 \
             AND lease_until IS NOT NULL",
        )
        .bind(site)
        .bind(holder)
        .bind(until)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(renewed == 1)
    }

    /// Writes a finished crawl of `site` and lets it go; `error` when it read nothing (then
    /// `changes` is empty and the pages stay as they were).
    pub async fn finish_site(
        &self,
        site: &str,
        holder: &str,
        now: i64,
        changes: &CrawlChanges,
        error: Option<&str>,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        for page in &changes.upserted {
            sqlx::query(
                "INSERT INTO docs_site_pages (url, site, title, description, markdown, links, \
                 etag, last_modified, fetched_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (url) DO UPDATE SET site = excluded.site, title = excluded.title, \
                 description = excluded.description, markdown = excluded.markdown, \
                 links = excluded.links, etag = excluded.etag, \
                 last_modified = excluded.last_modified, fetched_at = excluded.fetched_at",
            )
            .bind(&page.url)
            .bind(&page.site)
            .bind(&page.title)
            .bind(&page.description)
            .bind(&page.markdown)
            .bind(&page.links)
            .bind(&page.etag)
            .bind(&page.last_modified)
            .bind(page.fetched_at)
            .execute(&mut *tx)
            .await?;
        }
        for url in &changes.removed {
            sqlx::query("DELETE FROM docs_site_pages WHERE url = $1 AND site = $2")
                .bind(url)
                .bind(site)
                .execute(&mut *tx)
                .await?;
        }
        if error.is_none() {
            sqlx::query("DELETE FROM docs_site_failures WHERE site = $1")
                .bind(site)
                .execute(&mut *tx)
                .await?;
            for f in &changes.failures {
                sqlx::query(
                    "INSERT INTO docs_site_failures (url, site, reason, at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (url) DO UPDATE SET \
                     site = excluded.site, reason = excluded.reason, at = excluded.at",
                )
                .bind(&f.url)
                .bind(&f.site)
                .bind(&f.reason)
                .bind(f.at)
                .execute(&mut *tx)
                .await?;
            }
        }
        let changed = i64::from(!changes.upserted.is_empty() || !changes.removed.is_empty());
        sqlx::query(
            "UPDATE docs_sites SET holder = NULL, lease_until = NULL, finished_at = $3, \
             generation = generation + $4, error = $5 WHERE site = $1 AND holder = $2",
        )
        .bind(site)
        .bind(holder)
        .bind(now)
        .bind(changed)
        .bind(error)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
