//! `neglect train`: the training itself (the arguments are in `neglect_cli::commands::train`).

use anyhow::{Context, bail};
use neglect_cli::commands::model_args::progress_bar;
use neglect_cli::commands::train::*;
use neglect_lm::tokenizer::Tokenizer;
use neglect_lm::train::{TokenizedExample, TrainEvent, TrainOptions, tokenize_example, train};
use neglect_spec::TrainingRow;
use neglect_spec::experiment::TrainConfig;
use neglect_spec::jsonl::JsonlReader;
use std::ops::ControlFlow;
use std::process::ExitCode;

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
    let mut pretrained = crate::local_model::load(&args.model)?;
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
