//! The training loop: seeded data order, micro-batches with gradient accumulation, weighted
//! per-token cross-entropy, clipping, AdamW with a schedule, checkpoints at chosen steps, and a
//! resumable state written as training goes so that a killed run carries on where it was.
//!
//! Output directory:
//! - `train_state/`: the latest resumable state (weights or adapter, optimizer moments,
//!   `trainer_state.json`), replaced atomically.
//! - `checkpoints/step-000010/`, …, `checkpoints/final/`: LoRA runs write PEFT adapters, full
//!   runs complete HF model directories.
//! - `log.jsonl`: one row per optimizer step.

use std::collections::BTreeMap;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use neglect_spec::experiment::{TrainConfig, TrainMethod};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tch::{Kind, Tensor};

use super::examples::TokenizedExample;
use super::optimizer::{AdamW, AdamWConfig};
use super::schedule::{checkpoint_steps, learning_rate};
use crate::checkpoint::{load_into, write_safetensors};
use crate::error::LmError;
use crate::lora::{ADAPTER_WEIGHTS_FILE, LoraConfig};
use crate::pretrained::Pretrained;

pub const STATE_DIR: &str = "train_state";
pub const CHECKPOINTS_DIR: &str = "checkpoints";
pub const LOG_FILE: &str = "log.jsonl";
const TRAINER_STATE_FILE: &str = "trainer_state.json";
const OPTIMIZER_FILE: &str = "optimizer.safetensors";
const FULL_WEIGHTS_FILE: &str = "model.safetensors";

/// Everything about a run that is not in the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    pub config: TrainConfig,
    pub seed: u64,
    /// Examples per forward pass; a batch is split into micro-batches whose gradients add up.
    pub micro_batch_size: usize,
    /// Run matmuls in bf16 (fp32 master weights and optimizer state either way).
    pub bf16: bool,
    /// Also write the resumable state every this many steps (0: only at checkpoints).
    pub state_every: usize,
    /// Recorded in adapters as `base_model_name_or_path`.
    pub base_model: String,
}

impl TrainOptions {
    pub fn new(config: TrainConfig, seed: u64) -> TrainOptions {
        TrainOptions {
            micro_batch_size: config.batch_size,
            config,
            seed,
            bf16: false,
            state_every: 25,
            base_model: String::new(),
        }
    }
}

/// One logged optimizer step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepLog {
    /// Optimizer steps completed (1-based).
    pub step: usize,
    pub total_steps: usize,
    pub epoch: usize,
    /// Weighted mean cross-entropy per trained token.
    pub loss: f64,
    pub lr: f64,
    pub grad_norm: f64,
    /// Trained target tokens in this batch.
    pub tokens: usize,
    pub examples: usize,
    pub elapsed_s: f64,
}

/// What happened, for the caller and the progress display.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainEvent<'a> {
    Started {
        total_steps: usize,
        resumed_at: usize,
        checkpoint_steps: &'a [usize],
    },
    Step(&'a StepLog),
    Checkpoint {
        step: usize,
        dir: &'a Path,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutcome {
    pub total_steps: usize,
    /// The step training resumed from (0 for a fresh run).
    pub resumed_at: usize,
    /// `(step, directory)` of every checkpoint, including ones written by earlier attempts.
    pub checkpoints: Vec<(usize, PathBuf)>,
    /// Set when the progress callback asked to stop early.
    pub interrupted_at: Option<usize>,
    /// Whether the matmuls ran in bf16 (asked for, and native on the device).
    pub bf16: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TrainerState {
    step: usize,
    fingerprint: String,
}

/// Hash of the settings and the tokenised data, so that a resume with anything changed is
/// refused instead of silently mixing two runs.
fn fingerprint(options: &TrainOptions, examples: &[Option<TokenizedExample>]) -> String {
    let mut h = Sha256::new();
    let mut relevant = options.clone();
    relevant.state_every = 0; // how often state is written does not change the result
    h.update(serde_json::to_vec(&relevant).expect("json"));
    for e in examples {
        match e {
            None => h.update([0u8]),
            Some(e) => {
                h.update([1u8]);
                h.update(e.weight.to_le_bytes());
                for (&id, &m) in e.ids.iter().zip(&e.loss_mask) {
                    h.update(id.to_le_bytes());
                    h.update(m.to_le_bytes());
                }
            }
        }
    }
    format!("{:x}", h.finalize())
}

/// The example order of `epoch`: a seeded shuffle, different every epoch.
fn epoch_order(n: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    order.shuffle(&mut rng);
    order
}

fn checkpoint_dir(out: &Path, step: usize, total: usize) -> PathBuf {
    let name = if step == total {
        "final".to_owned()
    } else {
        format!("step-{step:06}")
    };
    out.join(CHECKPOINTS_DIR).join(name)
}

/// Trains `pretrained` on `examples` (`None` entries are rows that were skipped, e.g. too
/// short; they still take their place in the batches, as in the reference). Resumes from
/// `out/train_state` when it is there and matches. `progress` sees every event and may stop the
/// run by returning `Break` (the state on disk is then whatever was last written).
pub fn train(
    pretrained: &mut Pretrained,
    examples: &[Option<TokenizedExample>],
    options: &TrainOptions,
    out: &Path,
    mut progress: impl FnMut(TrainEvent) -> ControlFlow<()>,
) -> Result<TrainOutcome, LmError> {
    let c = &options.config;
    if c.batch_size == 0 || options.micro_batch_size == 0 {
        return Err(LmError::Format("batch sizes must be at least 1".into()));
    }
    let per_epoch = examples.len() / c.batch_size;
    let total = per_epoch * c.epochs;
    if total == 0 {
        return Err(LmError::Format(format!(
            "{} training rows make no full batch of {} (× {} epochs): nothing to train",
            examples.len(),
            c.batch_size,
            c.epochs
        )));
    }
    let ckpt_steps = checkpoint_steps(
        c.checkpoints,
        total,
        c.checkpoint_count,
        c.save_every,
        c.batch_size,
    );
    std::fs::create_dir_all(out).map_err(|e| LmError::io(out, e))?;

    let model = &mut pretrained.model;
    let bf16 = crate::runtime::bf16_usable(options.bf16, model.device());
    if options.bf16 && !bf16 {
        eprintln!(
            "note: bf16 was asked for, but this CPU has no native bf16 (AMX or AVX512-BF16), \
             where libtorch's emulated bf16 is about 13× slower: training in fp32"
        );
    }
    model.compute_kind = if bf16 { Kind::BFloat16 } else { Kind::Float };
    if c.method == TrainMethod::Lora && model.lora.is_none() {
        let lora = LoraConfig::new(
            c.lora_rank as i64,
            c.lora_alpha,
            c.lora_dropout,
            c.train_unembed,
        );
        model.attach_lora(&lora, options.seed as i64)?;
    }
    let mut optimizer = AdamW::new(
        model.trainable(),
        AdamWConfig {
            beta1: c.adam_beta1,
            beta2: c.adam_beta2,
            eps: c.adam_eps,
            weight_decay: c.weight_decay,
        },
    );

    let print = fingerprint(options, examples);
    let resumed_at = resume(pretrained, &mut optimizer, out, &print)?;
    let log_path = out.join(LOG_FILE);
    truncate_log(&log_path, resumed_at)?;
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| LmError::io(&log_path, e))?;

    let mut checkpoints: Vec<(usize, PathBuf)> = ckpt_steps
        .iter()
        .filter(|&&s| s <= resumed_at)
        .map(|&s| (s, checkpoint_dir(out, s, total)))
        .collect();
    if progress(TrainEvent::Started {
        total_steps: total,
        resumed_at,
        checkpoint_steps: &ckpt_steps,
    })
    .is_break()
    {
        return Ok(TrainOutcome {
            bf16,
            total_steps: total,
            resumed_at,
            checkpoints,
            interrupted_at: Some(resumed_at),
        });
    }

    let started = Instant::now();
    let device = pretrained.model.device();
    let pad = pretrained.tokenizer.pad_id() as i64;
    let mut order_epoch = usize::MAX;
    let mut order = Vec::new();
    for step in resumed_at..total {
        let epoch = step / per_epoch;
        if epoch != order_epoch {
            order = epoch_order(examples.len(), options.seed, epoch);
            order_epoch = epoch;
        }
        let in_epoch = step % per_epoch;
        let mut batch: Vec<&TokenizedExample> = order
            [in_epoch * c.batch_size..(in_epoch + 1) * c.batch_size]
            .iter()
            .filter_map(|&i| examples[i].as_ref())
            .collect();
        if options.micro_batch_size < batch.len() {
            // Micro-batches of similar lengths pad less; the gradient is the same sum over
            // the batch, normalised by the batch's token count.
            batch.sort_by_key(|e| e.ids.len());
        }
        // Dropout masks depend only on (seed, step), so a resumed run draws the same ones.
        tch::manual_seed(
            (options.seed as i64)
                .wrapping_mul(1_000_003)
                .wrapping_add(step as i64),
        );
        let tokens: usize = batch.iter().map(|e| e.trained_targets()).sum();
        let mut loss_total = 0.0;
        if tokens > 0 {
            for micro in batch.chunks(options.micro_batch_size) {
                let loss = weighted_loss(&pretrained.model, micro, pad, device) / tokens as f64;
                loss.backward();
                loss_total += loss.double_value(&[]);
            }
        }
        let grad_norm = optimizer.clip_grad_norm(c.grad_clip);
        let lr = learning_rate(c.lr_schedule, c.learning_rate, c.warmup_steps, step, total);
        if tokens > 0 {
            optimizer.step(lr);
        }
        optimizer.zero_grad();
        let done = step + 1;
        let row = StepLog {
            step: done,
            total_steps: total,
            epoch,
            loss: loss_total,
            lr,
            grad_norm,
            tokens,
            examples: batch.len(),
            elapsed_s: started.elapsed().as_secs_f64(),
        };
        if !row.loss.is_finite() {
            return Err(LmError::Format(format!(
                "step {done}: the loss is {} (try a lower learning rate or gradient clipping)",
                row.loss
            )));
        }
        let line = serde_json::to_string(&row).expect("json");
        writeln!(log, "{line}")
            .and_then(|()| log.flush())
            .map_err(|e| LmError::io(&log_path, e))?;
        let is_checkpoint = ckpt_steps.contains(&done);
        if is_checkpoint {
            let dir = checkpoint_dir(out, done, total);
            save_checkpoint(pretrained, &dir, &options.base_model)?;
            checkpoints.push((done, dir));
        }
        if is_checkpoint || (options.state_every > 0 && done % options.state_every == 0) {
            save_state(pretrained, &optimizer, out, done, &print)?;
        }
        let mut flow = progress(TrainEvent::Step(&row));
        if is_checkpoint {
            let (s, dir) = checkpoints.last().expect("just pushed");
            flow = match flow {
                ControlFlow::Continue(()) => progress(TrainEvent::Checkpoint { step: *s, dir }),
                b => b,
            };
        }
        if flow.is_break() && done < total {
            return Ok(TrainOutcome {
                bf16,
                total_steps: total,
                resumed_at,
                checkpoints,
                interrupted_at: Some(done),
            });
        }
    }
    Ok(TrainOutcome {
        bf16,
        total_steps: total,
        resumed_at,
        checkpoints,
        interrupted_at: None,
    })
}

/// Σ over target tokens of `cross-entropy × token mask × example weight` for a micro-batch,
/// right-padded to its longest example.
pub fn weighted_loss(
    model: &crate::model::Model,
    micro: &[&TokenizedExample],
    pad: i64,
    device: tch::Device,
) -> Tensor {
    loss_sum(model, micro, pad, device, true)
}

/// [`weighted_loss`], in training mode (LoRA dropout on) or not.
fn loss_sum(
    model: &crate::model::Model,
    micro: &[&TokenizedExample],
    pad: i64,
    device: tch::Device,
    train: bool,
) -> Tensor {
    let t = micro.iter().map(|e| e.ids.len()).max().unwrap_or(1).max(2);
    let b = micro.len();
    let mut ids = vec![pad; b * t];
    let mut weights = vec![0f32; b * t];
    for (i, e) in micro.iter().enumerate() {
        for (j, (&id, &m)) in e.ids.iter().zip(&e.loss_mask).enumerate() {
            ids[i * t + j] = id as i64;
            weights[i * t + j] = m * e.weight;
        }
    }
    let ids = Tensor::from_slice(&ids)
        .view([b as i64, t as i64])
        .to_device(device);
    let weights = Tensor::from_slice(&weights)
        .view([b as i64, t as i64])
        .to_device(device);
    let t = t as i64;
    let input = ids.narrow(1, 0, t - 1);
    let target = ids.narrow(1, 1, t - 1).reshape([-1]);
    let w = weights.narrow(1, 1, t - 1).reshape([-1]);
    let logits = model.forward_t(&input, train);
    let vocab = logits.size()[2];
    // (log_softmax + nll rather than tch's cross_entropy helper, which computes in fp32 even
    // for fp64 models and would spoil gradient checks.)
    let nll = logits
        .view([-1, vocab])
        .log_softmax(-1, None)
        .nll_loss_nd::<Tensor>(&target, None, tch::Reduction::None, -100);
    (nll * w.to_kind(logits.kind())).sum(logits.kind())
}

/// Mean cross-entropy per trained target token over `examples` (each example's own weight
/// ignored; `None` rows skipped), without gradients, `micro` examples per forward pass.
/// Returns (mean loss, target tokens); NaN when nothing is trained.
pub fn mean_loss(
    pretrained: &Pretrained,
    examples: &[Option<TokenizedExample>],
    micro: usize,
) -> (f64, usize) {
    let _guard = tch::no_grad_guard();
    let device = pretrained.model.device();
    let pad = pretrained.tokenizer.pad_id() as i64;
    let mut rows: Vec<TokenizedExample> = examples
        .iter()
        .flatten()
        .map(|e| TokenizedExample {
            weight: 1.0,
            ..e.clone()
        })
        .collect();
    // Similar lengths together pad less.
    rows.sort_by_key(|e| e.ids.len());
    let (mut sum, mut tokens) = (0.0, 0usize);
    for chunk in rows.chunks(micro.max(1)) {
        let refs: Vec<&TokenizedExample> = chunk.iter().collect();
        sum += loss_sum(&pretrained.model, &refs, pad, device, false).double_value(&[]);
        tokens += chunk
            .iter()
            .map(TokenizedExample::trained_targets)
            .sum::<usize>();
    }
    if tokens == 0 {
        (f64::NAN, 0)
    } else {
        (sum / tokens as f64, tokens)
    }
}

fn save_checkpoint(pretrained: &Pretrained, dir: &Path, base_model: &str) -> Result<(), LmError> {
    let tmp = dir.with_extension("partial");
    let _ = std::fs::remove_dir_all(&tmp);
    if pretrained.model.lora.is_some() {
        pretrained.model.save_adapter(&tmp, base_model)?;
    } else {
        pretrained.save(&tmp, Kind::Float)?;
    }
    replace_dir(&tmp, dir)
}

/// Moves `from` to `to`, replacing what was there, so readers never see half a directory.
fn replace_dir(from: &Path, to: &Path) -> Result<(), LmError> {
    if to.exists() {
        let old = to.with_extension("old");
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(to, &old).map_err(|e| LmError::io(to, e))?;
        std::fs::rename(from, to).map_err(|e| LmError::io(to, e))?;
        std::fs::remove_dir_all(&old).map_err(|e| LmError::io(&old, e))
    } else {
        std::fs::rename(from, to).map_err(|e| LmError::io(to, e))
    }
}

fn save_state(
    pretrained: &Pretrained,
    optimizer: &AdamW,
    out: &Path,
    step: usize,
    fingerprint: &str,
) -> Result<(), LmError> {
    let dir = out.join(STATE_DIR);
    let tmp = out.join(format!("{STATE_DIR}.partial"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| LmError::io(&tmp, e))?;
    let weights: BTreeMap<String, Tensor> = pretrained.model.trainable().into_iter().collect();
    write_safetensors(&tmp.join(weights_file(pretrained)), &weights, Kind::Float)?;
    optimizer.save(&tmp.join(OPTIMIZER_FILE))?;
    let state = TrainerState {
        step,
        fingerprint: fingerprint.to_owned(),
    };
    let path = tmp.join(TRAINER_STATE_FILE);
    std::fs::write(&path, serde_json::to_string_pretty(&state).expect("json"))
        .map_err(|e| LmError::io(&path, e))?;
    replace_dir(&tmp, &dir)
}

fn weights_file(pretrained: &Pretrained) -> &'static str {
    if pretrained.model.lora.is_some() {
        ADAPTER_WEIGHTS_FILE
    } else {
        FULL_WEIGHTS_FILE
    }
}

/// Loads `out/train_state` when present; returns the step to continue from.
fn resume(
    pretrained: &mut Pretrained,
    optimizer: &mut AdamW,
    out: &Path,
    fingerprint: &str,
) -> Result<usize, LmError> {
    let mut dir = out.join(STATE_DIR);
    if !dir.is_dir() {
        // A kill between the two renames of `replace_dir` leaves only the previous state.
        let old = dir.with_extension("old");
        if old.is_dir() {
            dir = old;
        } else {
            return Ok(0);
        }
    }
    let path = dir.join(TRAINER_STATE_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| LmError::io(&path, e))?;
    let state: TrainerState = serde_json::from_str(&text)
        .map_err(|e| LmError::Format(format!("{}: {e}", path.display())))?;
    if state.fingerprint != fingerprint {
        return Err(LmError::Format(format!(
            "{}: this output directory holds a run with different data or settings; \
             use another output directory, or delete it to start over",
            out.display()
        )));
    }
    let files = [dir.join(weights_file(pretrained))];
    let mut vars = pretrained.model.trainable();
    load_into(&mut vars, &files, |_| false)?;
    optimizer.load(&dir.join(OPTIMIZER_FILE))?;
    Ok(state.step)
}

/// Drops log rows past `step` (written after the state a resume starts from).
fn truncate_log(path: &Path, step: usize) -> Result<(), LmError> {
    if !path.exists() {
        return Ok(());
    }
    let text = std::fs::read_to_string(path).map_err(|e| LmError::io(path, e))?;
    let kept: String = text
        .lines()
        .filter(|line| {
            serde_json::from_str::<StepLog>(line)
                .map(|row| row.step <= step)
                .unwrap_or(false)
        })
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(path, kept).map_err(|e| LmError::io(path, e))
}
