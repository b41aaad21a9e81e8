//! Fine-tuning: full or LoRA, on tokenised examples with per-token loss masks and
//! per-example weights.
//!
//! - [`examples`]: training rows → token ids and loss weights.
//! - [`schedule`]: learning-rate and checkpoint schedules.
//! - [`optimizer`]: AdamW with savable state.
//! - [`trainer`]: the loop, checkpoints, resume.

pub mod examples;
pub mod optimizer;
pub mod schedule;
pub mod trainer;

pub use examples::{TokenizedExample, tokenize_example, tokenize_rows};
pub use trainer::{
    StepLog, TrainEvent, TrainOptions, TrainOutcome, mean_loss, train, weighted_loss,
};
