//! Hosted and served models in `neglect run`: the models an experiment names for each condition
//! on an `openai` / `anthropic` backend, and the LLM judge, all through one [`Session`] (the
//! run's cost ledger at `runs/<name>/api_ledger.sqlite`, the response cache under the cache
//! folder).
//!
//! A hosted backend does not train: each condition's model is a checkpoint fine-tuned and served
//! elsewhere (for example the paper's released checkpoints on vLLM), named in
//! `[backend.models]`. Cells then only evaluate.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use neglect_api::session::Session;
use neglect_api::together::{self, Together};
use neglect_api::{Endpoint, HttpChatModel, Provider};
use neglect_eval::judge::Judge;
use neglect_eval::judge::cache::JudgeCache;
use neglect_eval::judge::rubric::LlmJudge;
use neglect_spec::Experiment;
use neglect_spec::experiment::Annotator;

use crate::RunError;
use crate::stage::KeyBuilder;

/// The HTTP side of a run: the shared session and the backend's endpoint settings.
pub struct Hosted {
    session: Session,
    /// The backend's provider, when the backend is hosted (the judge may be hosted alone).
    provider: Option<Provider>,
    base_url: Option<String>,
    api_key_env: Option<String>,
    max_in_flight: usize,
    timeout: Duration,
    max_retries: usize,
    samples_per_call: usize,
    /// Served models score continuations through vLLM's prompt_logprobs.
    prompt_logprobs: bool,
    /// Served chat models score continuations from a greedy answer's top_logprobs.
    top_logprobs: bool,
    /// The fine-tuning client, for the together backend.
    together: Option<Together>,
}

fn api_error(e: neglect_api::ApiError) -> RunError {
    RunError::Input(e.to_string())
}

impl Hosted {
    /// Opens the session when the experiment calls any hosted model (its backend or its judge).
    pub fn open(
        experiment: &Experiment,
        run_dir: &Path,
        cache_dir: &Path,
    ) -> Result<Option<Hosted>, RunError> {
        let backend = &experiment.backend;
        let llm_annotator = experiment.documents.annotator == Annotator::Llm
            || experiment.documents.source == neglect_spec::experiment::DocumentSource::Llm;
        if !backend.answers_over_http() && experiment.eval.judge_model.is_none() && !llm_annotator {
            return Ok(None);
        }
        let session = Session::open(
            run_dir,
            Some(cache_dir),
            backend.prices.as_deref(),
            backend.max_cost_usd,
        )
        .map_err(api_error)?;
        // Together trains, then serves the outputs through its OpenAI-compatible endpoint.
        let (provider, base_url, api_key_env, together) = if backend.is_together() {
            let url = backend
                .base_url
                .clone()
                .unwrap_or_else(|| together::DEFAULT_BASE_URL.to_owned());
            let key_env = backend
                .api_key_env
                .clone()
                .unwrap_or_else(|| together::DEFAULT_KEY_ENV.to_owned());
            let poll = Duration::from_secs_f64(backend.poll_seconds.unwrap_or(10.0).max(0.001));
            let client = Together::new(Some(&url), Some(&key_env))
                .map_err(api_error)?
                .with_timing(
                    Duration::from_millis(500),
                    poll,
                    Duration::from_secs(60).max(poll),
                );
            (
                Some(Provider::OpenAi),
                Some(url),
                Some(key_env),
                Some(client),
            )
        } else {
            (
                Provider::parse(&backend.name),
                backend.base_url.clone(),
                backend.api_key_env.clone(),
                None,
            )
        };
        Ok(Some(Hosted {
            session,
            provider,
            base_url,
            api_key_env,
            together,
            prompt_logprobs: backend.score_via_prompt_logprobs.unwrap_or(false),
            top_logprobs: backend.score_via_top_logprobs.unwrap_or(false),
            max_in_flight: backend.max_in_flight.unwrap_or(16),
            timeout: Duration::from_secs(backend.request_timeout_s.unwrap_or(600).max(1)),
            max_retries: backend.max_retries.unwrap_or(8),
            samples_per_call: backend.samples_per_call.unwrap_or(1),
        }))
    }

    fn endpoint(
        &self,
        provider: Provider,
        model: &str,
        base_url: Option<&str>,
        key_env: Option<&str>,
    ) -> Endpoint {
        let mut endpoint = Endpoint::new(provider, model);
        if let Some(url) = base_url {
            endpoint = endpoint.with_base_url(url);
        }
        endpoint.api_key_env = key_env.map(str::to_owned);
        endpoint.max_in_flight = self.max_in_flight;
        endpoint.timeout = self.timeout;
        endpoint.max_retries = self.max_retries;
        endpoint.samples_per_call = self.samples_per_call;
        endpoint
    }

    /// The fine-tuning client (the together backend only).
    pub fn together(&self) -> Option<&Together> {
        self.together.as_ref()
    }

    /// The endpoint of a helper model (the judge, an annotator): its own base URL and key
    /// variable when given, else the backend's when the provider is the same, else the
    /// provider's defaults.
    fn helper_endpoint(
        &self,
        provider: Provider,
        model: &str,
        base_url: Option<&str>,
        key_env: Option<&str>,
    ) -> Endpoint {
        let same = self.provider == Some(provider);
        let base_url = base_url.or(self.base_url.as_deref().filter(|_| same));
        let key_env = key_env.or(self.api_key_env.as_deref().filter(|_| same));
        self.endpoint(provider, model, base_url, key_env)
    }

    /// The backend's served model `id`.
    pub fn model(&self, id: &str) -> Result<HttpChatModel, RunError> {
        let provider = self.provider.ok_or_else(|| {
            RunError::Input("backend.name: not a hosted backend (openai or anthropic)".into())
        })?;
        let mut endpoint = self.endpoint(
            provider,
            id,
            self.base_url.as_deref(),
            self.api_key_env.as_deref(),
        );
        endpoint.prompt_logprobs = self.prompt_logprobs;
        endpoint.top_logprobs = self.top_logprobs;
        self.session.model(endpoint, "answer").map_err(api_error)
    }

    /// The models that write the documents (`[documents.generator]`): brainstorm, writer and
    /// filter (one model may do all three), and the key part that names them.
    pub fn generators(
        &self,
        generator: &neglect_spec::experiment::GeneratorConfig,
    ) -> Result<([HttpChatModel; 3], String), RunError> {
        let provider = Provider::parse(&generator.backend).ok_or_else(|| {
            RunError::Input(format!(
                "documents.generator.backend: '{}' (openai or anthropic)",
                generator.backend
            ))
        })?;
        let writer = generator
            .model
            .as_deref()
            .ok_or_else(|| RunError::Input("documents.generator.model: required".into()))?;
        let ids = [
            generator.brainstorm_model.as_deref().unwrap_or(writer),
            writer,
            generator.filter_model.as_deref().unwrap_or(writer),
        ];
        let model = |id: &str, purpose: &str| {
            self.session
                .model(
                    self.helper_endpoint(
                        provider,
                        id,
                        generator.base_url.as_deref(),
                        generator.api_key_env.as_deref(),
                    ),
                    purpose,
                )
                .map_err(api_error)
        };
        let models = [
            model(ids[0], "brainstorm")?,
            model(ids[1], "write_documents")?,
            model(ids[2], "leak_filter")?,
        ];
        let key = KeyBuilder::new("llm-generator")
            .part(provider.name())
            .part(&models[1].endpoint().base_url)
            .part(ids.join("|"))
            .finish();
        Ok((models, key))
    }

    /// The models that write LLM annotations (`documents.annotator = "llm"`): the writer and,
    /// when another model finds the passages, the finder; and the key part that names them.
    pub fn annotators(
        &self,
        experiment: &Experiment,
    ) -> Result<(HttpChatModel, Option<HttpChatModel>, String), RunError> {
        let d = &experiment.documents;
        let writer_id = d
            .annotator_model
            .as_deref()
            .ok_or_else(|| RunError::Input("documents.annotator_model: required".into()))?;
        let backend = d.annotator_backend.as_deref().unwrap_or("openai");
        let provider = Provider::parse(backend).ok_or_else(|| {
            RunError::Input(format!(
                "documents.annotator_backend: '{backend}' (openai or anthropic)"
            ))
        })?;
        let endpoint = |id: &str| {
            self.helper_endpoint(
                provider,
                id,
                d.annotator_base_url.as_deref(),
                d.annotator_api_key_env.as_deref(),
            )
        };
        let writer = self
            .session
            .model(endpoint(writer_id), "annotate")
            .map_err(api_error)?;
        let finder = match d.annotator_target_model.as_deref() {
            Some(id) if id != writer_id => Some(
                self.session
                    .model(endpoint(id), "find_passages")
                    .map_err(api_error)?,
            ),
            _ => None,
        };
        let key = KeyBuilder::new("llm-annotator")
            .part(provider.name())
            .part(&writer.endpoint().base_url)
            .part(writer_id)
            .part(d.annotator_target_model.as_deref().unwrap_or(writer_id))
            .finish();
        Ok((writer, finder, key))
    }

    /// Calls in flight at once (for sizing batches).
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    /// What identifies a served model's answers: provider, base URL and id (not the key).
    pub fn model_key(&self, id: &str) -> String {
        let mut key = KeyBuilder::new("served")
            .part(self.provider.map_or("", |p| p.name()))
            .part(self.base_url.as_deref().unwrap_or("default"))
            .part(id);
        // Scoring from top_logprobs gives other log-prob rows (keys without it are unchanged).
        if self.top_logprobs {
            key = key.part("scored-by-top-logprobs");
        }
        key.finish()
    }

    /// The LLM judge the experiment names (`eval.judge_model` on `eval.judge_backend`), with
    /// its reference-format cache, and the key part that identifies it.
    pub fn judge(
        &self,
        experiment: &Experiment,
        cache_dir: &Path,
    ) -> Result<(Arc<dyn Judge>, String), RunError> {
        let e = &experiment.eval;
        let model = e.judge_model.as_deref().ok_or_else(|| {
            RunError::Input("eval.judge_model: required for the LLM judge".into())
        })?;
        let backend = e.judge_backend.as_deref().unwrap_or("openai");
        let provider = Provider::parse(backend).ok_or_else(|| {
            RunError::Input(format!(
                "eval.judge_backend: '{backend}' (openai or anthropic)"
            ))
        })?;
        let endpoint = self.helper_endpoint(
            provider,
            model,
            e.judge_base_url.as_deref(),
            e.judge_api_key_env.as_deref(),
        );
        let key = KeyBuilder::new("llm-judge")
            .part(provider.name())
            .part(&endpoint.base_url)
            .part(model)
            .finish();
        let http = self.session.model(endpoint, "judge").map_err(api_error)?;
        let cache = JudgeCache::open(&cache_dir.join("judge/judge_cache.jsonl"))
            .map_err(|e| RunError::Input(e.to_string()))?;
        let judge = LlmJudge::new(Arc::new(http), Some(Arc::new(cache)));
        Ok((Arc::new(judge), key))
    }
}
