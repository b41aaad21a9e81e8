//! `neglect world build` and `neglect world check`: the built-in model organism.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Subcommand)]
pub enum WorldCommand {
    /// Build the base organism: world, held-out claims, corpus, tokenizer, pretraining. The
    /// result is cached under the config's hash; a finished build is reused and a killed one
    /// resumes. The default config's base ships with neglect and is installed in seconds unless
    /// --from-scratch is given.
    Build(BuildArgs),
    /// Check the five capability gates (prior, baseline, learnability, ICL reading,
    /// retention) on the built base, with 95% CIs.
    Check(CheckArgs),
}

#[derive(Args, Clone)]
pub struct WorldArgs {
    /// An organism config (JSON, the layout of `config.json` in a built organism); default: the
    /// built-in one.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A very small world and model (for trying the commands out in seconds; fails the gates).
    #[arg(long, conflicts_with = "config")]
    pub tiny: bool,
    /// Where organisms are cached (`<dir>/world/<hash>/`).
    #[arg(long, default_value = ".cache", value_name = "DIR")]
    pub cache_dir: PathBuf,
    /// CPU threads for libtorch (0: libtorch's default).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

#[derive(Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub world: WorldArgs,
    /// Pretrain the base even where the shipped one matches the config (about an hour on 2 cores
    /// without bf16 units); replaces an installed shipped base in the cache.
    #[arg(long)]
    pub from_scratch: bool,
}

#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub world: WorldArgs,
    /// True facts probed for the prior gate (four question types each).
    #[arg(long, default_value_t = 150)]
    pub prior_facts: usize,
    /// Answers sampled per eval question for the belief gates.
    #[arg(long, default_value_t = 2)]
    pub samples: usize,
    /// Learning rate of the learnability gate's fine-tunes (and so of retention); default: the
    /// recipe's (1e-3).
    #[arg(long, value_name = "LR")]
    pub finetune_lr: Option<f64>,
    /// Where the answers and gates.json go (default `<organism>/check`, which reports read);
    /// a check under other settings, or of another organism, in the same place replaces the one
    /// there.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}
