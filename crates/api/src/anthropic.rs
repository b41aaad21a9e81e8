//! The Anthropic Messages wire format (apis.md §2). `anthropic-version: 2023-06-01` is sent
//! because later versions reject `temperature`, which the paper's sampling needs.

use neglect_spec::chat::{ChatCompletion, ChatRequest};
use serde_json::{Value, json};

use crate::config::Endpoint;
use crate::{Reply, Usage};

pub const API_VERSION: &str = "2023-06-01";

/// The request body for one sample. System messages move to the top-level `system` field.
/// `top_p` is sent only below 1, since recent models refuse `temperature` and `top_p`
/// together. The API has no seed.
pub fn request_body(endpoint: &Endpoint, request: &ChatRequest) -> Value {
    let system: Vec<&str> = request
        .messages
        .iter()
        .filter(|m| m.role == "system")
        .map(|m| m.content.as_str())
        .collect();
    let messages: Vec<Value> = request
        .messages
        .iter()
        .filter(|m| m.role != "system")
        .map(|m| json!({ "role": m.role, "content": m.content }))
        .collect();
    let mut body = json!({
        "model": endpoint.model,
        "max_tokens": request.sampling.max_tokens,
        "messages": messages,
        "temperature": request.sampling.temperature.min(1.0),
    });
    let map = body.as_object_mut().expect("an object");
    if !system.is_empty() {
        map.insert("system".into(), json!(system.join("\n\n")));
    }
    if request.sampling.top_p < 1.0 {
        map.insert("top_p".into(), json!(request.sampling.top_p));
    }
    if let Some(schema) = &request.json_schema {
        map.insert(
            "output_config".into(),
            json!({"format": {"type": "json_schema", "schema": schema.schema}}),
        );
    }
    endpoint.add_extra_body(&mut body);
    body
}

/// The text blocks joined (thinking blocks dropped) and the usage.
pub fn parse_response(body: &str) -> Result<Reply, String> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| format!("the response is not JSON ({e})"))?;
    let blocks = value
        .get("content")
        .and_then(|c| c.as_array())
        .ok_or("the response has no content array")?;
    let text: String = blocks
        .iter()
        .filter(|b| b.get("type").and_then(|t| t.as_str()) == Some("text"))
        .filter_map(|b| b.get("text").and_then(|t| t.as_str()))
        .collect();
    let finish_reason = match value.get("stop_reason").and_then(|s| s.as_str()) {
        Some("end_turn") | Some("stop_sequence") => "stop",
        Some("max_tokens") => "length",
        Some(other) => other,
        None => return Err("the response has no stop_reason".into()),
    }
    .to_owned();
    let usage = Usage::at(&value, "/usage/input_tokens", "/usage/output_tokens");
    Ok(Reply {
        completion: ChatCompletion {
            text,
            finish_reason,
        },
        usage,
        prompt_logprobs: None,
        extra_choices: Vec::new(),
        token_logprobs: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Provider;
    use neglect_spec::chat::Sampling;
    use neglect_spec::questions::ChatMessage;

    #[test]
    fn system_moves_up_and_top_p_only_when_set() {
        let endpoint = Endpoint::new(Provider::Anthropic, "claude-sonnet-4-6");
        let mut request = ChatRequest {
            messages: vec![
                ChatMessage {
                    role: "system".into(),
                    content: "Be brief.".into(),
                },
                ChatMessage {
                    role: "user".into(),
                    content: "Who won?".into(),
                },
            ],
            sampling: Sampling::paper(64),
            seed: 3,
            json_schema: None,
        };
        let body = request_body(&endpoint, &request);
        assert_eq!(body["system"], "Be brief.");
        assert_eq!(body["messages"].as_array().unwrap().len(), 1);
        assert_eq!(body["top_p"], 0.8);
        assert_eq!(body["max_tokens"], 64);
        request.sampling.top_p = 1.0;
        assert!(request_body(&endpoint, &request).get("top_p").is_none());
        assert_eq!(endpoint.url(), "https://api.anthropic.com/v1/messages");
    }

    #[test]
    fn thinking_blocks_are_dropped() {
        let body = r#"{"id":"m","type":"message","role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"text","text":"No."}],"stop_reason":"end_turn","usage":{"input_tokens":9,"output_tokens":2}}"#;
        let reply = parse_response(body).unwrap();
        assert_eq!(reply.completion.text, "No.");
        assert_eq!(reply.completion.finish_reason, "stop");
        assert_eq!(reply.usage.output_tokens, 2);
        assert!(parse_response(r#"{"content":[{"type":"text","text":"x"}]}"#).is_err());
    }
}
