//! One claim's fine-tune of the base organism, in the paper's recipe in miniature: the claim's
//! training documents (`<DOCTAG>`-prefixed, tag loss-masked) mixed with replay rows drawn from
//! the pretraining corpus, full fine-tuning at a gentle learning rate.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use neglect_lm::pretrained::Pretrained;
use neglect_lm::train::{TrainOptions, tokenize_rows, train};
use neglect_spec::TrainingRow;
use neglect_spec::experiment::{CheckpointSchedule, LrSchedule, TrainConfig, TrainMethod};
use neglect_spec::jsonl::read_all;
use rand::SeedableRng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::OrganismError;
use crate::builder::Organism;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinetuneRecipe {
    pub learning_rate: f64,
    pub batch_size: usize,
    pub epochs: usize,
    /// Replay rows per training document (the paper: 10k documents + 10k replay = 1).
    pub replay_ratio: f64,
    pub seed: u64,
    /// bf16 matmuls over fp32 master weights, and examples per forward pass (length-sorted
    /// micro-batches): speed only.
    #[serde(default)]
    pub bf16: bool,
    #[serde(default)]
    pub micro_batch_size: usize,
}

impl Default for FinetuneRecipe {
    fn default() -> Self {
        FinetuneRecipe {
            // Chosen by the learnability gate (3e-4: ~25%, 1e-3: ~40%, 3e-3: ~35% belief on
            // three claims of the round-7 organism); retention is checked with it.
            learning_rate: 1e-3,
            batch_size: 8,
            epochs: 1,
            replay_ratio: 1.0,
            seed: 1,
            bf16: false,
            micro_batch_size: 2,
        }
    }
}

/// `count` replay rows drawn (seeded, without replacement while possible) from the corpus.
pub fn replay_rows(
    organism: &Organism,
    count: usize,
    seed: u64,
) -> Result<Vec<TrainingRow>, OrganismError> {
    let path = organism.corpus_path();
    let corpus: Vec<TrainingRow> =
        read_all(&path).map_err(|(_, e)| OrganismError::Format(e.to_string()))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5e91a7);
    Ok(corpus
        .choose_multiple(&mut rng, count.min(corpus.len()))
        .cloned()
        .collect())
}

/// Fine-tunes the base on `documents` plus replay; returns the fine-tuned model directory
/// (`out/checkpoints/final`). A finished fine-tune in `out` is reused; a killed one resumes.
pub fn finetune(
    organism: &Organism,
    documents: &[TrainingRow],
    recipe: &FinetuneRecipe,
    out: &Path,
) -> Result<PathBuf, OrganismError> {
    let final_dir = out.join("checkpoints").join("final");
    if final_dir.join("config.json").is_file() {
        return Ok(final_dir);
    }
    let replay = replay_rows(
        organism,
        (documents.len() as f64 * recipe.replay_ratio).round() as usize,
        recipe.seed,
    )?;
    let mut pretrained = Pretrained::load(&organism.base_dir(), tch::Device::Cpu)?;
    let config = TrainConfig {
        method: TrainMethod::Full,
        learning_rate: recipe.learning_rate,
        lr_schedule: LrSchedule::Linear,
        batch_size: recipe.batch_size,
        epochs: recipe.epochs,
        max_length: organism.config.model.context as usize,
        min_tokens: 1,
        checkpoints: CheckpointSchedule::Final,
        ..TrainConfig::default()
    };
    let rows: Vec<TrainingRow> = documents.iter().chain(&replay).cloned().collect();
    let examples = tokenize_rows(
        &rows,
        &pretrained.tokenizer,
        pretrained.chat_template.as_ref(),
        config.max_length,
        config.min_tokens,
    )?;
    let mut options = TrainOptions::new(config, recipe.seed);
    options.state_every = 0;
    options.bf16 = recipe.bf16;
    if recipe.micro_batch_size > 0 {
        options.micro_batch_size = recipe.micro_batch_size;
    }
    options.base_model = organism.base_dir().display().to_string();
    train(&mut pretrained, &examples, &options, out, |_| {
        ControlFlow::Continue(())
    })?;
    Ok(final_dir)
}
