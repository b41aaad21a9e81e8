//! One HTTP endpoint: which wire format, where, which model, which key, and the limits.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ApiError;

/// The wire format. `OpenAi` is every OpenAI-compatible server: OpenAI, OpenRouter, vLLM,
/// SGLang, LM Studio, Tinker's OpenAI-compatible endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    #[serde(rename = "openai")]
    OpenAi,
    Anthropic,
}

impl Provider {
    pub fn parse(name: &str) -> Option<Provider> {
        match name {
            "openai" => Some(Provider::OpenAi),
            "anthropic" => Some(Provider::Anthropic),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
        }
    }

    pub fn default_base_url(self) -> &'static str {
        match self {
            Provider::OpenAi => "https://api.openai.com/v1",
            Provider::Anthropic => "https://api.anthropic.com",
        }
    }

    /// The variable read for the key when none is named.
    pub fn default_key_env(self) -> &'static str {
        match self {
            Provider::OpenAi => "OPENAI_API_KEY",
            Provider::Anthropic => "ANTHROPIC_API_KEY",
        }
    }
}

/// Everything that decides how calls to one model are made.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub provider: Provider,
    /// Without a trailing slash: `https://api.openai.com/v1`, `http://localhost:8000/v1`,
    /// `https://api.anthropic.com`.
    pub base_url: String,
    pub model: String,
    /// The environment variable holding the key. `None`: the provider's usual variable if it
    /// is set, else no key (a local server).
    pub api_key_env: Option<String>,
    /// Calls in flight at once to this base URL, across every model using it.
    pub max_in_flight: usize,
    /// Per attempt, from connecting to the last byte.
    pub timeout: Duration,
    /// Retries of rate limits, server errors, timeouts and dropped connections.
    pub max_retries: usize,
    /// Retries of a 2xx response whose body cannot be read (cut JSON, missing fields).
    pub max_malformed_retries: usize,
    /// First backoff delay; doubled per retry up to 8 s, with jitter (the OpenAI SDK's rule).
    pub backoff_base: Duration,
    /// Extra JSON fields merged into every request body (vLLM `top_k`, OpenRouter `provider`,
    /// `chat_template_kwargs`, ...).
    pub extra_body: serde_json::Map<String, serde_json::Value>,
    /// Extra headers (not secrets: those come only from `api_key_env`).
    pub headers: Vec<(String, String)>,
    /// OpenAI-compatible: the name of the length field. `max_completion_tokens` for OpenAI
    /// itself, `max_tokens` elsewhere, unless set.
    pub max_tokens_field: Option<String>,
    /// Score continuations through vLLM's `prompt_logprobs` (with `continue_final_message`),
    /// which makes the judge-free log-prob metric work on served models. Off: scoring is
    /// unsupported, as for OpenAI itself.
    pub prompt_logprobs: bool,
    /// Score continuations from the `top_logprobs` of a greedy answer (OpenAI chat models
    /// that return log-probabilities, vLLM): exact where a continuation leaves the greedy
    /// answer at one token (yes / no), an estimate otherwise (see `HttpChatModel::score`).
    pub top_logprobs: bool,
    /// OpenAI-compatible: requests that differ only in their seed (the samples of one
    /// question) go out as one call asking for up to this many choices (`n`), paying for the
    /// prompt once. Each choice is cached under its own request, so a re-run with any value
    /// reuses them. 1: one call per sample.
    pub samples_per_call: usize,
}

impl Endpoint {
    pub fn new(provider: Provider, model: &str) -> Endpoint {
        Endpoint {
            provider,
            base_url: provider.default_base_url().to_owned(),
            model: model.to_owned(),
            api_key_env: None,
            max_in_flight: 16,
            timeout: Duration::from_secs(600),
            max_retries: 8,
            max_malformed_retries: 2,
            backoff_base: Duration::from_millis(500),
            extra_body: serde_json::Map::new(),
            headers: Vec::new(),
            max_tokens_field: None,
            prompt_logprobs: false,
            top_logprobs: false,
            samples_per_call: 1,
        }
    }

    pub fn with_base_url(mut self, url: &str) -> Endpoint {
        self.base_url = url.trim_end_matches('/').to_owned();
        self
    }

    pub fn validate(&self) -> Result<(), ApiError> {
        if self.model.trim().is_empty() {
            return Err(ApiError::Config("the model id is empty".into()));
        }
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(ApiError::Config(format!(
                "base URL '{}' must start with http:// or https://",
                self.base_url
            )));
        }
        if self.max_in_flight == 0 {
            return Err(ApiError::Config("max_in_flight must be at least 1".into()));
        }
        if self.timeout.is_zero() {
            return Err(ApiError::Config("the timeout must be positive".into()));
        }
        Ok(())
    }

    /// The URL requests are posted to.
    pub fn url(&self) -> String {
        match self.provider {
            Provider::OpenAi => format!("{}/chat/completions", self.base_url),
            Provider::Anthropic => format!("{}/v1/messages", self.base_url),
        }
    }

    /// Merges `extra_body` into a request body (its fields win).
    pub fn add_extra_body(&self, body: &mut serde_json::Value) {
        if let Some(map) = body.as_object_mut() {
            for (k, v) in &self.extra_body {
                map.insert(k.clone(), v.clone());
            }
        }
    }

    pub fn max_tokens_field(&self) -> &str {
        match &self.max_tokens_field {
            Some(f) => f,
            None if self.base_url.contains("api.openai.com") => "max_completion_tokens",
            None => "max_tokens",
        }
    }
}
