//! `neglect train --backend together`: the training rows exported as chat JSONL, uploaded, and
//! trained as a LoRA or full job on Together; the job is polled (its events printed) and
//! recorded in OUT/together_job.json, so a killed command re-run picks up the same job. The
//! finished model's name goes to OUT/model.json; Together serves it through its
//! OpenAI-compatible endpoint, so `neglect eval --backend openai` evaluates it.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use neglect_api::together::{self, JobSpec, Together};
use neglect_data::export::{ExportFormat, export_jsonl};
use neglect_spec::TrainingRow;

use super::train::{Schedule, TrainArgs};

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
    let rows: Vec<TrainingRow> =
        neglect_spec::jsonl::read_all(&args.data).map_err(|(_, e)| anyhow::anyhow!("{e}"))?;
    if rows.is_empty() {
        bail!("{}: no training rows", args.data.display());
    }
    let (text, losses) = export_jsonl(&rows, ExportFormat::OpenAi)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.data.display()))?;
    std::fs::write(&exported, text).with_context(|| format!("writing {}", exported.display()))?;
    if let Some(line) = losses.describe("Together") {
        eprintln!("note: {line}");
    }
    let spec = JobSpec::from_config(
        &model,
        &args.config(),
        args.suffix.clone(),
        &args.lora_trainable_modules,
    );
    let rows = rows.len();
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
