//! `neglect score`: log-probabilities under a local model (arguments: `neglect_cli::commands::score`).

use crate::prompts::PromptRow;
use anyhow::{Context, bail};
use neglect_cli::commands::model_args::progress_bar;
use neglect_cli::commands::score::*;
use neglect_lm::scoring::{ScoreRequest, score};
use neglect_spec::jsonl::{JsonlReader, JsonlWriter};
use serde::Serialize;
use std::process::ExitCode;

#[derive(Serialize)]
struct ScoreRow {
    id: String,
    index: usize,
    continuation: String,
    /// Sum of the continuation tokens' natural-log probabilities.
    logprob: f64,
    /// `logprob` divided by the number of tokens.
    mean_logprob: f64,
    tokens: usize,
    is_greedy: bool,
}

pub fn run(args: ScoreArgs) -> anyhow::Result<ExitCode> {
    let model = crate::local_model::load(&args.model)?;
    let mut requests = Vec::new();
    let mut keys = Vec::new();
    let mut errors = Vec::new();
    for item in JsonlReader::<PromptRow>::open(&args.input)? {
        let numbered = match item {
            Ok(n) => n,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        let at = format!("{}:{}", args.input.display(), numbered.line);
        let row = &numbered.row;
        let prompt = match row.encode(&model) {
            Ok(p) => p,
            Err(e) => {
                errors.push(format!("{at}: {e:#}"));
                continue;
            }
        };
        let continuations = match &row.continuations {
            Some(c) if !c.is_empty() => c,
            _ => {
                errors.push(format!(
                    "{at}: continuations: give a non-empty list of strings"
                ));
                continue;
            }
        };
        for (index, text) in continuations.iter().enumerate() {
            let continuation = model.tokenizer.encode(text, false)?;
            if continuation.is_empty() {
                errors.push(format!("{at}: continuations[{index}]: empty"));
                continue;
            }
            requests.push(ScoreRequest {
                prompt: prompt.clone(),
                continuation,
            });
            keys.push((row.id(numbered.line), index, text.clone()));
        }
    }
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("error: {e}");
        }
        bail!("{} bad rows in {}", errors.len(), args.input.display());
    }
    let bar = progress_bar(requests.len() as u64, "scoring");
    let mut rows = Vec::with_capacity(requests.len());
    for (chunk, chunk_keys) in requests
        .chunks(args.batch_size.max(1))
        .zip(keys.chunks(args.batch_size.max(1)))
    {
        let scores = score(
            &model.model,
            chunk,
            model.tokenizer.pad_id(),
            args.batch_size,
        )?;
        for ((id, index, text), s) in chunk_keys.iter().zip(scores) {
            let n = s.token_logprobs.len();
            rows.push(ScoreRow {
                id: id.clone(),
                index: *index,
                continuation: text.clone(),
                logprob: s.logprob,
                mean_logprob: s.logprob / n as f64,
                tokens: n,
                is_greedy: s.is_greedy,
            });
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    let mut writer = JsonlWriter::create(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    for row in &rows {
        writer.write_buffered(row)?;
    }
    writer.finish()?;
    println!(
        "{} continuations scored into {}",
        rows.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
