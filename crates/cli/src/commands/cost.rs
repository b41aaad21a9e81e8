//! `neglect cost DIR`: what the hosted calls under DIR cost, from every `api_ledger.sqlite`
//! found there (an eval's output directory, or a run with one ledger per cell).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use neglect_api::ledger::{self, CostLine};

#[derive(Args)]
pub struct CostArgs {
    /// An output directory of `neglect eval` or `neglect run`.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

fn find_ledgers(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            find_ledgers(&path, found)?;
        } else if path.file_name().and_then(|n| n.to_str()) == Some(ledger::LEDGER_FILE) {
            found.push(path);
        }
    }
    Ok(())
}

fn money(cost: Option<f64>) -> String {
    match cost {
        Some(c) => format!("${c:.4}"),
        None => "unpriced".into(),
    }
}

pub fn run(args: CostArgs) -> anyhow::Result<ExitCode> {
    if !args.dir.is_dir() {
        bail!("{} is not a directory", args.dir.display());
    }
    let mut ledgers = Vec::new();
    find_ledgers(&args.dir, &mut ledgers)?;
    ledgers.sort();
    if ledgers.is_empty() {
        println!(
            "{}: no {} (no hosted model was called here)",
            args.dir.display(),
            ledger::LEDGER_FILE
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut lines: Vec<CostLine> = Vec::new();
    for path in &ledgers {
        for line in ledger::summarise(path)? {
            match lines.iter_mut().find(|l| {
                (&l.provider, &l.model, &l.purpose) == (&line.provider, &line.model, &line.purpose)
            }) {
                Some(l) => {
                    l.paid += line.paid;
                    l.cached += line.cached;
                    l.failed += line.failed;
                    l.retries += line.retries;
                    l.input_tokens += line.input_tokens;
                    l.output_tokens += line.output_tokens;
                    l.cost_usd = l.cost_usd.zip(line.cost_usd).map(|(a, b)| a + b);
                }
                None => lines.push(line),
            }
        }
    }
    println!(
        "{:<10} {:<28} {:<8} {:>7} {:>7} {:>7} {:>8} {:>12} {:>12} {:>10}",
        "provider",
        "model",
        "purpose",
        "paid",
        "cached",
        "failed",
        "retries",
        "input tok",
        "output tok",
        "cost"
    );
    let mut total = Some(0.0);
    for l in &lines {
        println!(
            "{:<10} {:<28} {:<8} {:>7} {:>7} {:>7} {:>8} {:>12} {:>12} {:>10}",
            l.provider,
            l.model,
            l.purpose,
            l.paid,
            l.cached,
            l.failed,
            l.retries,
            l.input_tokens,
            l.output_tokens,
            money(l.cost_usd)
        );
        total = total.zip(l.cost_usd).map(|(a, b)| a + b);
    }
    println!(
        "total: {} over {} ledger(s){}",
        money(total),
        ledgers.len(),
        if total.is_none() {
            " (some models have no price: pass --prices when running)"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}
