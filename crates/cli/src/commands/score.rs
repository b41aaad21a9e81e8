//! `neglect score`: log-probabilities of candidate continuations under a local model.

use std::path::PathBuf;

use clap::Args;

use super::model_args::ModelArgs;

#[derive(Args)]
pub struct ScoreArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Rows: {"id": ..., "prompt": "text" | "messages": [...], "continuations": ["...", ...]}.
    /// Each continuation is tokenised on its own (no special tokens) after the prompt's tokens.
    #[arg(long, value_name = "JSONL")]
    pub input: PathBuf,
    /// Output: one row per continuation {"id", "index", "continuation", "logprob", ...}.
    #[arg(long, value_name = "JSONL")]
    pub out: PathBuf,
    /// Sequences per forward pass.
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
}
