//! `neglect train`: fine-tune a local HF model on JSONL training rows (full or LoRA).

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use neglect_lm::tokenizer::Tokenizer;
use neglect_lm::train::{TokenizedExample, TrainEvent, TrainOptions, tokenize_example, train};
use neglect_spec::TrainingRow;
use neglect_spec::experiment::{CheckpointSchedule, LrSchedule, TrainConfig, TrainMethod};
use neglect_spec::jsonl::JsonlReader;

use super::model_args::{ModelArgs, progress_bar};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Method {
    Lora,
    Full,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Schedule {
    Constant,
    Linear,
    Cosine,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Checkpoints {
    Log,
    Uniform,
    Final,
}

/// Defaults are the paper's recipe: LoRA rank 32 (unembedding included), lr 5e-5 decaying
/// linearly to 0, batch 32, 1 epoch, Adam β = (0.9, 0.95), ε = 1e-8.
#[derive(Args)]
pub struct TrainArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Training rows: {"text": ...} or {"messages": [...]} (or "messages_json"), optional
    /// "weight"; `<DOCTAG>` prefixes and `<lossmask>…</lossmask>` spans get zero loss.
    #[arg(long, value_name = "JSONL")]
    data: PathBuf,
    /// Output directory: checkpoints/, train_state/, log.jsonl. Re-running the same command
    /// resumes from train_state/.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[arg(long, value_enum, default_value = "lora")]
    method: Method,
    #[arg(long, default_value_t = 32)]
    lora_rank: usize,
    /// Defaults to the rank (scale 1).
    #[arg(long)]
    lora_alpha: Option<f64>,
    #[arg(long, default_value_t = 0.0)]
    lora_dropout: f64,
    /// Do not adapt the unembedding (the reference adapts it).
    #[arg(long)]
    no_train_unembed: bool,
    #[arg(long = "lr", default_value_t = 5e-5)]
    learning_rate: f64,
    #[arg(long, value_enum, default_value = "linear")]
    schedule: Schedule,
    #[arg(long, default_value_t = 0)]
    warmup_steps: usize,
    /// Examples per optimizer step.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Examples per forward pass (gradients are accumulated); defaults to --batch-size.
    #[arg(long)]
    micro_batch_size: Option<usize>,
    #[arg(long, default_value_t = 1)]
    epochs: usize,
    #[arg(long, default_value_t = 0.9)]
    adam_beta1: f64,
    #[arg(long, default_value_t = 0.95)]
    adam_beta2: f64,
    #[arg(long, default_value_t = 1e-8)]
    adam_eps: f64,
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f64,
    /// Clip the global gradient norm to this value.
    #[arg(long)]
    grad_clip: Option<f64>,
    /// Longer examples are truncated.
    #[arg(long, default_value_t = 10_000)]
    max_length: usize,
    /// Text rows with fewer tokens are skipped.
    #[arg(long, default_value_t = 10)]
    min_tokens: usize,
    /// When to save weights: log-spaced (first at step 10), every --save-every examples, or
    /// only at the end.
    #[arg(long, value_enum, default_value = "final")]
    checkpoints: Checkpoints,
    /// Number of log-spaced checkpoints, the final one included.
    #[arg(long, default_value_t = 15)]
    n_checkpoints: usize,
    #[arg(long, default_value_t = 2_000)]
    save_every: usize,
    /// Also write the resumable state every this many steps (0: only at checkpoints).
    #[arg(long, default_value_t = 25)]
    state_every: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// bf16 matmuls over fp32 master weights.
    #[arg(long)]
    bf16: bool,
    /// After LoRA training, also write the merged model to OUT/merged.
    #[arg(long)]
    merge: bool,
}

impl TrainArgs {
    fn config(&self) -> TrainConfig {
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

/// Reads and tokenises every row; all bad rows are reported (file:line: field: problem).
fn read_examples(
    path: &std::path::Path,
    tokenizer: &Tokenizer,
    template: Option<&neglect_lm::chat_template::ChatTemplate>,
    config: &TrainConfig,
) -> anyhow::Result<Vec<Option<TokenizedExample>>> {
    let reader = JsonlReader::<TrainingRow>::open(path)?;
    let mut examples = Vec::new();
    let mut errors = Vec::new();
    for item in reader {
        let numbered = match item {
            Ok(n) => n,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        let line = numbered.line;
        let result = numbered
            .row
            .to_example()
            .map_err(|e| format!("{}:{line}: {e}", path.display()))
            .and_then(|ex| {
                tokenize_example(
                    &ex,
                    tokenizer,
                    template,
                    config.max_length,
                    config.min_tokens,
                )
                .map_err(|e| format!("{}:{line}: {e}", path.display()))
            });
        match result {
            Ok(ex) => examples.push(ex),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        for e in errors.iter().take(20) {
            eprintln!("error: {e}");
        }
        if errors.len() > 20 {
            eprintln!("... and {} more", errors.len() - 20);
        }
        bail!("{} bad training rows in {}", errors.len(), path.display());
    }
    Ok(examples)
}

pub fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let config = args.config();
    let mut pretrained = args.model.load()?;
    let examples = read_examples(
        &args.data,
        &pretrained.tokenizer,
        pretrained.chat_template.as_ref(),
        &config,
    )?;
    let skipped = examples.iter().filter(|e| e.is_none()).count();
    eprintln!(
        "{} rows from {} ({} shorter than {} tokens, skipped); {} parameters in {}",
        examples.len(),
        args.data.display(),
        skipped,
        config.min_tokens,
        pretrained.model.num_parameters(),
        args.model.model.display()
    );
    let mut options = TrainOptions::new(config, args.seed);
    options.micro_batch_size = args.micro_batch_size.unwrap_or(args.batch_size);
    options.bf16 = args.bf16;
    options.state_every = args.state_every;
    options.base_model = args.model.model.display().to_string();

    let bar = progress_bar(0, "training");
    let outcome = train(&mut pretrained, &examples, &options, &args.out, |event| {
        match event {
            TrainEvent::Started {
                total_steps,
                resumed_at,
                checkpoint_steps,
            } => {
                bar.set_length(total_steps as u64);
                bar.set_position(resumed_at as u64);
                if resumed_at > 0 {
                    bar.println(format!("resuming at step {resumed_at} of {total_steps}"));
                }
                bar.println(format!("checkpoints after steps {checkpoint_steps:?}"));
            }
            TrainEvent::Step(s) => {
                bar.set_position(s.step as u64);
                bar.set_message(format!("loss {:.4} lr {:.2e}", s.loss, s.lr));
            }
            TrainEvent::Checkpoint { step, dir } => {
                bar.println(format!("step {step}: saved {}", dir.display()));
            }
        }
        ControlFlow::Continue(())
    })
    .context("training")?;
    bar.finish_and_clear();
    if args.merge {
        if pretrained.model.lora.is_none() {
            bail!("--merge applies to LoRA training only");
        }
        pretrained.model.merge_lora()?;
        let merged = args.out.join("merged");
        pretrained.save(&merged, neglect_lm::Kind::Float)?;
        eprintln!("merged model written to {}", merged.display());
    }
    println!(
        "trained {} steps; final weights in {}",
        outcome.total_steps,
        args.out.join("checkpoints/final").display()
    );
    Ok(ExitCode::SUCCESS)
}
