//! The OpenAI chat-completions wire format (apis.md §1.2), which OpenRouter, vLLM, SGLang and
//! LM Studio also speak.

use neglect_spec::chat::{ChatCompletion, ChatRequest};
use serde_json::{Value, json};

use crate::config::Endpoint;
use crate::{Reply, Usage};

/// The request body for one sample. The sample's seed is sent (best-effort determinism; it
/// also keeps the samples of one question apart in server-side caches), folded into 31 bits
/// because some servers reject larger integers.
pub fn request_body(endpoint: &Endpoint, request: &ChatRequest) -> Value {
    let messages: Vec<Value> = request
        .messages
        .iter()
        .map(|m| json!({ "role": m.role, "content": m.content }))
        .collect();
    let mut body = json!({
        "model": endpoint.model,
        "messages": messages,
        "temperature": request.sampling.temperature,
        "top_p": request.sampling.top_p,
        "seed": request.seed % (1 << 31),
        "n": 1,
    });
    let map = body.as_object_mut().expect("an object");
    map.insert(
        endpoint.max_tokens_field().to_owned(),
        json!(request.sampling.max_tokens),
    );
    if let Some(schema) = &request.json_schema {
        map.insert(
            "response_format".into(),
            json!({"type": "json_schema",
                   "json_schema": {"name": schema.name, "strict": true, "schema": schema.schema}}),
        );
    }
    endpoint.add_extra_body(&mut body);
    body
}

/// One choice's text and finish reason.
fn parse_choice(choice: &Value, i: usize) -> Result<ChatCompletion, String> {
    let message = choice
        .get("message")
        .ok_or_else(|| format!("the response has no choices[{i}].message"))?;
    let text = match message.get("content") {
        Some(Value::String(s)) => s.clone(),
        // A refusal, or a reasoning model that spent its budget thinking.
        Some(Value::Null) | None => match message.get("refusal").and_then(|r| r.as_str()) {
            Some(refusal) => refusal.to_owned(),
            None => String::new(),
        },
        Some(other) => return Err(format!("choices[{i}].message.content is {other}, not text")),
    };
    let finish_reason = choice
        .get("finish_reason")
        .and_then(|f| f.as_str())
        .unwrap_or("unknown")
        .to_owned();
    Ok(ChatCompletion {
        text,
        finish_reason,
    })
}

/// The choices' texts (the first in `completion`, any others in `extra_choices`, in their
/// `index` order) and the usage; an error says what is missing.
pub fn parse_response(body: &str) -> Result<Reply, String> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| format!("the response is not JSON ({e})"))?;
    let mut choices: Vec<&Value> = value
        .get("choices")
        .and_then(Value::as_array)
        .map(|c| c.iter().collect())
        .unwrap_or_default();
    if choices.is_empty() {
        return Err("the response has no choices[0]".into());
    }
    choices.sort_by_key(|c| c.get("index").and_then(Value::as_u64).unwrap_or(0));
    let mut parsed = choices
        .iter()
        .enumerate()
        .map(|(i, c)| parse_choice(c, i))
        .collect::<Result<Vec<_>, _>>()?;
    let extra_choices = parsed.split_off(1);
    let first = parsed.pop().expect("one choice");
    // choices[0].logprobs.content: [{token, logprob, top_logprobs: [{token, logprob}]}]
    let token_logprobs = choices[0]
        .pointer("/logprobs/content")
        .and_then(Value::as_array)
        .map(|tokens| {
            tokens
                .iter()
                .map(|t| crate::TokenLogprob {
                    token: t["token"].as_str().unwrap_or("").to_owned(),
                    logprob: t["logprob"].as_f64().unwrap_or(f64::NEG_INFINITY),
                    top: t["top_logprobs"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| {
                            (
                                a["token"].as_str().unwrap_or("").to_owned(),
                                a["logprob"].as_f64().unwrap_or(f64::NEG_INFINITY),
                            )
                        })
                        .collect(),
                })
                .collect()
        });
    let usage = Usage::at(&value, "/usage/prompt_tokens", "/usage/completion_tokens");
    // vLLM: one entry per prompt token (null for the first), each a map from token id to
    // {logprob, rank, decoded_token}; asked with prompt_logprobs = 0, the map holds the prompt
    // token alone.
    let prompt_logprobs = value
        .get("prompt_logprobs")
        .and_then(Value::as_array)
        .map(|tokens| {
            tokens
                .iter()
                .filter_map(|t| t.as_object()?.values().next().cloned())
                .map(|t| {
                    (
                        t["decoded_token"].as_str().unwrap_or("").to_owned(),
                        t["logprob"].as_f64().unwrap_or(f64::NEG_INFINITY),
                    )
                })
                .collect()
        });
    Ok(Reply {
        completion: first,
        usage,
        prompt_logprobs,
        extra_choices,
        token_logprobs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Provider;
    use neglect_spec::chat::Sampling;
    use neglect_spec::questions::ChatMessage;

    fn request() -> ChatRequest {
        ChatRequest {
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
            seed: (1 << 40) + 7,
            json_schema: None,
        }
    }

    #[test]
    fn bodies_carry_every_sampling_parameter() {
        let mut endpoint = Endpoint::new(Provider::OpenAi, "gpt-4.1-mini");
        endpoint
            .extra_body
            .insert("top_k".into(), serde_json::json!(20));
        let body = request_body(&endpoint, &request());
        assert_eq!(body["model"], "gpt-4.1-mini");
        assert_eq!(body["messages"][0]["role"], "system");
        assert_eq!(body["temperature"], 0.7);
        assert_eq!(body["top_p"], 0.8);
        assert_eq!(body["seed"], 7);
        assert_eq!(body["max_completion_tokens"], 64);
        assert_eq!(body["top_k"], 20);
        let local = endpoint.with_base_url("http://localhost:8000/v1/");
        assert_eq!(local.url(), "http://localhost:8000/v1/chat/completions");
        assert_eq!(request_body(&local, &request())["max_tokens"], 64);
    }

    #[test]
    fn responses_parse_and_malformed_ones_say_why() {
        let body = r#"{"id":"c","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Yes."}}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}"#;
        let reply = parse_response(body).unwrap();
        assert_eq!(reply.completion.text, "Yes.");
        assert_eq!(reply.completion.finish_reason, "stop");
        assert_eq!(
            reply.usage,
            Usage {
                input_tokens: 12,
                output_tokens: 3
            }
        );
        assert!(
            parse_response(&body[..40])
                .unwrap_err()
                .contains("not JSON")
        );
        assert!(
            parse_response(r#"{"choices":[]}"#)
                .unwrap_err()
                .contains("choices[0]")
        );
    }
}
