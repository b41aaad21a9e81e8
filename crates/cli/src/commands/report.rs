//! `neglect report RUN_DIR`: re-renders a run's report (HTML + plots) and prints its summary.
//! `neglect run` calls the same code at the end of a run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use neglect_report::{ReportInput, read_gates, render_html, terminal_summary};
use serde_json::Value;

#[derive(Args)]
pub struct ReportArgs {
    /// A run directory (`runs/<name>/`, holding manifest.json and results.jsonl).
    run_dir: PathBuf,
}

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let page = render(&args.run_dir, true)?;
    println!("report: {}", page.display());
    Ok(ExitCode::SUCCESS)
}

/// Renders `<run_dir>/report/` and, when `print` is set, prints the terminal summary.
pub fn render(run_dir: &Path, print: bool) -> anyhow::Result<PathBuf> {
    let manifest_path = run_dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path).with_context(|| {
        format!(
            "reading {} (is {} a run directory?)",
            manifest_path.display(),
            run_dir.display()
        )
    })?;
    let manifest: Value = serde_json::from_str(&text)
        .with_context(|| format!("parsing {}", manifest_path.display()))?;
    let summary = neglect_eval::aggregate::summarize_dir(run_dir)?;
    let conditions: Vec<String> = manifest["experiment"]["conditions"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let gates = manifest["organism_dir"].as_str().map(|dir| {
        let path = Path::new(dir).join("check").join("gates.json");
        if path.is_file() {
            read_gates(&path).map_err(|e| e.to_string())
        } else {
            Err(format!(
                "run `neglect world check{}` to measure them",
                match manifest["experiment"]["backend"]["organism"].as_str() {
                    Some("default") | None => String::new(),
                    Some("tiny") => " --tiny".into(),
                    Some(path) => format!(" --config {path}"),
                }
            ))
        }
    });
    let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let mut facts = vec![
        ("base model".to_owned(), s(&manifest["base_model"])),
        ("config hash".to_owned(), s(&manifest["config_hash"])),
        (
            "cells".to_owned(),
            format!(
                "{} of {} done",
                manifest["cells_done"].as_u64().unwrap_or(0),
                manifest["cells_total"].as_u64().unwrap_or(0)
            ),
        ),
        ("seeds".to_owned(), manifest["seeds"].to_string()),
        ("updated".to_owned(), s(&manifest["updated_at"])),
    ];
    if let Some(v) = manifest["versions"].as_object() {
        for (k, v) in v {
            facts.push((k.clone(), v.as_str().map_or(v.to_string(), String::from)));
        }
    }
    let warnings: Vec<String> = manifest["cells"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| {
            let cell = format!(
                "{} · {} · seed {}",
                s(&c["claim"]),
                s(&c["condition"]),
                c["seed"]
            );
            c["warnings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|w| w.as_str())
                .map(move |w| format!("{cell}: {w}"))
                .collect::<Vec<_>>()
        })
        .collect();
    let name = s(&manifest["name"]);
    let description = s(&manifest["description"]);
    let input = ReportInput {
        run_dir,
        name: &name,
        description: &description,
        conditions: &conditions,
        summary: &summary,
        gates,
        facts,
        warnings,
    };
    if print {
        print!("{}", terminal_summary(&input));
    }
    Ok(render_html(&input)?)
}
