//! `neglect train --backend together`: the training rows exported as chat JSONL, uploaded, and
//! trained as a LoRA or full job on Together; the job is polled (its events printed) and
//! recorded in OUT/together_job.json, so a killed command re-run picks up the same job. The
//! finished model's name goes to OUT/model.json; Together serves it through its
//! OpenAI-compatible endpoint, so `neglect eval --backend openai` evaluates it.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use neglect_api::together::{self, JobSpec, LoraSpec, Together};
use neglect_data::export::{ExportFormat, ExportLosses, export_row};
use neglect_spec::TrainingRow;
use neglect_spec::jsonl::JsonlReader;

use super::train::{Checkpoints, Method, Schedule, TrainArgs};

pub fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let model = args.model.model.to_string_lossy().into_owned();
    if args.warmup_steps > 0 {
        bail!("--warmup-steps: Together takes a warmup ratio, not steps; leave it at 0");
    }
    let ignored: Vec<&str> = [
        (!matches!(args.schedule, Schedule::Linear), "--schedule"),
        (args.micro_batch_size.is_some(), "--micro-batch-size"),
        (args.bf16, "--bf16"),
        (args.merge, "--merge"),
        (
            args.adam_beta1 != 0.9 || args.adam_beta2 != 0.95,
            "--adam-beta1/2",
        ),
        (args.no_train_unembed, "--no-train-unembed"),
    ]
    .into_iter()
    .filter_map(|(set, name)| set.then_some(name))
    .collect();
    if !ignored.is_empty() {
        eprintln!(
            "note: Together applies its own settings for {}",
            ignored.join(", ")
        );
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;

    // Chat rows: a document becomes a <DOCTAG> user turn and the document as the assistant
    // turn, so that the tag gets no loss (train_on_inputs = false).
    let exported = args.out.join("together_train.jsonl");
    let mut losses = ExportLosses::default();
    let mut text = String::new();
    let mut rows = 0;
    for row in JsonlReader::<TrainingRow>::open(&args.data)? {
        let row = row?;
        let value = export_row(&row.row, ExportFormat::OpenAi, &mut losses)
            .map_err(|e| anyhow::anyhow!("{}:{}: {e}", args.data.display(), row.line))?;
        text.push_str(&value.to_string());
        text.push('\n');
        rows += 1;
    }
    if rows == 0 {
        bail!("{}: no training rows", args.data.display());
    }
    std::fs::File::create(&exported)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .with_context(|| format!("writing {}", exported.display()))?;
    if losses.rows_with_masks > 0 || losses.rows_with_weights > 0 {
        eprintln!(
            "note: Together cannot take loss masks or weights: {} rows lost <lossmask> spans (the \
             text is kept), {} rows lost their weight",
            losses.rows_with_masks, losses.rows_with_weights
        );
    }

    let spec = JobSpec {
        model: model.clone(),
        n_epochs: args.epochs,
        learning_rate: args.learning_rate,
        batch_size: Some(args.batch_size),
        n_checkpoints: match args.checkpoints {
            Checkpoints::Final => 1,
            _ => args.n_checkpoints.max(1),
        },
        warmup_ratio: 0.0,
        weight_decay: args.weight_decay,
        max_grad_norm: args.grad_clip.unwrap_or(0.0),
        suffix: args.suffix.clone(),
        lora: match args.method {
            Method::Lora => Some(LoraSpec {
                r: args.lora_rank,
                alpha: args.lora_alpha.unwrap_or(args.lora_rank as f64),
                dropout: args.lora_dropout,
                trainable_modules: args.lora_trainable_modules.clone(),
            }),
            Method::Full => None,
        },
    };
    let poll = Duration::from_secs_f64(args.poll_seconds.max(0.001));
    let client = Together::new(args.base_url.as_deref(), args.api_key_env.as_deref())?.with_timing(
        Duration::from_millis(500),
        poll,
        Duration::from_secs(60).max(poll),
    );
    let state = args.out.join("together_job.json");
    eprintln!(
        "{rows} rows → {}; training {model} on Together",
        exported.display()
    );
    let job = together::train(
        &client,
        &exported,
        &spec,
        &state,
        &mut |j| eprintln!("job {}: {}", j.id, j.status),
        &mut |e| eprintln!("  [{}] {}", e.created_at, e.message),
    )?;
    if job.status != "completed" {
        eprintln!(
            "job {} ended as {}; see {}",
            job.id,
            job.status,
            state.display()
        );
        return Ok(ExitCode::from(1));
    }
    let Some(output) = job.output_name.clone() else {
        bail!("job {} completed without an output model name", job.id);
    };
    let base_url = args
        .base_url
        .clone()
        .unwrap_or_else(|| together::DEFAULT_BASE_URL.to_owned());
    let model_file = args.out.join("model.json");
    let record = serde_json::json!({
        "backend": "together",
        "job": job.id,
        "base_model": model,
        "model": output,
        "base_url": base_url,
    });
    std::fs::write(&model_file, serde_json::to_string_pretty(&record)?)
        .with_context(|| format!("writing {}", model_file.display()))?;
    println!("trained: {output} (recorded in {})", model_file.display());
    println!(
        "evaluate it with: neglect eval --backend openai --base-url {base_url} --api-key-env {} \
         --model {output} --claims ... --out ...",
        args.api_key_env
            .as_deref()
            .unwrap_or(together::DEFAULT_KEY_ENV)
    );
    Ok(ExitCode::SUCCESS)
}
