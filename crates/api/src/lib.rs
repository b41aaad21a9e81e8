//! Hosted and served models over HTTP, behind the same `ChatModel` seam as the local engine.
//!
//! - [`config`]: one endpoint (provider, base URL, model id, key variable, limits).
//! - [`secret`]: API keys, read from the environment only and never printed.
//! - [`retry`]: which failures are retried and how long to wait (the official SDKs' rules).
//! - [`limiter`]: the in-flight limit, shared by every model on the same endpoint.
//! - [`openai`], [`anthropic`]: request bodies and response parsing of each wire format.
//! - [`cache`]: the SQLite response cache; a re-run never pays for the same call twice.
//! - [`ledger`]: tokens and cost of every call, prices, the budget cap.
//! - [`client`]: [`client::HttpChatModel`], which ties these together.
//! - [`session`]: the ledger and cache one command or run shares between its models.
//! - [`together`]: hosted fine-tuning on Together (upload, job, poll, events).
//! - [`mock`]: a local server speaking both wire formats with injected faults, for tests and
//!   benchmarks.

pub mod anthropic;
pub mod cache;
pub mod client;
pub mod config;
pub mod ledger;
pub mod limiter;
pub mod mock;
pub mod openai;
pub mod retry;
pub mod secret;
pub mod session;
pub mod together;

pub use client::HttpChatModel;
pub use config::{Endpoint, Provider};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A setting is wrong or missing (a key variable not set, a bad price table...).
    #[error("{0}")]
    Config(String),
    /// The cache or ledger database could not be used.
    #[error("{0}")]
    Storage(String),
}

/// Tokens one call used, as the provider reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

impl Usage {
    /// The counts at two JSON pointers of a response body (0 where absent).
    pub(crate) fn at(value: &serde_json::Value, input: &str, output: &str) -> Usage {
        let count = |p: &str| value.pointer(p).and_then(|v| v.as_u64()).unwrap_or(0);
        Usage {
            input_tokens: count(input),
            output_tokens: count(output),
        }
    }
}

/// A parsed answer.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reply {
    pub completion: neglect_spec::chat::ChatCompletion,
    pub usage: Usage,
    /// vLLM's `prompt_logprobs`, when asked for: (decoded token, log-probability) of every
    /// prompt token after the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_logprobs: Option<Vec<(String, f64)>>,
    /// Choices after the first, when the call asked for `n > 1` (never cached: each choice
    /// is cached as its own reply).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_choices: Vec<neglect_spec::chat::ChatCompletion>,
    /// The first choice's tokens with their log-probabilities and the most likely
    /// alternatives, when the call asked for `logprobs` / `top_logprobs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_logprobs: Option<Vec<TokenLogprob>>,
}

/// One generated token, its log-probability, and the `top_logprobs` alternatives at its
/// position (the token itself among them).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TokenLogprob {
    pub token: String,
    pub logprob: f64,
    pub top: Vec<(String, f64)>,
}
