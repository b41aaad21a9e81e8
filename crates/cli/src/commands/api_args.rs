//! Flags shared by commands that can talk to hosted or served models, and building
//! `HttpChatModel`s from them with the response cache and the cost ledger.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use neglect_api::client::CallStats;
use neglect_api::session::Session;
use neglect_api::{Endpoint, HttpChatModel, Provider};

/// Where a model lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendChoice {
    /// A local Hugging Face model directory.
    Hf,
    /// Any OpenAI-compatible server: OpenAI, OpenRouter, vLLM, SGLang, LM Studio.
    Openai,
    /// The Anthropic Messages API.
    Anthropic,
}

impl BackendChoice {
    pub fn provider(self) -> Option<Provider> {
        match self {
            BackendChoice::Hf => None,
            BackendChoice::Openai => Some(Provider::OpenAi),
            BackendChoice::Anthropic => Some(Provider::Anthropic),
        }
    }
}

#[derive(Args, Clone, Debug)]
pub struct ApiArgs {
    /// Where --model lives: hf (a local directory), openai (an OpenAI-compatible server; then
    /// --model is the model id) or anthropic.
    #[arg(long, value_enum, default_value = "hf")]
    pub backend: BackendChoice,
    /// The server's base URL (default: the provider's own API; e.g. http://localhost:8000/v1
    /// for vLLM).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// The environment variable that holds the API key (default: OPENAI_API_KEY or
    /// ANTHROPIC_API_KEY when set, else no key). Keys are never read from flags or files.
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// Calls in flight at once per base URL (the judge on the same URL shares them).
    #[arg(long, default_value_t = 16)]
    pub max_in_flight: usize,
    /// Seconds allowed per attempt.
    #[arg(long, default_value_t = 600)]
    pub request_timeout: u64,
    /// Retries per call (rate limits, 5xx, timeouts, dropped connections).
    #[arg(long, default_value_t = 8)]
    pub max_retries: usize,
    /// OpenAI-compatible servers: send the samples of one question as one call asking for up
    /// to this many choices (`n`), paying for the prompt once. Each sample is still cached on
    /// its own, so changing this never repays.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub samples_per_call: u64,
    /// A JSON object merged into every request body, e.g. '{"top_k": 20}' for vLLM.
    #[arg(long, value_name = "JSON")]
    pub extra_body: Option<String>,
    /// A price table (TOML, `[models."ID"] input_per_mtok/output_per_mtok`) for the ledger.
    #[arg(long, value_name = "TOML")]
    pub prices: Option<PathBuf>,
    /// Stop before the spend in this output's ledger would pass this many USD (needs a price
    /// for every model called).
    #[arg(long, value_name = "USD")]
    pub max_cost: Option<f64>,
    /// Score continuations (the judge-free log-prob metric) through vLLM's prompt_logprobs;
    /// other servers cannot score them, and the metric is then skipped.
    #[arg(long, conflicts_with = "score_via_top_logprobs")]
    pub score_via_prompt_logprobs: bool,
    /// Score continuations from the top_logprobs of a greedy answer (OpenAI chat models that
    /// return log-probabilities, vLLM): exact for yes/no answers, an upper bound for longer
    /// ones.
    #[arg(long)]
    pub score_via_top_logprobs: bool,
}

/// The ledger and cache one command shares between its models.
pub struct ApiContext {
    pub session: Session,
}

impl ApiContext {
    /// The ledger lives in `out/api_ledger.sqlite`, the cache in
    /// `cache_dir/api/responses.sqlite` (none with `no_cache`).
    pub fn open(
        args: &ApiArgs,
        out: &Path,
        cache_dir: &Path,
        no_cache: bool,
    ) -> anyhow::Result<ApiContext> {
        if args.max_cost.is_some() && args.prices.is_none() {
            bail!("--max-cost needs --prices (a price for every model called)");
        }
        let session = Session::open(
            out,
            (!no_cache).then_some(cache_dir),
            args.prices.as_deref(),
            args.max_cost,
        )?;
        Ok(ApiContext { session })
    }

    /// A model on `provider`, with the shared flags, booked under `purpose`.
    pub fn model(
        &self,
        args: &ApiArgs,
        provider: Provider,
        model: &str,
        base_url: Option<&str>,
        api_key_env: Option<&str>,
        purpose: &str,
    ) -> anyhow::Result<HttpChatModel> {
        let mut endpoint = Endpoint::new(provider, model);
        if let Some(url) = base_url {
            endpoint = endpoint.with_base_url(url);
        }
        endpoint.api_key_env = api_key_env.map(str::to_owned);
        endpoint.max_in_flight = args.max_in_flight;
        endpoint.timeout = Duration::from_secs(args.request_timeout.max(1));
        endpoint.max_retries = args.max_retries;
        endpoint.samples_per_call = args.samples_per_call as usize;
        endpoint.prompt_logprobs = args.score_via_prompt_logprobs;
        endpoint.top_logprobs = args.score_via_top_logprobs;
        if let Some(extra) = &args.extra_body {
            let value: serde_json::Value = serde_json::from_str(extra)
                .with_context(|| format!("--extra-body is not JSON: {extra}"))?;
            let serde_json::Value::Object(map) = value else {
                bail!("--extra-body must be a JSON object, not {extra}");
            };
            endpoint.extra_body = map;
        }
        Ok(self.session.model(endpoint, purpose)?)
    }
}

/// One line about a model's calls, for the end of a command.
pub fn describe_calls(name: &str, stats: CallStats) -> String {
    format!(
        "{name}: {} calls answered, {} from the cache, {} retries, {} failed",
        stats.paid, stats.cached, stats.retries, stats.failed
    )
}
