//! `neglect sample`: generation with a local model (arguments: `neglect_cli::commands::sample`).

use crate::prompts::{PromptRow, sample_seed};
use anyhow::{Context, bail};
use neglect_cli::commands::model_args::progress_bar;
use neglect_cli::commands::sample::*;
use neglect_lm::sampling::{GenerationRequest, SamplingParams, generate};
use neglect_spec::jsonl::{JsonlReader, JsonlWriter};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::process::ExitCode;

#[derive(Debug, Serialize, Deserialize)]
struct SampleRow {
    id: String,
    sample: usize,
    completion: String,
    finish_reason: String,
    prompt_tokens: usize,
    completion_tokens: usize,
    seed: u64,
}

pub fn run(args: SampleArgs) -> anyhow::Result<ExitCode> {
    let model = crate::local_model::load(&args.model)?;
    let params = SamplingParams {
        temperature: args.temperature,
        top_p: args.top_p,
        top_k: args.top_k,
        max_new_tokens: args.max_tokens,
        stop: args.stop.clone(),
    };
    params.validate()?;

    let done: HashSet<(String, usize)> = if args.out.exists() {
        JsonlReader::<SampleRow>::open(&args.out)?
            .map(|r| r.map(|n| (n.row.id, n.row.sample)))
            .collect::<Result<_, _>>()
            .with_context(|| format!("{} exists but is not a samples file", args.out.display()))?
    } else {
        HashSet::new()
    };

    let mut requests = Vec::new();
    let mut keys = Vec::new();
    let mut errors = Vec::new();
    for item in JsonlReader::<PromptRow>::open(&args.prompts)? {
        let numbered = match item {
            Ok(n) => n,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        let id = numbered.row.id(numbered.line);
        let prompt = match numbered.row.encode(&model) {
            Ok(p) => p,
            Err(e) => {
                errors.push(format!(
                    "{}:{}: {e:#}",
                    args.prompts.display(),
                    numbered.line
                ));
                continue;
            }
        };
        for sample in 0..args.samples {
            if done.contains(&(id.clone(), sample)) {
                continue;
            }
            let seed = sample_seed(args.seed, &id, sample);
            requests.push(GenerationRequest {
                prompt: prompt.clone(),
                seed,
            });
            keys.push((id.clone(), sample, seed));
        }
    }
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("error: {e}");
        }
        bail!(
            "{} bad prompt rows in {}",
            errors.len(),
            args.prompts.display()
        );
    }
    // Similar lengths batch together (less padding); seeds are per request, so order is free.
    let mut order: Vec<usize> = (0..requests.len()).collect();
    order.sort_by_key(|&i| requests[i].prompt.len());
    let requests: Vec<GenerationRequest> = order.iter().map(|&i| requests[i].clone()).collect();
    let keys: Vec<(String, usize, u64)> = order.iter().map(|&i| keys[i].clone()).collect();
    if !done.is_empty() {
        eprintln!(
            "{} samples already in {}; {} to go",
            done.len(),
            args.out.display(),
            requests.len()
        );
    }

    let mut writer = JsonlWriter::<SampleRow>::append(&args.out)
        .with_context(|| format!("opening {}", args.out.display()))?;
    let bar = progress_bar(requests.len() as u64, "sampling");
    let mut write_error = None;
    let stop_ids = model.stop_ids();
    let decode = |ids: &[u32]| model.tokenizer.decode(ids, true);
    generate(
        &model.model,
        &requests,
        &params,
        &stop_ids,
        model.tokenizer.pad_id(),
        args.batch_size,
        &decode,
        |i, completion| {
            let (id, sample, seed) = &keys[i];
            let row = SampleRow {
                id: id.clone(),
                sample: *sample,
                completion: completion.text.clone(),
                finish_reason: serde_json::to_value(completion.finish_reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                prompt_tokens: requests[i].prompt.len(),
                completion_tokens: completion.tokens.len(),
                seed: *seed,
            };
            if let Err(e) = writer.write(&row)
                && write_error.is_none()
            {
                write_error = Some(e);
            }
            bar.inc(1);
        },
    )?;
    bar.finish_and_clear();
    if let Some(e) = write_error {
        return Err(e).with_context(|| format!("writing {}", args.out.display()));
    }
    println!(
        "{} samples written to {}",
        requests.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
