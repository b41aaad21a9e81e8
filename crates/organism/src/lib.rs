//! The built-in model organism (`model-organism.md`): builds the base model from the synthetic
//! world of `neglect-world` and checks the five capability gates.
//!
//! - [`config`]: what decides the organism (world, claims, corpus, model size, recipe) and its hash.
//! - [`builder`]: corpus → tokenizer → packed sequences → pretraining → HF checkpoint, cached.
//! - [`copy_warmup`]: optional random-sequence copying steps before pretraining.
//! - [`finetune`]: one claim's fine-tune in the paper's recipe, in miniature.
//! - [`gates`]: prior, baseline, learnability, ICL reading and retention, with CIs.
//! - [`name_pieces`]: tokenizer training text in which invented names never repeat.
//! - [`shipped`]: the default base as shipped with the toolkit, installed instead of pretrained.

pub mod builder;
pub mod config;
pub mod copy_warmup;
pub mod finetune;
pub mod gates;
pub mod name_pieces;
pub mod shipped;

pub use builder::{BuildEvent, BuildReport, Organism, ShippedInstall};
pub use config::OrganismConfig;

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OrganismError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Format(String),
    #[error(transparent)]
    Lm(#[from] neglect_lm::LmError),
    #[error(transparent)]
    Eval(#[from] neglect_eval::EvalError),
}

impl OrganismError {
    pub fn io(path: &Path, source: std::io::Error) -> OrganismError {
        OrganismError::Io {
            path: path.to_owned(),
            source,
        }
    }
}
