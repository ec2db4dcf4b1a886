use serde_json::{Value, json};

use super::wire::*;
use super::*;
use crate::models::{ToolCall, Usage};

fn tool_calls_of(text: &str) -> Vec<ToolCall> {
    match parse_completion(text).unwrap().reply {
        Reply::ToolCalls(c) => c,
        other => panic!("expected tool calls, got {other:?}"),
    }
}

#[test]
fn reads_openais_tool_calls_and_usage() {
    let c = parse_completion(r#"{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_abc123","type":"function","function":{"name":"get_relevant_docs","arguments":"{\n\"query\": \"buttons\"\n}"}}],"refusal":null},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":82,"completion_tokens":17,"total_tokens":99}}"#).unwrap();
    assert_eq!(
        c.usage,
        Usage {
            prompt_tokens: 82,
            completion_tokens: 17,
            total_tokens: 99
        }
    );
    let Reply::ToolCalls(calls) = c.reply else {
        panic!()
    };
    assert_eq!(calls[0].id, "call_abc123");
    let args: Value = serde_json::from_str(&calls[0].arguments).unwrap();
    assert_eq!(args["query"], "buttons");
}

#[test]
fn reads_ollamas_parallel_calls_with_empty_content() {
    let calls = tool_calls_of(
        r#"{"id":"chatcmpl-417","choices":[{"index":0,"message":{"role":"assistant","content":"","tool_calls":[{"id":"call_lyywui55","index":0,"type":"function","function":{"name":"get_relevant_docs","arguments":"{\"query\":\"a\"}"}},{"id":"call_0scw2dos","index":1,"type":"function","function":{"name":"get_relevant_docs","arguments":"{\"query\":\"b\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":180,"completion_tokens":40,"total_tokens":220}}"#,
    );
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].id, "call_0scw2dos");
}

#[test]
fn reads_ollamas_native_shape_without_ids_and_with_object_arguments() {
    let calls = tool_calls_of(
        r#"{"choices":[{"message":{"role":"assistant","tool_calls":[{"function":{"index":0,"name":"get_relevant_docs","arguments":{"query":"Paris"}}},{"function":{"index":1,"name":"get_relevant_docs","arguments":{"query":"London"}}}]}}]}"#,
    );
    assert_eq!(calls.len(), 2);
    assert!(!calls[0].id.is_empty() && calls[0].id != calls[1].id);
    let args: Value = serde_json::from_str(&calls[0].arguments).unwrap();
    assert_eq!(args["query"], "Paris");
}

#[test]
fn reads_vllm_llama_cpp_and_lm_studio_shapes() {
    let vllm = tool_calls_of(
        r#"{"choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":null,"tool_calls":[{"id":"chatcmpl-tool-ba26764988bf8aa9","type":"function","function":{"name":"get_relevant_docs","arguments":"{\"query\": \"Paris\"}"}}],"reasoning":null},"finish_reason":"tool_calls","stop_reason":null}],"usage":{"prompt_tokens":210,"total_tokens":232,"completion_tokens":22,"prompt_tokens_details":null}}"#,
    );
    assert_eq!(vllm[0].id, "chatcmpl-tool-ba26764988bf8aa9");
    let llama = tool_calls_of(
        r#"{"choices":[{"finish_reason":"tool_calls","index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"type":"function","function":{"name":"get_relevant_docs","arguments":"{\"query\":\"Paris\"}"},"id":"Kq3vO8mZ1rT5yWb7nD2fH9jL4pS6uX0c"}]}}],"timings":{"prompt_n":180}}"#,
    );
    assert_eq!(llama[0].id, "Kq3vO8mZ1rT5yWb7nD2fH9jL4pS6uX0c");
    let lm = tool_calls_of(
        r#"{"choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","tool_calls":[{"id":"365174485","type":"function","function":{"name":"get_relevant_docs","arguments":""}}]}}],"stats":{}}"#,
    );
    assert_eq!(lm[0].id, "365174485");
    assert_eq!(lm[0].arguments, "{}");
    let dup = tool_calls_of(
        r#"{"choices":[{"message":{"tool_calls":[{"id":"x","function":{"name":"a","arguments":"{}"}},{"id":"x","function":{"name":"b","arguments":"{}"}}]}}]}"#,
    );
    assert_ne!(dup[0].id, dup[1].id);
}

#[test]
fn plain_answers_with_empty_tool_call_lists_are_answers_without_usage_too() {
    for body in [
        r#"{"choices":[{"message":{"role":"assistant","content":"Hello","tool_calls":[]},"finish_reason":"stop"}]}"#,
        r#"{"choices":[{"message":{"role":"assistant","content":"Hello","tool_calls":null}}]}"#,
        r#"{"choices":[{"message":{"role":"assistant","content":[{"type":"text","text":"Hello"}]}}]}"#,
    ] {
        let c = parse_completion(body).unwrap();
        assert_eq!(c.reply, Reply::Answer("Hello".into()));
        assert_eq!(c.usage, Usage::default());
    }
}

#[test]
fn malformed_or_error_bodies_fail_with_a_clear_message() {
    for (body, expect) in [
        ("not json", "not JSON"),
        ("", "not JSON"),
        (
            r#"{"error":"Unexpected endpoint or method. (POST /chat/completions)"}"#,
            "Unexpected endpoint",
        ),
        (r#"{"choices":[]}"#, "no choices[0].message"),
        (
            r#"{"choices":[{"message":"text"}]}"#,
            "no choices[0].message",
        ),
        (
            r#"{"choices":[{"message":{"content":""},"finish_reason":"length"}]}"#,
            "empty answer",
        ),
    ] {
        match parse_completion(body) {
            Err(ModelError::Fatal(m)) => assert!(m.contains(expect), "{body}: {m}"),
            other => panic!("{body}: {other:?}"),
        }
    }
}

#[test]
fn statuses_sort_into_retryable_and_fatal() {
    let e = status_error(
        StatusCode::UNAUTHORIZED,
        r#"{"error":{"code":401,"message":"Invalid API Key","type":"authentication_error"}}"#,
        None,
    );
    assert!(
        matches!(&e, ModelError::Fatal(m) if m.contains("OPENAI_API_KEY") && m.contains("Invalid API Key"))
    );
    assert!(matches!(
        status_error(
            StatusCode::UNAUTHORIZED,
            r#"{"error":"Unauthorized"}"#,
            None
        ),
        ModelError::Fatal(_)
    ));
    assert!(
        matches!(status_error(StatusCode::NOT_FOUND, "{}", None), ModelError::Fatal(m) if m.contains("OPENAI_MODEL"))
    );
    let quota = r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#;
    assert!(matches!(
        status_error(StatusCode::TOO_MANY_REQUESTS, quota, None),
        ModelError::Fatal(_)
    ));
    let wait = Some(Duration::from_secs(2));
    assert!(
        matches!(status_error(StatusCode::TOO_MANY_REQUESTS, "{}", wait), ModelError::Retryable { retry_after, .. } if retry_after == wait)
    );
    for s in [500, 502, 503] {
        assert!(matches!(
            status_error(StatusCode::from_u16(s).unwrap(), "busy", None),
            ModelError::Retryable { .. }
        ));
    }
    assert!(matches!(
        status_error(StatusCode::BAD_REQUEST, "{}", None),
        ModelError::Fatal(_)
    ));
}

/// The refusals servers send for `tools` they do not take, as recorded; and refusals of
/// something else, which are errors.
#[test]
fn refusals_of_tools_are_told_from_other_refusals() {
    let bad = StatusCode::BAD_REQUEST;
    for body in [
        r#"{"error":{"message":"registry.ollama.ai/library/gemma:2b does not support tools","type":"api_error","param":null,"code":null}}"#,
        r#"{"error":{"message":"\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set","type":"BadRequestError","param":null,"code":400}}"#,
        r#"{"error":{"code":400,"message":"tools param requires --jinja flag","type":"invalid_request_error"}}"#,
    ] {
        assert!(refuses_tools(bad, body), "{body}");
        assert!(
            refuses_tools(StatusCode::UNPROCESSABLE_ENTITY, body),
            "{body}"
        );
    }
    for (status, body) in [
        (bad, r#"{"error":{"message":"messages: too long"}}"#),
        (bad, r#"{"error":{"message":"Invalid tool call id"}}"#),
        (
            StatusCode::UNAUTHORIZED,
            r#"{"error":"tools are not supported without a key"}"#,
        ),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"error":"model does not support tools"}"#,
        ),
    ] {
        assert!(!refuses_tools(status, body), "{status} {body}");
    }
}

#[test]
fn requests_carry_the_conversation_and_tools_in_openais_shape() {
    let m = wire_message(&ChatMessage::Assistant {
        content: None,
        tool_calls: vec![ToolCall {
            id: "c1".into(),
            name: "get_relevant_docs".into(),
            arguments: "{}".into(),
        }],
    });
    assert_eq!(m["tool_calls"][0]["function"]["name"], "get_relevant_docs");
    assert_eq!(m["content"], "");
    let t = wire_message(&ChatMessage::Tool {
        call_id: "c1".into(),
        content: "{}".into(),
    });
    assert_eq!(
        t,
        json!({"role": "tool", "tool_call_id": "c1", "content": "{}"})
    );
}
