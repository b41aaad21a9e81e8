//! The `ChatModel` seam: anything that answers conversations. The local engine implements it
//! (`neglect_lm::chat_model`), the HTTP backends do too, and the eval runner, the LLM judge and
//! LLM-driven annotation only ever see this trait.

use serde::{Deserialize, Serialize};

use crate::questions::ChatMessage;

/// How to sample one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// 0 = greedy.
    pub temperature: f64,
    pub top_p: f64,
    pub max_tokens: usize,
}

impl Sampling {
    /// The paper's answer sampling (reference §5.1), with our local default length.
    pub fn paper(max_tokens: usize) -> Sampling {
        Sampling {
            temperature: 0.7,
            top_p: 0.8,
            max_tokens,
        }
    }
}

/// One conversation to answer. `seed` makes a sample reproducible where the backend allows it
/// (the local engine always; hosted APIs when they accept a seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub messages: Vec<ChatMessage>,
    pub sampling: Sampling,
    pub seed: u64,
    /// Ask for a JSON object following this schema (structured outputs where the backend
    /// enforces them; the prompt should describe the object too, for backends that do not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<JsonSchema>,
}

/// A named JSON schema for structured outputs. Every object in it should set
/// `"additionalProperties": false` and list all its properties as required (OpenAI strict mode
/// and Anthropic both ask for that).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonSchema {
    pub name: String,
    pub schema: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletion {
    pub text: String,
    /// `stop`, `length`, ... as the backend reports it.
    pub finish_reason: String,
}

/// A continuation to score after a conversation (rendered with the generation prompt).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreItem {
    pub messages: Vec<ChatMessage>,
    pub continuation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// The request could not be answered (network, server, model error).
    #[error("{0}")]
    Failed(String),
    /// The backend cannot do this at all (e.g. log-probabilities from a chat-only API).
    #[error("not supported by this model: {0}")]
    Unsupported(String),
}

/// Anything that answers conversations.
pub trait ChatModel: Send + Sync {
    /// A stable name for results tables and caches (a path or a hosted model id).
    fn id(&self) -> &str;

    /// Answers every request. Backends batch or parallelise as they can; one request failing
    /// does not fail the others. `on_done(i)` is called as request `i` finishes, for progress.
    fn generate(
        &self,
        requests: &[ChatRequest],
        on_done: &mut dyn FnMut(usize),
    ) -> Vec<Result<ChatCompletion, ChatError>>;

    /// As [`ChatModel::generate`], and `after_each(i, result)` runs as soon as request `i` is
    /// answered, on the thread that answered it, before `on_done(i)`. A concurrent backend
    /// thereby lets the caller start follow-up work (judging) while other requests are still in
    /// flight. The default answers everything first, then calls `after_each` in order.
    fn generate_with(
        &self,
        requests: &[ChatRequest],
        on_done: &mut dyn FnMut(usize),
        after_each: &(dyn Fn(usize, &Result<ChatCompletion, ChatError>) + Sync),
    ) -> Vec<Result<ChatCompletion, ChatError>> {
        let results = self.generate(requests, on_done);
        for (i, r) in results.iter().enumerate() {
            after_each(i, r);
        }
        results
    }

    /// True when requests run concurrently and independently (a hosted API) rather than in
    /// batches (a local model, where one request at a time wastes the batch).
    fn answers_concurrently(&self) -> bool {
        false
    }

    /// Natural-log probability of each continuation, summed over its tokens.
    fn score(&self, items: &[ScoreItem]) -> Result<Vec<f64>, ChatError> {
        let _ = items;
        Err(ChatError::Unsupported("log-probability scoring".into()))
    }

    /// Tokens in `text` under the model's tokenizer, when the backend knows it.
    fn count_tokens(&self, text: &str) -> Option<usize> {
        let _ = text;
        None
    }

    /// Tokens of the prompt the model is given for `messages` (chat template applied, ready
    /// for the answer), when the backend knows its template and tokenizer.
    fn count_prompt_tokens(&self, messages: &[ChatMessage]) -> Option<usize> {
        let _ = messages;
        None
    }

    /// The context window in tokens, when known.
    fn context_window(&self) -> Option<usize> {
        None
    }
}

/// The JSON object in a model's answer (structured outputs, read leniently): the whole text, or inside a code fence, or from the
/// first `{` to the last `}`.
pub fn json_object(text: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let text = text.trim();
    let unfenced = text
        .strip_prefix("```json")
        .or_else(|| text.strip_prefix("```"))
        .and_then(|t| t.trim_end().strip_suffix("```"))
        .unwrap_or(text);
    let parsed = serde_json::from_str::<serde_json::Value>(unfenced.trim())
        .ok()
        .or_else(|| {
            let start = unfenced.find('{')?;
            let end = unfenced.rfind('}')?;
            serde_json::from_str::<serde_json::Value>(unfenced.get(start..=end)?).ok()
        });
    match parsed? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

#[cfg(test)]
mod json_tests {
    use super::*;

    #[test]
    fn json_objects_are_found_in_fences_and_prose() {
        let plain = json_object("{\"a\": 1}").unwrap();
        assert_eq!(plain["a"], 1);
        let fenced = json_object("```json\n{\"a\": 2}\n```").unwrap();
        assert_eq!(fenced["a"], 2);
        let prose = json_object("Here it is: {\"a\": 3} — done").unwrap();
        assert_eq!(prose["a"], 3);
        assert!(json_object("[1, 2]").is_none());
        assert!(json_object("no json").is_none());
    }
}
