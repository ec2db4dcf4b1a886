//! The tools a model may call, and their execution.
use super::grounding::MAX_QUERY_CHARS;
use crate::docs::live::LiveDocs;
use crate::docs::{PER_PAGE, RESULTS};
use crate::models::ToolCall;
use crate::models::prompt::GET_RELEVANT_DOCS;
use crate::store::StepRow;

/// Runs one tool call. Every outcome is an output for the model, errors included, so a bad call
/// never stops the run.
pub async fn execute(call: &ToolCall, docs: &LiveDocs) -> String {
    match call.name.as_str() {
        GET_RELEVANT_DOCS => {
            let args: serde_json::Value = match serde_json::from_str(&call.arguments) {
                Ok(v) => v,
                Err(e) => {
                    return error_output(&format!(
                        "the arguments are not valid JSON ({e}); send {{\"query\": \"…\"}}"
                    ));
                }
            };
            let Some(query) = args
                .get("query")
                .and_then(|q| q.as_str())
                .filter(|q| !q.trim().is_empty())
            else {
                return error_output("missing the string argument `query`");
            };
            // A query is a few words; a longer one is cut, not refused, so the model still
            // gets results.
            let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
            // The thread's earlier questions a search-first step is searched with (not in the
            // schema models see; tolerated from them too), as many as the engine sends.
            let context: Vec<String> = args
                .get("context")
                .and_then(|c| c.as_array())
                .into_iter()
                .flatten()
                .filter_map(|c| c.as_str())
                .take(super::grounding::CONTEXT_QUESTIONS)
                .map(|c| c.chars().take(MAX_QUERY_CHARS).collect())
                .collect();
            search_output(docs, &query, &context).await
        }
        other => error_output(&format!(
            "unknown tool `{other}`; the only tool is `{GET_RELEVANT_DOCS}`"
        )),
    }
}

async fn search_output(docs: &LiveDocs, query: &str, context: &[String]) -> String {
    let hits = docs.search_in_context(query, context, RESULTS * 3).await;
    let results: Vec<serde_json::Value> = crate::docs::spread(hits, RESULTS, PER_PAGE)
        .into_iter()
        .map(|hit| {
            serde_json::json!({
                "path": hit.path,
                "title": hit.title,
                "heading": hit.heading,
                "section": hit.trail,
                "url": hit.url,
                "content": hit.content,
            })
        })
        .collect();
    serde_json::json!({ "query": query, "results": results }).to_string()
}

/// The output of a call that was not executed.
pub fn refused(message: &str) -> String {
    error_output(message)
}

fn error_output(message: &str) -> String {
    serde_json::json!({ "error": message }).to_string()
}

/// Most sources listed under one answer.
const MAX_SOURCES: usize = 6;

/// The docs pages a run's searches returned, in the order they came, each page once: the
/// `get_relevant_docs` outputs stored in the run's tool-call steps.
pub fn sources_of(steps: &[StepRow], run_id: &str) -> Vec<app::api::Source> {
    let mut sources: Vec<app::api::Source> = Vec::new();
    let outputs = steps
        .iter()
        .filter(|s| s.run_id == run_id && s.step_type == "tool_calls")
        .filter_map(|s| serde_json::from_str::<serde_json::Value>(&s.step_details).ok())
        .flat_map(|d| d["tool_calls"].as_array().cloned().unwrap_or_default())
        .filter(|c| c["function"]["name"] == GET_RELEVANT_DOCS)
        .filter_map(|c| {
            serde_json::from_str::<serde_json::Value>(c["function"]["output"].as_str()?).ok()
        });
    for output in outputs {
        for hit in output["results"].as_array().into_iter().flatten() {
            let (Some(title), Some(url)) = (hit["title"].as_str(), hit["url"].as_str()) else {
                continue;
            };
            // A page, not a section of it.
            let page = url.split('#').next().unwrap_or(url);
            if sources.len() < MAX_SOURCES && !sources.iter().any(|s| s.url == page) {
                sources.push(app::api::Source {
                    title: title.to_string(),
                    url: page.to_string(),
                });
            }
        }
    }
    sources
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::docs::DocsIndex;

    /// The pages a `get_relevant_docs` output listed (for the UI's sources).
    fn result_paths(output: &str) -> Vec<String> {
        serde_json::from_str::<serde_json::Value>(output)
            .ok()
            .and_then(|v| v.get("results").and_then(|r| r.as_array()).cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|r| r.get("path").and_then(|p| p.as_str()).map(str::to_string))
            .collect()
    }

    fn docs() -> (tempfile::TempDir, LiveDocs) {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..4 {
            std::fs::write(
                dir.path().join(format!("p{i}.md")),
                "# Buttons\n\nButtons do things.\n\n## More buttons\n\nButtons again.\n\n## Even more\n\nButtons!\n",
            )
            .unwrap();
        }
        let index = DocsIndex::build(dir.path(), None).unwrap();
        let live = LiveDocs::new(index, dir.path().to_path_buf(), None);
        (dir, live)
    }

    fn call(name: &str, arguments: &str) -> ToolCall {
        ToolCall {
            id: "c1".into(),
            name: name.into(),
            arguments: arguments.into(),
        }
    }

    #[tokio::test]
    async fn searches_with_at_most_two_sections_per_page() {
        let (_dir, docs) = docs();
        let out = execute(&call(GET_RELEVANT_DOCS, r#"{"query":"buttons"}"#), &docs).await;
        let paths = result_paths(&out);
        assert_eq!(paths.len(), 5);
        for p in &paths {
            assert!(paths.iter().filter(|q| *q == p).count() <= 2);
        }
        // Each result says where it is in its page.
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let trails: Vec<&str> = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["section"].as_str().unwrap())
            .collect();
        assert!(
            trails.iter().all(|t| t.starts_with("Buttons")),
            "{trails:?}"
        );
        assert!(trails.contains(&"Buttons › More buttons"), "{trails:?}");
    }

    #[tokio::test]
    async fn long_queries_are_cut_to_500_characters() {
        let (_dir, docs) = docs();
        let long = format!("buttons {}", "x".repeat(2_000));
        let args = serde_json::json!({ "query": long }).to_string();
        let out: serde_json::Value =
            serde_json::from_str(&execute(&call(GET_RELEVANT_DOCS, &args), &docs).await).unwrap();
        assert_eq!(out["query"].as_str().unwrap().chars().count(), 500);
        assert!(!out["results"].as_array().unwrap().is_empty(), "{out}");
    }

    #[tokio::test]
    async fn bad_calls_get_an_error_output() {
        let (_dir, docs) = docs();
        for (name, args, expect) in [
            (GET_RELEVANT_DOCS, "{not json", "not valid JSON"),
            (GET_RELEVANT_DOCS, "{}", "missing"),
            ("delete_everything", "{}", "unknown tool"),
        ] {
            let out: serde_json::Value =
                serde_json::from_str(&execute(&call(name, args), &docs).await).unwrap();
            assert!(out["error"].as_str().unwrap().contains(expect), "{out}");
        }
    }
}
