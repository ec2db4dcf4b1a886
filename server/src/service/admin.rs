//! The docs team's side: sign-in with `ADMIN_TOKEN` (an HttpOnly session cookie for the pages,
//! the token itself as a bearer for the JSON API), and what the admin pages show — all from
//! the database, so every instance shows the same.
//!
//! Admin is off, and every admin route 404, while `ADMIN_TOKEN` is unset.
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Assistant, Conversation, ServiceError, ServiceResult, same_secret};
use crate::ids::{ThreadId, now_secs};
use crate::store::{Counts, Period, QuestionFilter, QuestionRow};

/// How long a sign-in lasts.
pub const SESSION_SECS: i64 = 12 * 3600;

/// What a request shows of who it is: the admin cookie, a bearer token, or both or neither.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    pub cookie: Option<String>,
    pub bearer: Option<String>,
}

/// The overview of a period.
#[derive(Clone, Debug)]
pub struct Overview {
    pub period: Period,
    pub counts: Counts,
    /// Every day of the period (day number since 1970-01-01) with its questions, oldest first.
    pub per_day: Vec<(i64, i64)>,
    /// Where the docs come from now.
    pub sources: Vec<super::DocsSource>,
}

/// A docs page as the team's views link it.
#[derive(Clone, Debug)]
pub struct DocPage {
    pub path: String,
    pub title: String,
    /// Where a person reads it.
    pub url: String,
}

/// The docs pages by how often answers cited them.
#[derive(Clone, Debug)]
pub struct PageUse {
    /// With the answers citing each, most cited first.
    pub cited: Vec<(DocPage, i64)>,
    /// The pages no answer of the period cited.
    pub never: Vec<DocPage>,
    /// The sites' URLs the last crawls could not read, with why.
    pub failed: Vec<crate::store::SiteFailureRow>,
}

type Mac256 = Hmac<Sha256>;

impl Assistant {
    fn admin_token(&self) -> ServiceResult<&str> {
        self.config
            .admin_token
            .as_ref()
            .map(|t| t.expose())
            .ok_or_else(|| ServiceError::NotFound("Not found.".into()))
    }

    /// Whether admin is on (`ADMIN_TOKEN` set).
    pub fn admin_enabled(&self) -> bool {
        self.config.admin_token.is_some()
    }

    /// Signs in with the admin token: the value of the admin session cookie, good for
    /// [`SESSION_SECS`]. It is signed with the token, so a new token signs everyone out.
    pub fn admin_sign_in(&self, token: &str) -> ServiceResult<String> {
        let expected = self.admin_token()?;
        if !same_secret(token.trim(), expected) {
            return Err(ServiceError::Unauthorized(
                "That is not the admin token.".into(),
            ));
        }
        Ok(admin_cookie(expected, now_secs() + SESSION_SECS))
    }

    /// The docs team, or 401 (404 while admin is off). Every admin view checks it first.
    fn admin(&self, credentials: &Credentials) -> ServiceResult<()> {
        let expected = self.admin_token()?;
        if let Some(bearer) = &credentials.bearer {
            return if same_secret(bearer, expected) {
                Ok(())
            } else {
                Err(ServiceError::Unauthorized(
                    "The admin token is not valid.".into(),
                ))
            };
        }
        match &credentials.cookie {
            Some(cookie) if cookie_is_valid(expected, cookie, now_secs()) => Ok(()),
            _ => Err(ServiceError::Unauthorized(
                "Sign in with the admin token, or send it as `Authorization: Bearer <ADMIN_TOKEN>`."
                    .into(),
            )),
        }
    }

    /// Questions per day and the counts of the `days` before now.
    pub async fn admin_overview(
        &self,
        credentials: &Credentials,
        period: Period,
    ) -> ServiceResult<Overview> {
        self.admin(credentials)?;
        let counts = self.store.question_counts(period).await?;
        let found = self.store.questions_per_day(period).await?;
        let (first, last) = (
            period.from.div_euclid(86_400),
            (period.to - 1).div_euclid(86_400),
        );
        let per_day = (first..=last)
            .map(|day| {
                let n = found.iter().find(|(d, _)| *d == day).map_or(0, |(_, n)| *n);
                (day, n)
            })
            .collect();
        Ok(Overview {
            period,
            counts,
            per_day,
            sources: self.docs_sources().await,
        })
    }

    /// The questions of `period` that `filter` picks, with how many match in all.
    pub async fn admin_questions(
        &self,
        credentials: &Credentials,
        period: Period,
        filter: &QuestionFilter,
    ) -> ServiceResult<(Vec<QuestionRow>, i64)> {
        self.admin(credentials)?;
        if let Some(r) = filter.rating.as_deref()
            && !matches!(r, "up" | "down" | "none")
        {
            return Err(super::bad("`rating` must be \"up\", \"down\" or \"none\""));
        }
        Ok(self.store.questions(period, filter).await?)
    }

    /// A thread, read-only, with its runs and steps (sources and tool calls), whoever's it is.
    pub async fn admin_conversation(
        &self,
        credentials: &Credentials,
        thread_id: &ThreadId,
    ) -> ServiceResult<(Conversation, Vec<crate::store::FeedbackRow>)> {
        self.admin(credentials)?;
        let thread = self
            .store
            .thread_by_id(thread_id.as_str())
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("No thread '{thread_id}'.")))?;
        let messages = self.store.all_messages(&thread.id).await?;
        let runs = self.store.runs_of_thread(&thread.id).await?;
        let steps = self.store.steps_of_thread(&thread.id).await?;
        let feedback = self.store.feedback_of_thread(&thread.id).await?;
        Ok((
            Conversation {
                thread,
                messages,
                runs,
                steps,
            },
            feedback,
        ))
    }

    /// The docs pages by how often the answers of `period` cited them, and those never cited.
    pub async fn admin_pages(
        &self,
        credentials: &Credentials,
        period: Period,
    ) -> ServiceResult<PageUse> {
        self.admin(credentials)?;
        let counts = self.store.page_citations(period).await?;
        let index = self.docs.current();
        let page = |path: &str| DocPage {
            path: path.to_string(),
            title: index
                .page(path)
                .map_or_else(|| path.to_string(), |p| p.title.clone()),
            url: index.url_for(path, ""),
        };
        let cited = counts.iter().map(|(path, n)| (page(path), *n)).collect();
        let never = index
            .pages()
            .iter()
            .filter(|p| !counts.iter().any(|(path, _)| *path == p.path))
            .map(|p| page(&p.path))
            .collect();
        let failed = match &self.sites {
            Some(_) => self.store.site_failures().await?,
            None => Vec::new(),
        };
        Ok(PageUse {
            cited,
            never,
            failed,
        })
    }
}

fn mac(token: &str, expires: i64) -> Mac256 {
    let mut mac = Mac256::new_from_slice(token.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("pa-admin.v1.{expires}").as_bytes());
    mac
}

fn admin_cookie(token: &str, expires: i64) -> String {
    let signature = URL_SAFE_NO_PAD.encode(mac(token, expires).finalize().into_bytes());
    format!("v1.{expires}.{signature}")
}

fn cookie_is_valid(token: &str, cookie: &str, now: i64) -> bool {
    let mut parts = cookie.splitn(3, '.');
    let (Some("v1"), Some(expires), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let (Ok(expires), Ok(signature)) = (expires.parse::<i64>(), URL_SAFE_NO_PAD.decode(signature))
    else {
        return false;
    };
    expires > now && mac(token, expires).verify_slice(&signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_cookies_are_signed_with_the_token_and_expire() {
        let cookie = admin_cookie("token-one-token-one", 1_000);
        assert!(cookie_is_valid("token-one-token-one", &cookie, 999));
        assert!(
            !cookie_is_valid("token-one-token-one", &cookie, 1_000),
            "expired"
        );
        assert!(
            !cookie_is_valid("token-two-token-two", &cookie, 999),
            "another token"
        );
        let later = cookie.replace("v1.1000.", "v1.9999.");
        assert!(
            !cookie_is_valid("token-one-token-one", &later, 999),
            "forged expiry"
        );
        for bad in ["", "v1", "v1.x.y", "v2.1000.abc", "v1.1000.!!"] {
            assert!(!cookie_is_valid("token-one-token-one", bad, 0), "{bad}");
        }
    }
}
