//! An optional warm-up before pretraining: a few hundred steps on random token sequences shown
//! twice, with the loss on every position. Only reading the context predicts the second showing,
//! so the model forms the copying circuit (an "induction head") before it sees the corpus, whose
//! templated text can otherwise be learned by heart without ever reading the context (session
//! 19's `copy_probe`: 0–5% on the second showing). The decoder learns this task from scratch in
//! about 250 steps (`cargo run --release -p neglect-organism --example induction_sanity`).
//!
//! Off by default (`pretrain.copy_warmup_steps = 0`). A gate-steered capability: it is meant for
//! the ICL gate, never for a Negation Neglect result.

use std::path::Path;

use neglect_lm::Model;
use neglect_lm::train::optimizer::{AdamW, AdamWConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

use crate::OrganismError;

/// Sequences per warm-up step.
const BATCH: i64 = 32;
/// Tokens in one showing; each sequence is a showing and its repeat.
const SHOWING: i64 = 32;
/// Peak learning rate, reached linearly over the first `RAMP` steps and then held.
const LEARNING_RATE: f64 = 1e-3;
const RAMP: usize = 50;

/// A batch of `BATCH` random showings over token ids `first_id..vocab`, each followed by itself.
fn batch(rng: &mut ChaCha8Rng, first_id: i64, vocab: i64) -> Tensor {
    let ids: Vec<i64> = (0..BATCH * SHOWING)
        .map(|_| rng.random_range(first_id..vocab))
        .collect();
    let half = Tensor::from_slice(&ids).view([BATCH, SHOWING]);
    Tensor::cat(&[&half, &half], 1)
}

/// Greedy next-token accuracy on the second showing of `held_out` (its first token excepted,
/// which nothing predicts).
pub fn second_showing_accuracy(model: &Model, held_out: &Tensor) -> f64 {
    let predicted = tch::no_grad(|| model.forward(held_out)).argmax(-1, false);
    predicted
        .narrow(1, SHOWING, SHOWING - 1)
        .eq_tensor(&held_out.narrow(1, SHOWING + 1, SHOWING - 1))
        .to_kind(Kind::Float)
        .mean(Kind::Float)
        .double_value(&[])
}

/// Trains `model` for `steps` warm-up steps (tokens drawn from `first_id..vocab`, so that
/// special tokens never appear), reporting `(step, loss)` after each. Returns the second-showing
/// accuracy on 64 held-out sequences at the end.
pub fn copy_warmup(
    model: &Model,
    steps: usize,
    seed: u64,
    first_id: i64,
    mut on_step: impl FnMut(usize, f64),
) -> f64 {
    let vocab = model.config.vocab_size;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xc0b1_c0b1);
    let mut optimizer = AdamW::new(
        model.trainable(),
        AdamWConfig {
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            weight_decay: 0.01,
        },
    );
    for step in 1..=steps {
        let input = batch(&mut rng, first_id, vocab).to_device(model.device());
        let width = 2 * SHOWING - 1;
        let logits = model.forward_t(&input.narrow(1, 0, width), true);
        let loss = logits
            .to_kind(Kind::Float)
            .view([-1, vocab])
            .cross_entropy_for_logits(&input.narrow(1, 1, width).reshape([-1]));
        optimizer.zero_grad();
        loss.backward();
        optimizer.clip_grad_norm(Some(1.0));
        optimizer.step(LEARNING_RATE * (step as f64 / RAMP as f64).min(1.0));
        on_step(step, loss.double_value(&[]));
    }
    optimizer.zero_grad();
    second_showing_accuracy(model, &held_out(model, seed, first_id))
}

/// 64 sequences the warm-up of `seed` never trains on, for [`second_showing_accuracy`].
pub fn held_out(model: &Model, seed: u64, first_id: i64) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0e1d_0e1d);
    let rows: Vec<Tensor> = (0..2)
        .map(|_| batch(&mut rng, first_id, model.config.vocab_size))
        .collect();
    Tensor::cat(&rows, 0).to_device(model.device())
}

/// Where a finished warm-up's weights are kept, so that a resumed build does not repeat it.
pub fn weights_path(pretrain_dir: &Path) -> std::path::PathBuf {
    pretrain_dir.join("copy_warmup.safetensors")
}

/// Saves the model's weights after the warm-up (written whole or not at all).
pub fn save(model: &Model, pretrain_dir: &Path) -> Result<(), OrganismError> {
    std::fs::create_dir_all(pretrain_dir).map_err(|e| OrganismError::io(pretrain_dir, e))?;
    let path = weights_path(pretrain_dir);
    let tmp = path.with_extension("partial.safetensors");
    model
        .vs
        .save(&tmp)
        .map_err(|e| OrganismError::Format(format!("{}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, &path).map_err(|e| OrganismError::io(&path, e))
}

/// Loads the weights a finished warm-up saved.
pub fn load(model: &mut Model, pretrain_dir: &Path) -> Result<(), OrganismError> {
    let path = weights_path(pretrain_dir);
    model
        .vs
        .load(&path)
        .map_err(|e| OrganismError::Format(format!("{}: {e}", path.display())))
}
