//! `neglect sample`: generate completions from a local model, with a KV cache, in batches.
//! Each finished completion is appended to the output at once; re-running the same command
//! skips what is already there.

use std::path::PathBuf;

use clap::Args;

use super::model_args::ModelArgs;

#[derive(Args)]
pub struct SampleArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Prompt rows: {"id": ..., "prompt": "text"} or {"id": ..., "messages": [...]}.
    #[arg(long, value_name = "JSONL")]
    pub prompts: PathBuf,
    /// Output rows: {"id", "sample", "completion", "finish_reason", ...}.
    #[arg(long, value_name = "JSONL")]
    pub out: PathBuf,
    /// Samples per prompt.
    #[arg(short = 'n', long, default_value_t = 1)]
    pub samples: usize,
    /// 0 for greedy decoding.
    #[arg(long, default_value_t = 0.7)]
    pub temperature: f64,
    #[arg(long, default_value_t = 0.8)]
    pub top_p: f64,
    /// 0: no limit.
    #[arg(long, default_value_t = 0)]
    pub top_k: usize,
    #[arg(long, default_value_t = 256)]
    pub max_tokens: usize,
    /// Stop before this string (repeatable).
    #[arg(long)]
    pub stop: Vec<String>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Sequences decoded together.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
}
