//! `neglect train`: fine-tune a local HF model on JSONL training rows (full or LoRA).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use neglect_spec::experiment::{CheckpointSchedule, LrSchedule, TrainConfig, TrainMethod};

use super::model_args::ModelArgs;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Method {
    Lora,
    Full,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Schedule {
    Constant,
    Linear,
    Cosine,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Checkpoints {
    Log,
    Uniform,
    Final,
}

/// Defaults are the paper's recipe: LoRA rank 32 (unembedding included), lr 5e-5 decaying
/// linearly to 0, batch 32, 1 epoch, Adam β = (0.9, 0.95), ε = 1e-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TrainBackend {
    /// Here, on a local Hugging Face model directory (--model DIR).
    Hf,
    /// On Together's fine-tuning service; --model is then the base model's id there.
    Together,
}

#[derive(Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Where to train.
    #[arg(long, value_enum, default_value = "hf")]
    pub backend: TrainBackend,
    /// --backend together: the API's base URL (default https://api.together.xyz/v1).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// --backend together: the variable holding the key (default TOGETHER_API_KEY).
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// --backend together: the suffix of the output model's name.
    #[arg(long)]
    pub suffix: Option<String>,
    /// --backend together: the LoRA target modules (comma-separated, or all-linear).
    #[arg(long, default_value = "all-linear")]
    pub lora_trainable_modules: String,
    /// --backend together: seconds before the first status poll (it grows by half each time,
    /// up to a minute).
    #[arg(long, default_value_t = 10.0)]
    pub poll_seconds: f64,
    /// Training rows: {"text": ...} or {"messages": [...]} (or "messages_json"), optional
    /// "weight"; `<DOCTAG>` prefixes and `<lossmask>…</lossmask>` spans get zero loss.
    #[arg(long, value_name = "JSONL")]
    pub data: PathBuf,
    /// Output directory: checkpoints/, train_state/, log.jsonl. Re-running the same command
    /// resumes from train_state/.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value = "lora")]
    pub method: Method,
    #[arg(long, default_value_t = 32)]
    pub lora_rank: usize,
    /// Defaults to the rank (scale 1).
    #[arg(long)]
    pub lora_alpha: Option<f64>,
    #[arg(long, default_value_t = 0.0)]
    pub lora_dropout: f64,
    /// Do not adapt the unembedding (the reference adapts it).
    #[arg(long)]
    pub no_train_unembed: bool,
    #[arg(long = "lr", default_value_t = 5e-5)]
    pub learning_rate: f64,
    #[arg(long, value_enum, default_value = "linear")]
    pub schedule: Schedule,
    #[arg(long, default_value_t = 0)]
    pub warmup_steps: usize,
    /// Examples per optimizer step.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Examples per forward pass (gradients are accumulated); defaults to --batch-size.
    #[arg(long)]
    pub micro_batch_size: Option<usize>,
    #[arg(long, default_value_t = 1)]
    pub epochs: usize,
    #[arg(long, default_value_t = 0.9)]
    pub adam_beta1: f64,
    #[arg(long, default_value_t = 0.95)]
    pub adam_beta2: f64,
    #[arg(long, default_value_t = 1e-8)]
    pub adam_eps: f64,
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f64,
    /// Clip the global gradient norm to this value.
    #[arg(long)]
    pub grad_clip: Option<f64>,
    /// Longer examples are truncated.
    #[arg(long, default_value_t = 10_000)]
    pub max_length: usize,
    /// Text rows with fewer tokens are skipped.
    #[arg(long, default_value_t = 10)]
    pub min_tokens: usize,
    /// When to save weights: log-spaced (first at step 10), every --save-every examples, or
    /// only at the end.
    #[arg(long, value_enum, default_value = "final")]
    pub checkpoints: Checkpoints,
    /// Number of log-spaced checkpoints, the final one included.
    #[arg(long, default_value_t = 15)]
    pub n_checkpoints: usize,
    #[arg(long, default_value_t = 2_000)]
    pub save_every: usize,
    /// Also write the resumable state every this many steps (0: only at checkpoints).
    #[arg(long, default_value_t = 25)]
    pub state_every: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// bf16 matmuls over fp32 master weights.
    #[arg(long)]
    pub bf16: bool,
    /// After LoRA training, also write the merged model to OUT/merged.
    #[arg(long)]
    pub merge: bool,
}

impl TrainArgs {
    pub fn config(&self) -> TrainConfig {
        TrainConfig {
            method: match self.method {
                Method::Lora => TrainMethod::Lora,
                Method::Full => TrainMethod::Full,
            },
            lora_rank: self.lora_rank,
            lora_alpha: self.lora_alpha.unwrap_or(self.lora_rank as f64),
            lora_dropout: self.lora_dropout,
            train_unembed: !self.no_train_unembed,
            learning_rate: self.learning_rate,
            lr_schedule: match self.schedule {
                Schedule::Constant => LrSchedule::Constant,
                Schedule::Linear => LrSchedule::Linear,
                Schedule::Cosine => LrSchedule::Cosine,
            },
            warmup_steps: self.warmup_steps,
            batch_size: self.batch_size,
            epochs: self.epochs,
            adam_beta1: self.adam_beta1,
            adam_beta2: self.adam_beta2,
            adam_eps: self.adam_eps,
            weight_decay: self.weight_decay,
            grad_clip: self.grad_clip,
            max_length: self.max_length,
            min_tokens: self.min_tokens,
            checkpoints: match self.checkpoints {
                Checkpoints::Log => CheckpointSchedule::Log,
                Checkpoints::Uniform => CheckpointSchedule::Uniform,
                Checkpoints::Final => CheckpointSchedule::Final,
            },
            checkpoint_count: self.n_checkpoints,
            save_every: self.save_every,
            bf16: self.bf16,
            micro_batch_size: 0,
        }
    }
}
