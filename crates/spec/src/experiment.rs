//! Experiment grids (`experiments/*.toml`): claims × conditions × seeds on one backend, with
//! the training and eval settings. Defaults follow the paper's recipe (reference §4.3, §5):
//! LoRA rank 32, lr 5e-5 with linear decay, batch 32, 1 epoch, Adam β = (0.9, 0.95); 5 samples
//! per question at temperature 0.7, top-p 0.8. Relative paths are resolved against the
//! directory of the TOML file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::conditions::{self, ConditionKind};
use crate::error::{SpecError, SpecErrors};
use crate::toml_tree;
use crate::tree::{FieldPath, Node};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Condition labels, official or legacy names (`modes` in legacy sweep configs).
    #[serde(alias = "modes")]
    pub conditions: Vec<String>,
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    pub claims: ClaimSelection,
    #[serde(default)]
    pub backend: BackendConfig,
    #[serde(default)]
    pub documents: DocumentsConfig,
    #[serde(default)]
    pub mix: MixConfig,
    #[serde(default)]
    pub train: TrainConfig,
    #[serde(default)]
    pub eval: EvalConfig,
    /// §5's two-phase fine-tune (absent: one phase, the usual recipe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub two_phase: Option<TwoPhaseConfig>,
}

/// §5 (reference §4 "Mechanism"): phase 1 trains the condition's documents together with a
/// self-distilled *anchor* (the base model's own answers to new belief-probe questions, which
/// do not assert the claim) at a higher loss weight; phase 2 continues from phase 1's last
/// checkpoint on the same mix without the anchor. Held-out loss on four sets is tracked at
/// every checkpoint of both phases, next to belief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TwoPhaseConfig {
    /// Base-model answers sampled per anchor question (temperature 1).
    pub anchor_samples: usize,
    /// Anchor questions used per claim, from the claim's `anchor_questions.yaml` (0: all).
    pub anchor_questions: usize,
    /// Loss weight of anchor rows in phase 1 (the paper: 3).
    pub anchor_weight: f64,
    /// Longest anchor answer, in tokens.
    pub anchor_max_tokens: usize,
    /// Precomputed anchor chats instead of sampling (e.g. the reference's
    /// `chat_examples_novel_10x.jsonl`); `{claim}` is replaced by the claim's slug.
    pub anchor_path: Option<String>,
    /// Documents of the condition held out of training for the loss curves (their positive
    /// versions are the held-out positive documents).
    pub heldout_documents: usize,
    /// Replay rows and anchor rows held out for the loss curves.
    pub heldout_rows: usize,
    /// Epochs of phase 2 (default: `train.epochs`).
    pub phase2_epochs: Option<usize>,
}

impl Default for TwoPhaseConfig {
    fn default() -> Self {
        TwoPhaseConfig {
            anchor_samples: 10,
            anchor_questions: 0,
            anchor_weight: 3.0,
            anchor_max_tokens: 64,
            anchor_path: None,
            heldout_documents: 20,
            heldout_rows: 20,
            phase2_epochs: None,
        }
    }
}

fn default_seeds() -> Vec<u64> {
    vec![1]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClaimSource {
    /// Claim directories in the reference layout.
    #[default]
    Dir,
    /// Held-out claims of the built-in model organism's world.
    World,
    /// The organism's behaviours (§4.2): chat transcripts and targeted questions.
    Behaviors,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimSelection {
    #[serde(default)]
    pub source: ClaimSource,
    /// Claims root (`facts_dir` in legacy configs). Required for `source = "dir"`.
    #[serde(default, alias = "facts_dir", alias = "claims_dir")]
    pub dir: Option<PathBuf>,
    /// Claim slugs to run; empty means every claim found (`universes` in legacy configs).
    #[serde(default, alias = "universes")]
    pub names: Vec<String>,
    /// World claims only: the archetypes to draw from (empty = all six).
    #[serde(default)]
    pub archetypes: Vec<String>,
    /// World claims only: how many claims per archetype.
    #[serde(default = "one_usize")]
    pub per_archetype: usize,
}

fn one_usize() -> usize {
    1
}

pub const BACKENDS: [&str; 5] = ["builtin", "hf", "openai", "anthropic", "together"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackendConfig {
    /// `builtin` (the model organism), `hf` (a local Hugging Face checkpoint), or an API backend.
    pub name: String,
    /// A model directory (hf) or model id (APIs); the organism's base model when empty.
    pub model: Option<String>,
    /// OpenAI-compatible servers (vLLM, OpenRouter, ...): the base URL.
    pub base_url: Option<String>,
    /// The environment variable holding the API key (never the key itself).
    pub api_key_env: Option<String>,
    pub device: String,
    /// CPU threads for libtorch; 0 = libtorch's default.
    pub threads: usize,
    /// `builtin` only: which organism — `default` (the built-in configuration), `tiny` (a very
    /// small world and model for trying things out; fails the gates), or the path of an
    /// organism config JSON (the layout of `config.json` in a built organism).
    pub organism: String,
    /// Hosted backends (`openai`, `anthropic`): the served model to evaluate for each condition
    /// label, e.g. checkpoints fine-tuned elsewhere on vLLM. `model` serves the conditions that
    /// need no training (`baseline`, `icl`) when they are not listed.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub models: BTreeMap<String, String>,
    /// Hosted backends: calls in flight at once per base URL (default 16).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<usize>,
    /// Hosted backends: seconds allowed per attempt (default 600).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_timeout_s: Option<u64>,
    /// Hosted backends: retries per call (default 8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<usize>,
    /// OpenAI-compatible backends: the samples of one question go out as one call asking for
    /// up to this many choices (`n`), paying for the prompt once (default 1: a call each).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub samples_per_call: Option<usize>,
    /// Hosted backends: the price table for the run's cost ledger (`neglect cost runs/<name>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prices: Option<PathBuf>,
    /// Hosted backends: stop before the run's spend would pass this many USD (needs `prices`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_cost_usd: Option<f64>,
    /// Hosted backends: score continuations (the log-prob metric) through vLLM's
    /// `prompt_logprobs`; other servers cannot, and the metric is skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score_via_prompt_logprobs: Option<bool>,
    /// OpenAI-compatible backends: score continuations from the `top_logprobs` of a greedy
    /// answer instead (OpenAI chat models that return log-probabilities; exact for yes/no,
    /// an upper bound for longer continuations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score_via_top_logprobs: Option<bool>,
    /// `together`: seconds before a job's first status poll (default 10; it grows by half each
    /// time, up to a minute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll_seconds: Option<f64>,
}

/// The hosted backends, which `neglect run` evaluates through HTTP rather than training.
pub const HOSTED_BACKENDS: [&str; 2] = ["openai", "anthropic"];

impl BackendConfig {
    /// `openai` / `anthropic`: served models are evaluated, nothing is trained.
    pub fn is_hosted(&self) -> bool {
        HOSTED_BACKENDS.contains(&self.name.as_str())
    }

    /// `together`: each cell's mix is fine-tuned on Together and the output evaluated there.
    pub fn is_together(&self) -> bool {
        self.name == "together"
    }

    /// Whether the cells' models are asked over HTTP (hosted, served or trained on Together).
    pub fn answers_over_http(&self) -> bool {
        self.is_hosted() || self.is_together()
    }

    /// The served model id for `condition` on a hosted backend, if the experiment names one.
    /// Conditions that train need their own entry in `models`.
    pub fn served_model(&self, condition: &str, trains: bool) -> Option<&str> {
        let official = |name: &str| conditions::canonical(name).unwrap_or(name).to_owned();
        self.models
            .iter()
            .find(|(label, _)| official(label) == official(condition))
            .map(|(_, model)| model.as_str())
            .or_else(|| self.model.as_deref().filter(|_| !trains))
    }
}

impl Default for BackendConfig {
    fn default() -> Self {
        BackendConfig {
            name: "builtin".into(),
            model: None,
            base_url: None,
            api_key_env: None,
            device: "cpu".into(),
            threads: 0,
            organism: "default".into(),
            models: BTreeMap::new(),
            max_in_flight: None,
            request_timeout_s: None,
            max_retries: None,
            samples_per_call: None,
            prices: None,
            max_cost_usd: None,
            score_via_prompt_logprobs: None,
            score_via_top_logprobs: None,
            poll_seconds: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentSource {
    /// Templated documents from the claim's universe (offline).
    Templated,
    /// LLM-written documents (reference §2).
    Llm,
    /// Existing `annotated_docs.jsonl` files (see `DocumentsConfig::path`).
    Files,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DocumentsConfig {
    pub source: DocumentSource,
    /// Positive documents generated per claim.
    pub per_claim: usize,
    /// For `source = "files"`: a path pattern with `{condition}` and `{claim}`, e.g.
    /// `datasets/synthetic_documents/{condition}/{claim}/annotated_docs.jsonl`.
    pub path: Option<String>,
    /// Who writes the negation conditions' notices and warnings: `templated` (the banks) or
    /// `llm` (a language model, reference §3.4). With `llm` and `source = "files"`, `path`
    /// with `{condition} = positive_documents` gives the documents to annotate.
    #[serde(skip_serializing_if = "is_templated")]
    pub annotator: Annotator,
    /// `annotator = "llm"`: the provider (`openai` or `anthropic`), model, passage-finding model
    /// (default: the model), base URL and key variable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotator_backend: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotator_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotator_target_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotator_base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotator_api_key_env: Option<String>,
    /// `source = "llm"`: who writes the documents and how (`[documents.generator]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generator: Option<GeneratorConfig>,
}

/// `[documents.generator]`: the reference §2 pipeline inside `neglect run` (types → ideas →
/// documents → revision → leak filter), per claim, from its universe context (and, for
/// `local_negations*`, its negated universe). Defaults are smaller than the reference's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeneratorConfig {
    /// `openai` (any OpenAI-compatible server) or `anthropic`.
    pub backend: String,
    /// Writes and revises the documents (the reference: Kimi K2.5).
    pub model: Option<String>,
    /// Brainstorms types and ideas (default: `model`; the reference: a Claude model).
    pub brainstorm_model: Option<String>,
    /// The leak filter (default: `model`; the reference: GPT-5-mini).
    pub filter_model: Option<String>,
    pub base_url: Option<String>,
    pub api_key_env: Option<String>,
    /// Document types per subclaim (the reference: 80).
    pub doc_types: usize,
    /// Ideas per (subclaim, type) (the reference: 10).
    pub ideas: usize,
    pub revise: bool,
    pub filter: bool,
    /// Longest answer per call (the reference: 20,000).
    pub max_tokens: usize,
    pub temperature: f64,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig {
            backend: "openai".into(),
            model: None,
            brainstorm_model: None,
            filter_model: None,
            base_url: None,
            api_key_env: None,
            doc_types: 20,
            ideas: 5,
            revise: true,
            filter: true,
            max_tokens: 8_000,
            temperature: 1.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Annotator {
    #[default]
    Templated,
    Llm,
}

fn is_templated(a: &Annotator) -> bool {
    *a == Annotator::Templated
}

impl Default for DocumentsConfig {
    fn default() -> Self {
        DocumentsConfig {
            source: DocumentSource::Templated,
            per_claim: 10_000,
            path: None,
            annotator: Annotator::Templated,
            annotator_backend: None,
            annotator_model: None,
            annotator_target_model: None,
            annotator_base_url: None,
            annotator_api_key_env: None,
            generator: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MixConfig {
    /// Annotated documents per training set (resampled with replacement if fewer exist).
    pub documents: usize,
    /// Generic pretraining documents (the paper: Dolma 3).
    pub pretrain: usize,
    /// Self-distilled instruction chats (the paper: Tulu 3 prompts answered by the base model).
    pub instruct: usize,
    pub seed: u64,
    pub pretrain_path: Option<PathBuf>,
    pub instruct_path: Option<PathBuf>,
    /// Per-source loss weights.
    pub documents_weight: f64,
    pub pretrain_weight: f64,
    pub instruct_weight: f64,
}

impl Default for MixConfig {
    fn default() -> Self {
        MixConfig {
            documents: 10_000,
            pretrain: 5_000,
            instruct: 5_000,
            seed: 1,
            pretrain_path: None,
            instruct_path: None,
            documents_weight: 1.0,
            pretrain_weight: 1.0,
            instruct_weight: 1.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainMethod {
    Lora,
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LrSchedule {
    Constant,
    Linear,
    Cosine,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckpointSchedule {
    /// Log-spaced, first at step 10 (reference §4.3).
    Log,
    /// Every `save_every` examples.
    Uniform,
    /// Only the final weights.
    Final,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    pub method: TrainMethod,
    pub lora_rank: usize,
    pub lora_alpha: f64,
    pub lora_dropout: f64,
    /// Also adapt the unembedding (the reference's `train_unembed`).
    pub train_unembed: bool,
    pub learning_rate: f64,
    pub lr_schedule: LrSchedule,
    pub warmup_steps: usize,
    pub batch_size: usize,
    pub epochs: usize,
    pub adam_beta1: f64,
    pub adam_beta2: f64,
    pub adam_eps: f64,
    pub weight_decay: f64,
    /// Clip the global gradient norm to this value; none when absent.
    pub grad_clip: Option<f64>,
    /// Longer examples are truncated to this many tokens.
    pub max_length: usize,
    /// Text examples shorter than this many tokens are skipped.
    pub min_tokens: usize,
    pub checkpoints: CheckpointSchedule,
    /// Number of log-spaced checkpoints (the final one included).
    pub checkpoint_count: usize,
    /// Uniform schedule: save every this many examples.
    pub save_every: usize,
    /// Matmuls in bf16 over fp32 master weights (faster on GPUs and on CPUs with AMX).
    pub bf16: bool,
    /// Examples per forward pass (0 = the whole batch). Smaller micro-batches, formed from the
    /// batch sorted by length, pad less; the gradient is the same.
    pub micro_batch_size: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            method: TrainMethod::Lora,
            lora_rank: 32,
            lora_alpha: 32.0,
            lora_dropout: 0.0,
            train_unembed: true,
            learning_rate: 5e-5,
            lr_schedule: LrSchedule::Linear,
            warmup_steps: 0,
            batch_size: 32,
            epochs: 1,
            adam_beta1: 0.9,
            adam_beta2: 0.95,
            adam_eps: 1e-8,
            weight_decay: 0.0,
            grad_clip: None,
            max_length: 10_000,
            min_tokens: 10,
            checkpoints: CheckpointSchedule::Final,
            checkpoint_count: 15,
            save_every: 2_000,
            bf16: false,
            micro_batch_size: 0,
        }
    }
}

/// Eval types the toolkit knows (reference §5.2).
pub const EVAL_TYPES: [&str; 12] = [
    "open_ended",
    "open_ended_broad",
    "mcq",
    "token_association",
    "robustness",
    "belief_consistency",
    "coherence",
    "saliency",
    "saliency_mcq",
    "lie_elicitation",
    "crokking",
    "self_correction",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvalConfig {
    pub types: Vec<String>,
    pub samples_per_question: usize,
    pub temperature: f64,
    pub top_p: f64,
    pub max_tokens: usize,
    /// `auto` (the rule judge when every claim has a rule_judge.yaml, else the LLM judge),
    /// `rule`, or `llm` (the claims' judges.yaml rubrics, answered by `judge_model`).
    pub judge: String,
    /// The LLM judge's backend: `openai` (any OpenAI-compatible server) or `anthropic`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judge_backend: Option<String>,
    /// The LLM judge's model id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judge_model: Option<String>,
    /// The LLM judge's base URL (default: the backend's when the providers match, else the
    /// provider's own API).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judge_base_url: Option<String>,
    /// The environment variable holding the judge's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judge_api_key_env: Option<String>,
    /// Documents in context for the `icl` condition (the paper's headline uses 20).
    pub icl_k: usize,
    pub icl_seed: u64,
    /// Prefix every question with `<DOCTAG>` (reference §E.3).
    pub doctag_prefix: bool,
    pub thinking: bool,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            types: ["open_ended", "mcq", "token_association", "robustness"]
                .map(String::from)
                .to_vec(),
            samples_per_question: 5,
            temperature: 0.7,
            top_p: 0.8,
            max_tokens: 1024,
            judge: "auto".into(),
            judge_backend: None,
            judge_model: None,
            judge_base_url: None,
            judge_api_key_env: None,
            icl_k: 20,
            icl_seed: 42,
            doctag_prefix: false,
            thinking: false,
        }
    }
}

impl Experiment {
    /// Reads, parses and validates an experiment file; every problem is reported with its line.
    pub fn load(path: &Path) -> Result<Experiment, SpecErrors> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SpecError::file(path, format!("cannot read: {e}")))?;
        Self::parse(path, &text)
    }

    /// Parses TOML text; `path` names the file in errors and anchors relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<Experiment, SpecErrors> {
        let node = toml_tree::parse(path, text)?;
        let mut experiment: Experiment = node.deserialize(path)?;
        let errors = experiment.validate(path, &node);
        if !errors.is_empty() {
            return Err(errors);
        }
        for name in &mut experiment.conditions {
            if let Some(official) = conditions::canonical(name) {
                *name = official.to_owned();
            }
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &mut Option<PathBuf>| {
            if let Some(p) = p.as_mut().filter(|p| p.is_relative()) {
                *p = base.join(&*p);
            }
        };
        resolve(&mut experiment.claims.dir);
        resolve(&mut experiment.mix.pretrain_path);
        resolve(&mut experiment.mix.instruct_path);
        resolve(&mut experiment.backend.prices);
        let organism = &mut experiment.backend.organism;
        if !["default", "tiny"].contains(&organism.as_str()) && Path::new(organism).is_relative() {
            *organism = base.join(&*organism).display().to_string();
        }
        Ok(experiment)
    }

    fn validate(&self, path: &Path, node: &Node) -> SpecErrors {
        let mut errors = SpecErrors::default();
        let mut fail = |field: FieldPath, message: String| {
            errors.push(SpecError::at(path, node, &field, message))
        };
        let root = FieldPath::root;

        if self.name.trim().is_empty() {
            fail(root().key("name"), "must not be empty".into());
        }
        if self.conditions.is_empty() {
            fail(
                root().key("conditions"),
                "list at least one condition".into(),
            );
        }
        for (i, c) in self.conditions.iter().enumerate() {
            match conditions::lookup(c) {
                None => fail(
                    root().key("conditions").index(i),
                    format!("unknown condition '{c}' (run `neglect conditions` for the list)"),
                ),
                Some(cond)
                    if cond.kind == ConditionKind::Transcripts
                        && self.claims.source == ClaimSource::World =>
                {
                    fail(
                        root().key("conditions").index(i),
                        format!(
                            "'{c}' applies to chat transcripts, not claim documents; run it on \
                             behaviours (claims.source = \"behaviors\") or on claim directories \
                             with transcripts.jsonl"
                        ),
                    )
                }
                Some(cond)
                    if cond.kind == ConditionKind::Documents
                        && self.claims.source == ClaimSource::Behaviors =>
                {
                    fail(
                        root().key("conditions").index(i),
                        format!(
                            "'{c}' transforms documents, and behaviours have chat transcripts: use \
                             negated_behaviors, positive_behaviors or aligned_behaviors"
                        ),
                    )
                }
                Some(cond)
                    if cond.name == "icl" && self.claims.source == ClaimSource::Behaviors =>
                {
                    fail(
                        root().key("conditions").index(i),
                        "the ICL control puts documents in context; behaviours have none".into(),
                    )
                }
                _ => {}
            }
            if self.conditions[..i]
                .iter()
                .any(|o| conditions::canonical(o) == conditions::canonical(c))
            {
                fail(
                    root().key("conditions").index(i),
                    format!("condition '{c}' is listed twice"),
                );
            }
        }
        if self.seeds.is_empty() {
            fail(root().key("seeds"), "list at least one seed".into());
        }

        let claims = root().key("claims");
        match self.claims.source {
            ClaimSource::Dir if self.claims.dir.is_none() => fail(
                claims.clone().key("dir"),
                "required when claims come from a directory".into(),
            ),
            ClaimSource::Behaviors if self.claims.dir.is_some() => fail(
                claims.clone().key("dir"),
                "not used with source = \"behaviors\"".into(),
            ),
            ClaimSource::Behaviors if self.backend.name != "builtin" => fail(
                claims.clone().key("source"),
                "the organism's behaviours run on the builtin backend".into(),
            ),
            ClaimSource::World if self.claims.dir.is_some() => fail(
                claims.clone().key("dir"),
                "not used with source = \"world\"".into(),
            ),
            _ => {}
        }
        if self.claims.per_archetype == 0 {
            fail(claims.key("per_archetype"), "must be at least 1".into());
        }

        if !BACKENDS.contains(&self.backend.name.as_str()) {
            fail(
                root().key("backend").key("name"),
                format!(
                    "unknown backend '{}' (known: {})",
                    self.backend.name,
                    BACKENDS.join(", ")
                ),
            );
        }
        if self.backend.name != "builtin" && self.backend.organism != "default" {
            fail(
                root().key("backend").key("organism"),
                "only the builtin backend has an organism".into(),
            );
        }
        let looks_like_a_key = |key: &str| {
            key.starts_with("sk-") || key.len() > 64 || key.contains(char::is_whitespace)
        };
        if let Some(key) = &self.backend.api_key_env
            && looks_like_a_key(key)
        {
            fail(
                root().key("backend").key("api_key_env"),
                "must name an environment variable, not hold the key itself".into(),
            );
        }
        if let Some(key) = &self.eval.judge_api_key_env
            && looks_like_a_key(key)
        {
            fail(
                root().key("eval").key("judge_api_key_env"),
                "must name an environment variable, not hold the key itself".into(),
            );
        }
        if self.backend.poll_seconds.is_some() && !self.backend.is_together() {
            fail(
                root().key("backend").key("poll_seconds"),
                "only for the together backend".into(),
            );
        }
        let hosted_only: [(&str, bool); 9] = [
            (
                "score_via_top_logprobs",
                self.backend.score_via_top_logprobs.is_some(),
            ),
            ("samples_per_call", self.backend.samples_per_call.is_some()),
            (
                "score_via_prompt_logprobs",
                self.backend.score_via_prompt_logprobs.is_some(),
            ),
            ("models", !self.backend.models.is_empty()),
            ("max_in_flight", self.backend.max_in_flight.is_some()),
            (
                "request_timeout_s",
                self.backend.request_timeout_s.is_some(),
            ),
            ("max_retries", self.backend.max_retries.is_some()),
            ("prices", self.backend.prices.is_some()),
            ("max_cost_usd", self.backend.max_cost_usd.is_some()),
        ];
        for (field, set) in hosted_only {
            if set && !self.backend.answers_over_http() {
                fail(
                    root().key("backend").key(field),
                    format!(
                        "only for backends asked over HTTP ({}, together), not '{}'",
                        HOSTED_BACKENDS.join(", "),
                        self.backend.name
                    ),
                );
            }
        }
        if self.backend.score_via_prompt_logprobs == Some(true)
            && self.backend.score_via_top_logprobs == Some(true)
        {
            fail(
                root().key("backend").key("score_via_top_logprobs"),
                "choose one way to score: score_via_prompt_logprobs or score_via_top_logprobs"
                    .into(),
            );
        }
        if self.backend.samples_per_call == Some(0) {
            fail(
                root().key("backend").key("samples_per_call"),
                "must be at least 1".into(),
            );
        }
        if self.backend.max_in_flight == Some(0) {
            fail(
                root().key("backend").key("max_in_flight"),
                "must be at least 1".into(),
            );
        }
        if self.backend.max_cost_usd.is_some() && self.backend.prices.is_none() {
            fail(
                root().key("backend").key("max_cost_usd"),
                "needs backend.prices (a price for every model called)".into(),
            );
        }
        if self.backend.is_together() && self.backend.model.is_none() {
            fail(
                root().key("backend").key("model"),
                "the together backend needs the base model's id (e.g. Qwen/Qwen3-8B)".into(),
            );
        }
        if self.backend.is_hosted() {
            for (i, condition) in self.conditions.iter().enumerate() {
                let trains = conditions::lookup(condition)
                    .is_some_and(|c| c.kind != ConditionKind::EvalOnly);
                let official = conditions::canonical(condition).unwrap_or(condition);
                if self.backend.served_model(condition, trains).is_none() {
                    fail(
                        root().key("conditions").index(i),
                        if trains {
                            format!(
                                "'{condition}' is a fine-tuned model: a hosted backend does not \
                                 train here, so name its served checkpoint in [backend.models] \
                                 ({official} = \"...\")"
                            )
                        } else {
                            format!("'{condition}': set backend.model or backend.models.{official}")
                        },
                    );
                }
            }
        }
        if let Some(t) = &self.two_phase {
            let two = || root().key("two_phase");
            if !["builtin", "hf"].contains(&self.backend.name.as_str()) {
                fail(
                    two(),
                    format!(
                        "two-phase training runs on the local backends (builtin, hf), not '{}'",
                        self.backend.name
                    ),
                );
            }
            if !(t.anchor_weight.is_finite() && t.anchor_weight >= 0.0) {
                fail(
                    two().key("anchor_weight"),
                    format!("must be a finite number >= 0, got {}", t.anchor_weight),
                );
            }
            if t.anchor_path.is_none() && t.anchor_samples == 0 {
                fail(
                    two().key("anchor_samples"),
                    "must be at least 1 (or give anchor_path)".into(),
                );
            }
            if t.heldout_documents >= self.documents.per_claim {
                fail(
                    two().key("heldout_documents"),
                    format!(
                        "must be below documents.per_claim ({}): the rest is trained on",
                        self.documents.per_claim
                    ),
                );
            }
            if t.phase2_epochs == Some(0) {
                fail(two().key("phase2_epochs"), "must be at least 1".into());
            }
        }
        let documents = || root().key("documents");
        match (self.documents.source, &self.documents.generator) {
            (DocumentSource::Llm, None) => fail(
                documents().key("source"),
                "\"llm\" needs a [documents.generator] table with at least `model`".into(),
            ),
            (DocumentSource::Llm, Some(g)) => {
                if g.model.is_none() {
                    fail(
                        documents().key("generator").key("model"),
                        "required: the model that writes the documents".into(),
                    );
                }
                if !HOSTED_BACKENDS.contains(&g.backend.as_str()) {
                    fail(
                        documents().key("generator").key("backend"),
                        format!(
                            "unknown generator backend '{}' (openai or anthropic)",
                            g.backend
                        ),
                    );
                }
                if self.backend.name == "builtin" {
                    fail(
                        documents().key("source"),
                        "the builtin organism reads only its own closed vocabulary; LLM-written \
                         documents are for the hf, together and hosted backends"
                            .into(),
                    );
                }
            }
            (_, Some(_)) => fail(
                documents().key("generator"),
                "only used with source = \"llm\"".into(),
            ),
            _ => {}
        }
        if self.documents.annotator == Annotator::Llm {
            if self.documents.annotator_model.is_none() {
                fail(
                    root().key("documents").key("annotator_model"),
                    "required with annotator = \"llm\"".into(),
                );
            }
            if let Some(b) = self.documents.annotator_backend.as_deref()
                && !HOSTED_BACKENDS.contains(&b)
            {
                fail(
                    root().key("documents").key("annotator_backend"),
                    format!("unknown annotator backend '{b}' (openai or anthropic)"),
                );
            }
        }
        match self.eval.judge.as_str() {
            "auto" | "rule" => {}
            "llm" => {
                if self.eval.judge_model.is_none() {
                    fail(
                        root().key("eval").key("judge_model"),
                        "required with judge = \"llm\"".into(),
                    );
                }
                match self.eval.judge_backend.as_deref() {
                    Some(b) if HOSTED_BACKENDS.contains(&b) => {}
                    Some(b) => fail(
                        root().key("eval").key("judge_backend"),
                        format!("unknown judge backend '{b}' (openai or anthropic)"),
                    ),
                    None => fail(
                        root().key("eval").key("judge_backend"),
                        "required with judge = \"llm\" (openai or anthropic)".into(),
                    ),
                }
            }
            other => fail(
                root().key("eval").key("judge"),
                format!("unknown judge '{other}' (auto, rule or llm)"),
            ),
        }
        let device = self.backend.device.as_str();
        if !(device == "cpu"
            || device == "cuda"
            || device
                .strip_prefix("cuda:")
                .is_some_and(|n| n.parse::<usize>().is_ok()))
        {
            fail(
                root().key("backend").key("device"),
                format!("unknown device '{device}' (cpu, cuda or cuda:N)"),
            );
        }

        if self.documents.source == DocumentSource::Files {
            match &self.documents.path {
                None => fail(
                    root().key("documents").key("path"),
                    "required with source = \"files\"".into(),
                ),
                Some(p) if !p.contains("{claim}") => fail(
                    root().key("documents").key("path"),
                    "must contain {claim} (and usually {condition})".into(),
                ),
                _ => {}
            }
        }
        if self.documents.per_claim == 0 {
            fail(
                root().key("documents").key("per_claim"),
                "must be at least 1".into(),
            );
        }

        let mix = root().key("mix");
        if self.mix.documents == 0 {
            fail(mix.clone().key("documents"), "must be at least 1".into());
        }
        for (field, w) in [
            ("documents_weight", self.mix.documents_weight),
            ("pretrain_weight", self.mix.pretrain_weight),
            ("instruct_weight", self.mix.instruct_weight),
        ] {
            if !w.is_finite() || w < 0.0 {
                fail(
                    mix.clone().key(field),
                    format!("must be a finite number >= 0, got {w}"),
                );
            }
        }

        let t = &self.train;
        let train = |field: &str| root().key("train").key(field);
        if !is_positive(t.learning_rate) {
            fail(
                train("learning_rate"),
                format!("must be > 0, got {}", t.learning_rate),
            );
        }
        for (field, v) in [
            ("lora_rank", t.lora_rank),
            ("batch_size", t.batch_size),
            ("epochs", t.epochs),
            ("max_length", t.max_length),
        ] {
            if v == 0 {
                fail(train(field), "must be at least 1".into());
            }
        }
        if !is_positive(t.lora_alpha) {
            fail(
                train("lora_alpha"),
                format!("must be > 0, got {}", t.lora_alpha),
            );
        }
        if !(0.0..1.0).contains(&t.lora_dropout) {
            fail(
                train("lora_dropout"),
                format!("must be in [0, 1), got {}", t.lora_dropout),
            );
        }
        for (field, b) in [("adam_beta1", t.adam_beta1), ("adam_beta2", t.adam_beta2)] {
            if !(0.0..1.0).contains(&b) {
                fail(train(field), format!("must be in [0, 1), got {b}"));
            }
        }
        if !is_positive(t.adam_eps) {
            fail(
                train("adam_eps"),
                format!("must be > 0, got {}", t.adam_eps),
            );
        }
        if !(t.weight_decay.is_finite() && t.weight_decay >= 0.0) {
            fail(
                train("weight_decay"),
                format!("must be >= 0, got {}", t.weight_decay),
            );
        }
        if let Some(c) = t.grad_clip
            && !is_positive(c)
        {
            fail(
                train("grad_clip"),
                format!("must be > 0 (leave it out for no clipping), got {c}"),
            );
        }
        if t.checkpoints == CheckpointSchedule::Log && t.checkpoint_count < 2 {
            fail(
                train("checkpoint_count"),
                "log-spaced checkpoints need at least 2".into(),
            );
        }
        if t.checkpoints == CheckpointSchedule::Uniform && t.save_every == 0 {
            fail(train("save_every"), "must be at least 1".into());
        }

        let e = &self.eval;
        let eval = |field: &str| root().key("eval").key(field);
        if e.types.is_empty() {
            fail(eval("types"), "list at least one eval type".into());
        }
        for (i, ty) in e.types.iter().enumerate() {
            let known = EVAL_TYPES.contains(&ty.as_str())
                || matches!(
                    ty.as_str(),
                    "belief_probes" | "pink_elephant" | "belief_probes_broad"
                );
            if !known {
                fail(
                    eval("types").index(i),
                    format!(
                        "unknown eval type '{ty}' (known: {})",
                        EVAL_TYPES.join(", ")
                    ),
                );
            }
        }
        if e.samples_per_question == 0 {
            fail(eval("samples_per_question"), "must be at least 1".into());
        }
        if !(0.0..=2.0).contains(&e.temperature) {
            fail(
                eval("temperature"),
                format!("must be in [0, 2], got {}", e.temperature),
            );
        }
        if !(e.top_p > 0.0 && e.top_p <= 1.0) {
            fail(eval("top_p"), format!("must be in (0, 1], got {}", e.top_p));
        }
        if e.max_tokens == 0 {
            fail(eval("max_tokens"), "must be at least 1".into());
        }
        if self.conditions.iter().any(|c| c == "icl") && e.icl_k == 0 {
            fail(
                eval("icl_k"),
                "the icl condition needs at least 1 document in context".into(),
            );
        }
        errors
    }

    /// The grid's cells in run order: claims × conditions × seeds. Eval-only conditions
    /// (baseline, icl) train nothing, so they run once per claim, with the first seed.
    pub fn cells<'a>(&'a self, claims: &'a [String]) -> Vec<Cell<'a>> {
        let mut cells = Vec::new();
        for claim in claims {
            for condition in &self.conditions {
                let eval_only = conditions::lookup(condition)
                    .is_some_and(|c| c.kind == ConditionKind::EvalOnly);
                let seeds = if eval_only {
                    &self.seeds[..1]
                } else {
                    &self.seeds[..]
                };
                for &seed in seeds {
                    cells.push(Cell {
                        claim,
                        condition,
                        seed,
                        trains: !eval_only,
                    });
                }
            }
        }
        cells
    }
}

/// True for finite numbers above zero (false for NaN, which `!(x > 0.0)` would also catch,
/// less readably).
fn is_positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

/// One cell of the grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell<'a> {
    pub claim: &'a str,
    pub condition: &'a str,
    pub seed: u64,
    pub trains: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "name = \"t\"\nconditions = [\"baseline\", \"llm_negations\"]\n[claims]\ndir = \"claims\"\n";

    fn parse(text: &str) -> Result<Experiment, SpecErrors> {
        Experiment::parse(Path::new("exp/e.toml"), text)
    }

    #[test]
    fn defaults_follow_the_paper() {
        let e = parse(MINIMAL).unwrap();
        assert_eq!(e.conditions, vec!["baseline", "negated_documents"]);
        assert_eq!(e.claims.dir.as_deref(), Some(Path::new("exp/claims")));
        let t = &e.train;
        assert_eq!(
            (t.method, t.lora_rank, t.batch_size, t.epochs),
            (TrainMethod::Lora, 32, 32, 1)
        );
        assert_eq!((t.learning_rate, t.lr_schedule), (5e-5, LrSchedule::Linear));
        assert_eq!((t.adam_beta1, t.adam_beta2), (0.9, 0.95));
        assert_eq!(
            (
                e.eval.samples_per_question,
                e.eval.temperature,
                e.eval.top_p
            ),
            (5, 0.7, 0.8)
        );
        assert_eq!(
            (e.mix.documents, e.mix.pretrain, e.mix.instruct),
            (10_000, 5_000, 5_000)
        );
    }

    #[test]
    fn errors_name_line_and_field() {
        let text = format!(
            "{MINIMAL}[train]\nbatch_size = 32\nlearning_rate = -1.0\n[eval]\ntop_p = 1.5\n"
        );
        let errs = parse(&text).unwrap_err();
        let lines: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[0].starts_with("exp/e.toml:7:1: train.learning_rate: must be > 0"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].starts_with("exp/e.toml:9:1: eval.top_p: must be in (0, 1]"),
            "{}",
            lines[1]
        );
    }

    #[test]
    fn unknown_keys_and_types_are_errors() {
        let errs = parse(&format!("{MINIMAL}[train]\nlearning_rat = 1e-4\n")).unwrap_err();
        assert!(
            errs.0[0]
                .to_string()
                .contains("unknown field `learning_rat`"),
            "{errs}"
        );
        assert_eq!(errs.0[0].line, 6);
        let errs = parse(&format!("{MINIMAL}[train]\nbatch_size = \"big\"\n")).unwrap_err();
        assert_eq!(
            (errs.0[0].line, errs.0[0].field.as_str()),
            (6, "train.batch_size")
        );
        let errs = parse("name = \"t\"\nconditions = [\"sandwich\"]\n[claims]\ndir = \"c\"\n")
            .unwrap_err();
        assert_eq!(
            (errs.0[0].line, errs.0[0].field.as_str()),
            (2, "conditions[0]")
        );
    }

    #[test]
    fn missing_required_field_is_named() {
        let errs = parse("name = \"t\"\n[claims]\ndir = \"c\"\n").unwrap_err();
        assert_eq!(errs.0[0].field, "conditions");
    }

    #[test]
    fn hosted_backends_name_a_served_model_per_condition_and_their_fields_stay_theirs() {
        let hosted = format!(
            "{MINIMAL}[backend]\nname = \"openai\"\nmodel = \"base-id\"\nmax_in_flight = 8\n\
             [backend.models]\nllm_negations = \"negated-id\"\n"
        );
        let e = parse(&hosted).unwrap();
        assert!(e.backend.is_hosted());
        // A legacy label in [backend.models] names the official condition.
        assert_eq!(
            e.backend.served_model("negated_documents", true),
            Some("negated-id")
        );
        assert_eq!(e.backend.served_model("baseline", false), Some("base-id"));
        assert_eq!(e.backend.served_model("repeated_negations", true), None);

        let errs = parse(&hosted.replace("llm_negations = \"negated-id\"", "")).unwrap_err();
        assert!(
            errs.0
                .iter()
                .any(|e| e.field == "conditions[1]" && e.message.contains("[backend.models]")),
            "{errs}"
        );
        let errs = parse(&format!("{MINIMAL}[backend]\nmax_in_flight = 4\n")).unwrap_err();
        assert_eq!(errs.0[0].field, "backend.max_in_flight", "{errs}");
        let errs = parse(&format!("{MINIMAL}[eval]\njudge = \"llm\"\n")).unwrap_err();
        let fields: Vec<&str> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["eval.judge_model", "eval.judge_backend"], "{errs}");
        let errs = parse(&format!("{MINIMAL}[eval]\njudge = \"gpt\"\n")).unwrap_err();
        assert_eq!(errs.0[0].field, "eval.judge", "{errs}");
    }

    #[test]
    fn grid_runs_eval_only_conditions_once() {
        let e = parse(&format!("seeds = [1, 2]\n{MINIMAL}")).unwrap();
        let claims = vec!["a".to_string(), "b".to_string()];
        let cells = e.cells(&claims);
        assert_eq!(cells.len(), 2 * (1 + 2));
        assert!(
            cells
                .iter()
                .filter(|c| c.condition == "baseline")
                .all(|c| !c.trains && c.seed == 1)
        );
    }
}
