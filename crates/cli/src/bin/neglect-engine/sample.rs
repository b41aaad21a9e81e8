//! `neglect sample`: generation with a local model (arguments: `neglect_cli::commands::sample`).

use crate::prompts::{PromptRow, sample_seed};
use anyhow::{Context, bail};
use neglect_cli::commands::model_args::progress_bar;
use neglect_cli::commands::sample::*;
use neglect_lm::sampling::{GenerationRequest, SamplingParams, generate};
use neglect_spec::jsonl::{JsonlReader, JsonlWriter};
use serde::{Deserialize, Serialize};
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
    /// What the row was sampled from (model, prompt tokens, sampling settings), so a resumed
    /// run never mistakes another prompt's answer under the same id for its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    input_sha256: Option<String>,
}

/// A hash of the model directory, the prompt's tokens and the sampling settings.
fn input_hash(args: &SampleArgs, prompt: &[u32]) -> String {
    use sha2::{Digest, Sha256};
    let settings = serde_json::json!({
        "model": args.model.model.display().to_string(),
        "adapter": args.model.adapter.as_ref().map(|a| a.display().to_string()),
        "temperature": args.temperature,
        "top_p": args.top_p,
        "top_k": args.top_k,
        "max_tokens": args.max_tokens,
        "stop": args.stop,
        "prompt": prompt,
    });
    let digest = Sha256::digest(settings.to_string().as_bytes());
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
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

    // (id, sample) → what it was sampled from, for every row already written.
    let done: std::collections::HashMap<(String, usize), Option<String>> = if args.out.exists() {
        JsonlReader::<SampleRow>::open(&args.out)?
            .map(|r| r.map(|n| ((n.row.id, n.row.sample), n.row.input_sha256)))
            .collect::<Result<_, _>>()
            .with_context(|| format!("{} exists but is not a samples file", args.out.display()))?
    } else {
        Default::default()
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
        let hash = input_hash(&args, &prompt);
        for sample in 0..args.samples {
            match done.get(&(id.clone(), sample)) {
                Some(Some(earlier)) if *earlier != hash => {
                    errors.push(format!(
                        "{}:{}: id {id:?}: {} already holds sample {sample} of this id from \
                         another prompt, model or sampling settings; use another --out (or \
                         delete it to start over)",
                        args.prompts.display(),
                        numbered.line,
                        args.out.display()
                    ));
                    continue;
                }
                Some(_) => continue,
                None => {}
            }
            let seed = sample_seed(args.seed, &id, sample);
            requests.push(GenerationRequest {
                prompt: prompt.clone(),
                seed,
            });
            keys.push((id.clone(), sample, seed, hash.clone()));
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
    let keys: Vec<(String, usize, u64, String)> = order.iter().map(|&i| keys[i].clone()).collect();
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
            let (id, sample, seed, hash) = &keys[i];
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
                input_sha256: Some(hash.clone()),
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
