//! What coding agents get over MCP (`http::mcp`): the docs search the runs use, a page whole
//! as the index holds it, and an answer through a run of its own.
use super::docs::SearchRules;
use super::{Assistant, ServiceError, ServiceResult};
use crate::docs::{Hit, PER_PAGE, spread};
use crate::engine::tools::sources_of;
use crate::ids::ThreadId;

/// Longest query an agent may search with, in characters.
pub const AGENT_QUERY_MAX_CHARS: usize = 500;
/// Most results one agent search returns.
pub const AGENT_SEARCH_MAX: usize = 20;
/// How many paths an unknown page's error names.
const PATHS_NAMED: usize = 20;

/// A docs page as an agent reads it.
pub struct AgentPage {
    pub path: String,
    pub title: String,
    pub url: String,
    pub markdown: String,
}

/// An answer to an agent's question, with the pages it used.
pub struct AgentAnswer {
    pub answer: String,
    pub status: String,
    pub sources: Vec<(String, String)>,
}

impl Assistant {
    /// The sections `get_relevant_docs` would hand a model for `query`: the best `limit`
    /// (default 5), at most two of one page.
    pub async fn search_for_agent(
        &self,
        query: &str,
        limit: Option<u32>,
    ) -> ServiceResult<Vec<Hit>> {
        let (query, limit) = SearchRules {
            query: "query",
            max_chars: AGENT_QUERY_MAX_CHARS,
            default: 5,
            max: AGENT_SEARCH_MAX,
        }
        .check(query, limit.map(|n| n as usize))?;
        let hits = self.docs.search(query, limit * 3).await;
        Ok(spread(hits, limit, PER_PAGE))
    }

    /// A page of the index by the `path` search results give; any other path is refused with
    /// the paths that exist (nothing is ever read by the given name).
    pub async fn page_for_agent(&self, path: &str) -> ServiceResult<AgentPage> {
        self.docs.ready().await;
        let docs = self.docs.current();
        if let Some(page) = docs.page(path) {
            return Ok(AgentPage {
                path: page.path.clone(),
                title: page.title.clone(),
                url: docs.url_for(&page.path, ""),
                markdown: page.markdown.clone(),
            });
        }
        let mut paths: Vec<&str> = docs.pages().iter().map(|p| p.path.as_str()).collect();
        paths.sort_unstable();
        let named = paths
            .iter()
            .take(PATHS_NAMED)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        let more = paths.len().saturating_sub(PATHS_NAMED);
        let rest = if more > 0 {
            format!(" and {more} more (all in /llms.txt)")
        } else {
            String::new()
        };
        Err(ServiceError::NotFound(format!(
            "No docs page {path:?}. Use a `path` from search_docs results; the pages are: \
             {named}{rest}."
        )))
    }

    /// Asks `question` as a reader at `addr` would, within the same per-address limits and token
    /// budgets, in a thread of its own, and waits for the run to end. Agents carry no cookie:
    /// the threads of one address belong to one session of its own.
    pub async fn ask_for_agent(
        &self,
        addr: Option<&str>,
        question: &str,
    ) -> ServiceResult<AgentAnswer> {
        let session = &format!("mcp-{}", addr.unwrap_or("unknown"));
        let thread = self.create_thread(session, addr, None).await?;
        let thread_id = ThreadId::parse(&thread.id)?;
        let run = self
            .post_message(session, addr, &thread_id, question)
            .await?;
        let mut changes = self.engine.changes(&run.id);
        let deadline = tokio::time::Instant::now() + self.engine.run_time_limit();
        let mut current = run;
        while !current.status.is_terminal() {
            // Woken by every change of the run; a missed wake-up is caught by the deadline.
            let woke = tokio::time::timeout_at(deadline, changes.changed()).await;
            current = self
                .store
                .run_by_id(&current.id)
                .await?
                .ok_or_else(|| ServiceError::NotFound("The run is gone.".into()))?;
            if woke.is_err() {
                break;
            }
        }
        let conversation = self.conversation(session, &thread_id).await?;
        let answer = conversation
            .messages
            .iter()
            .rev()
            .find(|m| m.role == "assistant" && m.run_id.as_deref() == Some(current.id.as_str()))
            .map(|m| m.content.clone())
            .unwrap_or_default();
        Ok(AgentAnswer {
            answer,
            status: current.status.as_str().to_string(),
            sources: sources_of(&conversation.steps, &current.id)
                .into_iter()
                .map(|s| (s.title, s.url))
                .collect(),
        })
    }
}
