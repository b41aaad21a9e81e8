//! `neglect mix`: build a training mix; `neglect export`: convert training rows for other
//! trainers.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use neglect_data::export::{ExportFormat, ExportLosses, export_row};
use neglect_data::mix::{MixInput, build_mix};
use neglect_spec::TrainingRow;
use neglect_spec::jsonl::{JsonlReader, write_atomic};
use sha2::{Digest, Sha256};

#[derive(Args)]
pub struct MixArgs {
    /// `PATH:COUNT` or `PATH:COUNT*WEIGHT` (repeatable): take COUNT rows of PATH (all of them
    /// plus repeats when it has fewer), each with loss weight WEIGHT (default 1). Rows may be
    /// annotated documents, `{text}` documents, or chats (`messages` / `messages_json`).
    #[arg(long = "input", required = true, value_name = "PATH:COUNT[*WEIGHT]")]
    inputs: Vec<String>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The training rows to write; `<out>.manifest.json` records how they were made.
    #[arg(short, long, value_name = "JSONL")]
    out: PathBuf,
}

/// `path:count[*weight]`, the count after the last colon as in the reference.
fn parse_input(spec: &str) -> anyhow::Result<(PathBuf, usize, f64)> {
    let Some((path, rest)) = spec.rsplit_once(':') else {
        bail!("--input {spec}: expected PATH:COUNT");
    };
    let (count, weight) = match rest.split_once('*') {
        Some((c, w)) => (
            c,
            w.parse::<f64>()
                .with_context(|| format!("--input {spec}: weight '{w}' is not a number"))?,
        ),
        None => (rest, 1.0),
    };
    let count: usize = count
        .parse()
        .with_context(|| format!("--input {spec}: count '{count}' is not a whole number"))?;
    if count == 0 {
        bail!("--input {spec}: the count must be > 0");
    }
    if !(weight.is_finite() && weight >= 0.0) {
        bail!("--input {spec}: the weight must be >= 0");
    }
    Ok((PathBuf::from(path), count, weight))
}

/// Reads training rows, checking each; errors are `file:line: field: message`.
fn read_rows(path: &Path) -> anyhow::Result<Vec<TrainingRow>> {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for item in JsonlReader::<TrainingRow>::open(path)? {
        match item {
            Err(e) => errors.push(e.to_string()),
            Ok(n) => match n.row.to_example() {
                Ok(_) => rows.push(n.row),
                Err(e) => errors.push(format!("{}:{}: {e}", path.display(), n.line)),
            },
        }
    }
    if !errors.is_empty() {
        for e in errors.iter().take(20) {
            eprintln!("error: {e}");
        }
        bail!("{} bad rows in {}", errors.len(), path.display());
    }
    Ok(rows)
}

fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(format!("{:x}", Sha256::digest(&bytes)))
}

pub fn mix(args: MixArgs) -> anyhow::Result<ExitCode> {
    let mut inputs = Vec::new();
    let mut hashes = Vec::new();
    for spec in &args.inputs {
        let (path, count, weight) = parse_input(spec)?;
        let rows = read_rows(&path)?;
        if rows.is_empty() {
            bail!("{}: no rows to draw from", path.display());
        }
        hashes.push(sha256_file(&path)?);
        inputs.push(MixInput {
            name: path.display().to_string(),
            rows,
            count,
            weight,
        });
    }
    let (rows, report) = build_mix(&inputs, args.seed);
    write_atomic(&args.out, &rows).with_context(|| format!("writing {}", args.out.display()))?;
    let manifest = serde_json::json!({
        "seed": args.seed,
        "total": rows.len(),
        "inputs": report.iter().zip(&hashes).map(|(r, h)| serde_json::json!({
            "path": r.name, "available": r.available, "requested": r.requested,
            "repeated": r.repeated, "weight": r.weight, "sha256": h,
        })).collect::<Vec<_>>(),
        "output": args.out.display().to_string(),
        "output_sha256": sha256_file(&args.out)?,
        "neglect_version": env!("CARGO_PKG_VERSION"),
    });
    let manifest_path = PathBuf::from(format!("{}.manifest.json", args.out.display()));
    std::fs::write(&manifest_path, serde_json::to_string_pretty(&manifest)?)
        .with_context(|| format!("writing {}", manifest_path.display()))?;
    for r in &report {
        let repeats = if r.repeated > 0 {
            format!(
                " ({} drawn again: the input has only {})",
                r.repeated, r.available
            )
        } else {
            String::new()
        };
        println!(
            "{:>7} rows from {} (weight {}){repeats}",
            r.requested, r.name, r.weight
        );
    }
    println!(
        "{} rows written to {}; manifest {}",
        rows.len(),
        args.out.display(),
        manifest_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// OpenAI chat fine-tuning JSONL (documents as `<DOCTAG>` user turn + assistant turn).
    Openai,
    /// `{"text"}` rows (chats as `{"messages"}`) for Together, HF datasets, axolotl.
    Text,
}

#[derive(Args)]
pub struct ExportArgs {
    #[arg(long, value_enum)]
    format: Format,
    /// Training rows (e.g. from `neglect mix`).
    #[arg(long = "in", value_name = "JSONL")]
    input: PathBuf,
    #[arg(short, long, value_name = "JSONL")]
    out: PathBuf,
}

pub fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let rows = read_rows(&args.input)?;
    let format = match args.format {
        Format::Openai => ExportFormat::OpenAi,
        Format::Text => ExportFormat::Text,
    };
    let mut losses = ExportLosses::default();
    let out: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| export_row(r, format, &mut losses))
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::msg)?;
    write_atomic(&args.out, &out).with_context(|| format!("writing {}", args.out.display()))?;
    if losses.rows_with_masks > 0 {
        eprintln!(
            "warning: {} rows had <lossmask> spans; this format cannot mask, so their text is trained on",
            losses.rows_with_masks
        );
    }
    if losses.rows_with_weights > 0 {
        eprintln!(
            "warning: {} rows had a loss weight other than 1; this format has no per-example weights",
            losses.rows_with_weights
        );
    }
    println!("{} rows written to {}", out.len(), args.out.display());
    Ok(ExitCode::SUCCESS)
}
