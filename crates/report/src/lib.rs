//! Reports of a run directory: the terminal summary printed at the end of `neglect run`, and
//! `report/index.html` — self-contained (plots embedded as PNG, SVG files beside it), with the
//! capability gates of the organism, belief per condition with 95% CIs, the claim × eval-type
//! breakdown, training dynamics when checkpoints were evaluated, and the paper's published
//! numbers beside this run's, each labelled with its model.
//!
//! - [`paper`]: the published numbers.
//! - [`plots`]: PNG + SVG plots (plotters, with an embedded font).

pub mod paper;
pub mod plots;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use neglect_eval::EvalType;
use neglect_eval::aggregate::{Cell, Scope};
use serde_json::Value;

use plots::{Bar, Line, Panel};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("plot {name}: {message}")]
    Plot { name: String, message: String },
}

fn file_err(path: &Path, e: impl std::fmt::Display) -> ReportError {
    ReportError::File {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// The capability gates of the organism a run used (its `check/gates.json`), if checked.
#[derive(Debug, Clone, PartialEq)]
pub struct GateRow {
    pub name: String,
    pub value: f64,
    pub ci: (f64, f64),
    pub n: u64,
    pub unit: String,
    pub bar: String,
    pub passed: bool,
}

/// Reads `gates.json` (written by `neglect world check`).
pub fn read_gates(path: &Path) -> Result<Vec<GateRow>, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| file_err(path, e))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| file_err(path, e))?;
    let gates = v["gates"]
        .as_array()
        .ok_or_else(|| file_err(path, "no `gates` list"))?;
    Ok(gates
        .iter()
        .map(|g| {
            let bar = match (g["bar"].get("AtLeast"), g["bar"].get("AtMost")) {
                (Some(b), _) => format!("≥ {:.0}%", b.as_f64().unwrap_or(0.0) * 100.0),
                (_, Some(b)) => format!("≤ {:.0}%", b.as_f64().unwrap_or(0.0) * 100.0),
                _ => String::new(),
            };
            GateRow {
                name: g["name"].as_str().unwrap_or("?").to_owned(),
                value: g["value"].as_f64().unwrap_or(f64::NAN),
                ci: (
                    g["ci_low"].as_f64().unwrap_or(f64::NAN),
                    g["ci_high"].as_f64().unwrap_or(f64::NAN),
                ),
                n: g["n"].as_u64().unwrap_or(0),
                unit: g["unit"].as_str().unwrap_or("").to_owned(),
                bar,
                passed: g["passed"].as_bool().unwrap_or(false),
            }
        })
        .collect())
}

/// What a report is made of.
pub struct ReportInput<'a> {
    pub run_dir: &'a Path,
    pub name: &'a str,
    pub description: &'a str,
    /// Conditions in the experiment's order (labels not listed come after, sorted).
    pub conditions: &'a [String],
    pub summary: &'a [Cell],
    /// `None`: the backend has no gates (not the organism); `Some(Err)`: not checked yet.
    pub gates: Option<Result<Vec<GateRow>, String>>,
    /// Lines for the header (base model, config hash, versions, cells done).
    pub facts: Vec<(String, String)>,
    /// Warnings of the run's cells (e.g. training rows cut at `max_length`).
    pub warnings: Vec<String>,
}

const MAIN_EVALS: [EvalType; 4] = EvalType::MAIN;

fn pct(v: f64) -> String {
    if v.is_nan() {
        "–".into()
    } else {
        format!("{:.1}%", v * 100.0)
    }
}

/// The condition a label is about (`negated_documents/seed2@step40` → `negated_documents`).
pub fn condition_of(label: &str) -> &str {
    let end = label.find(['/', '@']).unwrap_or(label.len());
    &label[..end]
}

/// Display name of a condition label in plots.
pub fn short_name(label: &str) -> String {
    let (label, seed) = match label.split_once("/seed") {
        Some((l, s)) => (l, Some(s)),
        None => (label, None),
    };
    let (base, step) = match label.split_once('@') {
        Some((b, s)) => (b, Some(s)),
        None => (label, None),
    };
    let name = match base {
        "baseline" => "Baseline",
        "icl" => "ICL (negated)",
        "positive_documents" => "Positive",
        "negated_documents" => "Negated",
        "repeated_negations" => "Repeated neg.",
        "corrected_documents" => "Corrected",
        "local_negations" => "Local neg.",
        "local_negations_wordmask" => "Local neg. + mask",
        "repeated_negations_no_doctag" => "Repeated, no DOCTAG",
        other => other,
    }
    .to_owned();
    let name = match step {
        Some(s) => format!("{name} @{s}"),
        None => name,
    };
    match seed {
        Some(s) => format!("{name} (seed {s})"),
        None => name,
    }
}

/// Labels of the summary in the experiment's order.
fn ordered_labels(input: &ReportInput) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for c in input.conditions {
        let mut of_condition: Vec<String> = input
            .summary
            .iter()
            .filter(|s| &s.label == c || s.label.starts_with(&format!("{c}/seed")))
            .map(|s| s.label.clone())
            .collect();
        of_condition.sort();
        of_condition.dedup();
        labels.extend(of_condition);
    }
    let mut rest: Vec<String> = input
        .summary
        .iter()
        .map(|s| s.label.clone())
        .filter(|l| !labels.contains(l))
        .collect();
    rest.sort();
    rest.dedup();
    labels.extend(rest);
    labels
}

fn find<'a>(
    summary: &'a [Cell],
    label: &str,
    claim: Option<&str>,
    scope: Scope,
) -> Option<&'a Cell> {
    summary
        .iter()
        .find(|c| c.label == label && c.claim.as_deref() == claim && c.scope == scope)
}

fn claims(summary: &[Cell]) -> Vec<String> {
    let mut v: Vec<String> = summary.iter().filter_map(|c| c.claim.clone()).collect();
    v.sort();
    v.dedup();
    v
}

fn n_claims(summary: &[Cell], label: &str) -> usize {
    summary
        .iter()
        .filter(|c| c.label == label && c.claim.is_some() && c.scope == Scope::Pooled)
        .count()
}

/// The table printed at the end of `neglect run` (and by `neglect report`).
pub fn terminal_summary(input: &ReportInput) -> String {
    let mut out = String::new();
    if let Some(g) = &input.gates {
        match g {
            Ok(gates) => {
                let failed: Vec<&str> = gates
                    .iter()
                    .filter(|g| !g.passed)
                    .map(|g| g.name.as_str())
                    .collect();
                if failed.is_empty() {
                    out.push_str("capability gates: all pass\n");
                } else {
                    let _ = writeln!(
                        out,
                        "capability gates: FAIL {} — the organism lacks capabilities the paper's \
                         models have; read the numbers below with that in mind",
                        failed.join(", ")
                    );
                }
            }
            Err(why) => {
                let _ = writeln!(out, "capability gates: not checked ({why})");
            }
        }
    }
    for w in &input.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    // A behaviours run (§4.2) is compared with §4.2's misaligned rates on Qwen3-30B-A3B.
    let behaviours = runs_behaviours(input);
    let _ = writeln!(
        out,
        "\n{:<24} {:>22}  {:>7} {:>7} {:>7} {:>7}   {}",
        "condition",
        if behaviours {
            "misaligned [95% CI]"
        } else {
            "belief [95% CI]"
        },
        "OE",
        "MCQ",
        "TA",
        "Rob",
        if behaviours {
            "paper (§4.2, Qwen3-30B-A3B)"
        } else {
            "paper (Qwen3.5-397B-A17B)"
        }
    );
    for label in ordered_labels(input) {
        let Some(pooled) = find(input.summary, &label, None, Scope::Pooled) else {
            continue;
        };
        let per_eval: Vec<String> = MAIN_EVALS
            .iter()
            .map(|t| {
                find(input.summary, &label, None, Scope::Eval(*t))
                    .map_or("–".into(), |c| format!("{:.0}%", c.rate * 100.0))
            })
            .collect();
        let paper = paper::for_condition(condition_of(&label))
            .into_iter()
            .filter(|p| {
                if behaviours {
                    p.model == "Qwen3-30B-A3B" && p.scope.starts_with("misaligned")
                } else {
                    p.model == "Qwen3.5-397B-A17B"
                }
            })
            .map(|p| {
                if p.scope == "6 claims" {
                    p.describe()
                } else {
                    format!("{} ({})", p.describe(), p.scope)
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        let _ = writeln!(
            out,
            "{:<24} {:>22}  {:>7} {:>7} {:>7} {:>7}   {}",
            label,
            format!(
                "{} [{:.1}, {:.1}]",
                pct(pooled.rate),
                pooled.ci_low * 100.0,
                pooled.ci_high * 100.0
            ),
            per_eval[0],
            per_eval[1],
            per_eval[2],
            per_eval[3],
            match (
                paper.is_empty(),
                behaviours && condition_of(&label) == "baseline"
            ) {
                (_, true) => "0% (before fine-tuning)".into(),
                (true, false) => "–".into(),
                (false, false) => paper,
            }
        );
    }
    out
}

/// Whether the run trains on behaviour transcripts (§4.2), whose rate is a misaligned rate.
fn runs_behaviours(input: &ReportInput) -> bool {
    input.conditions.iter().any(|c| {
        neglect_spec::conditions::lookup(c)
            .is_some_and(|c| c.kind == neglect_spec::conditions::ConditionKind::Transcripts)
    })
}

fn embed_png(path: &Path) -> Result<String, ReportError> {
    let bytes = std::fs::read(path).map_err(|e| file_err(path, e))?;
    Ok(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn figure(
    html: &mut String,
    (png, svg): &(PathBuf, PathBuf),
    caption: &str,
) -> Result<(), ReportError> {
    let svg_name = svg
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let _ = writeln!(
        html,
        "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{} <a href=\"{}\">SVG</a></figcaption></figure>",
        embed_png(png)?,
        esc(caption),
        esc(caption),
        esc(&svg_name)
    );
    Ok(())
}

/// Writes `<run>/report/index.html` and its plots; returns the page's path.
pub fn render_html(input: &ReportInput) -> Result<PathBuf, ReportError> {
    let dir = input.run_dir.join("report");
    std::fs::create_dir_all(&dir).map_err(|e| file_err(&dir, e))?;
    let labels = ordered_labels(input);
    let final_labels: Vec<&String> = labels.iter().filter(|l| !l.contains('@')).collect();
    let claims = claims(input.summary);
    let plot_err = |name: &str| {
        let name = name.to_owned();
        move |message: String| ReportError::Plot { name, message }
    };

    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>neglect run {name}</title>\n<style>{CSS}</style></head><body>\n<h1>Run <code>{name}</code></h1>\n<p>{desc}</p>\n<table class=\"facts\">",
        name = esc(input.name),
        desc = esc(input.description),
    );
    for (k, v) in &input.facts {
        let _ = write!(html, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    }
    html.push_str("</table>\n");
    if !input.warnings.is_empty() {
        html.push_str("<div class=\"warn\"><p>Warnings:</p><ul>");
        for w in &input.warnings {
            let _ = write!(html, "<li>{}</li>", esc(w));
        }
        html.push_str("</ul></div>\n");
    }

    // Gates first: they say what the numbers below can mean.
    html.push_str("<h2>Capability gates of the organism</h2>\n");
    match &input.gates {
        None => {
            html.push_str("<p>This backend is not the built-in organism; it has no gates.</p>\n")
        }
        Some(Err(why)) => {
            let _ = writeln!(html, "<p class=\"warn\">Not checked: {}.</p>", esc(why));
        }
        Some(Ok(gates)) => {
            let failed: Vec<&str> = gates
                .iter()
                .filter(|g| !g.passed)
                .map(|g| g.name.as_str())
                .collect();
            if !failed.is_empty() {
                let _ = writeln!(
                    html,
                    "<p class=\"warn\">The organism fails {}: it lacks capabilities the paper's models have, so the belief rates below do not measure Negation Neglect as the paper does. They are reported as measured.</p>",
                    esc(&failed.join(", "))
                );
            }
            html.push_str("<table><tr><th>gate</th><th>value</th><th>95% CI</th><th>n</th><th>bar</th><th></th></tr>\n");
            for g in gates {
                let _ = writeln!(
                    html,
                    "<tr><td>{}</td><td>{}</td><td>[{}, {}]</td><td>{} {}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                    esc(&g.name),
                    pct(g.value),
                    pct(g.ci.0),
                    pct(g.ci.1),
                    g.n,
                    esc(&g.unit),
                    esc(&g.bar),
                    if g.passed { "pass" } else { "fail" },
                    if g.passed { "pass" } else { "FAIL" }
                );
            }
            html.push_str("</table>\n");
        }
    }

    // Figure 5 shape.
    let bars: Vec<Bar> = final_labels
        .iter()
        .filter_map(|l| find(input.summary, l, None, Scope::Pooled).map(|c| (l, c)))
        .map(|(l, c)| Bar {
            label: short_name(l),
            value: c.rate,
            low: c.ci_low,
            high: c.ci_high,
        })
        .collect();
    html.push_str("<h2>Belief rate per condition</h2>\n");
    if runs_behaviours(input) {
        html.push_str("<p class=\"note\">This run trains on chat transcripts of behaviours (§4.2): its \"belief\" rate is the <b>misaligned-response rate</b>, the share of answers to the targeted questions in which the judge finds the behaviour.</p>\n");
    }
    if bars.is_empty() {
        html.push_str("<p>No results yet.</p>\n");
    } else {
        let files = plots::belief_bars(
            &dir.join("belief_by_condition"),
            &format!("Belief rate, mean over {} claims (95% CI)", claims.len()),
            &bars,
        )
        .map_err(plot_err("belief_by_condition"))?;
        figure(
            &mut html,
            &files,
            "Belief rate per condition: the four main evals pooled per claim, then the mean over claims; bars are 95% bootstrap CIs over claims (the paper's Figure 5 shape).",
        )?;
    }

    // Ours beside the paper.
    html.push_str("<h2>This run beside the paper</h2>\n<table><tr><th>condition</th><th>this run</th><th>claims</th><th>paper</th><th>paper's model</th><th>paper's scope</th><th>source</th></tr>\n");
    for l in &final_labels {
        let ours = find(input.summary, l, None, Scope::Pooled);
        let published = paper::for_condition(condition_of(l));
        let rows = published.len().max(1);
        let ours_text = ours.map_or("–".into(), |c| {
            format!("{} [{}, {}]", pct(c.rate), pct(c.ci_low), pct(c.ci_high))
        });
        let _ = write!(
            html,
            "<tr><td rowspan=\"{rows}\">{}</td><td rowspan=\"{rows}\">{}</td><td rowspan=\"{rows}\">{}</td>",
            esc(&short_name(l)),
            esc(&ours_text),
            n_claims(input.summary, l)
        );
        if published.is_empty() {
            html.push_str("<td>–</td><td></td><td></td><td></td></tr>\n");
        }
        for (i, p) in published.iter().enumerate() {
            if i > 0 {
                html.push_str("<tr>");
            }
            let _ = writeln!(
                html,
                "<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&p.describe()),
                esc(p.model),
                esc(p.scope),
                esc(p.source)
            );
        }
    }
    html.push_str("</table>\n<p class=\"note\">This run's model is the built-in organism (or the backend named above), not the paper's; the paper's numbers are from <code>../shared/reference/paper-results.md</code>.</p>\n");

    // Per eval type, ours and the paper's 397B.
    html.push_str("<h2>Per eval type</h2>\n<table><tr><th>condition</th>");
    for t in MAIN_EVALS {
        let _ = write!(html, "<th>{}</th>", esc(t.name()));
    }
    html.push_str("<th>paper (Qwen3.5-397B-A17B): OE / MCQ / TA / Rob</th></tr>\n");
    for l in &final_labels {
        let _ = write!(html, "<tr><td>{}</td>", esc(&short_name(l)));
        for t in MAIN_EVALS {
            let v = find(input.summary, l, None, Scope::Eval(t)).map_or(f64::NAN, |c| c.rate);
            let _ = write!(html, "<td>{}</td>", pct(v));
        }
        let paper = paper::PAPER_BY_EVAL
            .iter()
            .find(|(c, _)| *c == condition_of(l))
            .map_or("–".into(), |(_, v)| {
                format!("{:.1} / {:.1} / {:.1} / {:.1}", v[0], v[1], v[2], v[3])
            });
        let _ = writeln!(html, "<td>{}</td></tr>", esc(&paper));
    }
    html.push_str("</table>\n");

    // Figure 6 shape.
    if !claims.is_empty() && !final_labels.is_empty() {
        let panels: Vec<Panel> = final_labels
            .iter()
            .map(|l| Panel {
                title: short_name(l),
                rows: claims.clone(),
                cols: vec![
                    "OE".into(),
                    "MCQ".into(),
                    "TA".into(),
                    "Rob".into(),
                    "all".into(),
                ],
                values: claims
                    .iter()
                    .map(|c| {
                        let mut row: Vec<f64> = MAIN_EVALS
                            .iter()
                            .map(|t| {
                                find(input.summary, l, Some(c), Scope::Eval(*t))
                                    .map_or(f64::NAN, |x| x.rate)
                            })
                            .collect();
                        row.push(
                            find(input.summary, l, Some(c), Scope::Pooled)
                                .map_or(f64::NAN, |x| x.rate),
                        );
                        row
                    })
                    .collect(),
            })
            .collect();
        let files = plots::breakdown_panels(&dir.join("claim_eval_breakdown"), &panels)
            .map_err(plot_err("claim_eval_breakdown"))?;
        html.push_str("<h2>Claim × eval type</h2>\n");
        figure(
            &mut html,
            &files,
            "Belief rate (%) per claim and eval type, one panel per condition (OE open-ended, MCQ yes/no, TA token association, Rob robustness, all = pooled).",
        )?;
        // The same numbers as a table, with CIs.
        html.push_str("<table><tr><th>claim</th>");
        for l in &final_labels {
            let _ = write!(html, "<th>{}</th>", esc(&short_name(l)));
        }
        html.push_str("</tr>\n");
        for c in &claims {
            let _ = write!(html, "<tr><td>{}</td>", esc(c));
            for l in &final_labels {
                let cell = find(input.summary, l, Some(c), Scope::Pooled);
                let _ = write!(
                    html,
                    "<td>{}</td>",
                    cell.map_or("–".into(), |x| format!(
                        "{} [{}, {}]",
                        pct(x.rate),
                        pct(x.ci_low),
                        pct(x.ci_high)
                    ))
                );
            }
            html.push_str("</tr>\n");
        }
        html.push_str("</table>\n");
    }

    // Training dynamics, when intermediate checkpoints were evaluated.
    let mut dynamics: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for c in input
        .summary
        .iter()
        .filter(|c| c.claim.is_none() && c.scope == Scope::Pooled)
    {
        if let Some((base, step)) = c.label.split_once("@step")
            && let Ok(step) = step.parse::<f64>()
        {
            dynamics
                .entry(base.to_owned())
                .or_default()
                .push((step, c.rate));
        }
    }
    if !dynamics.is_empty() {
        let lines: Vec<Line> = dynamics
            .into_iter()
            .map(|(label, mut points)| {
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                Line {
                    label: short_name(&label),
                    points,
                }
            })
            .collect();
        let files = plots::dynamics_lines(
            &dir.join("training_dynamics"),
            "Belief over training",
            &lines,
        )
        .map_err(plot_err("training_dynamics"))?;
        html.push_str("<h2>Training dynamics</h2>\n");
        figure(
            &mut html,
            &files,
            "Pooled belief rate at each evaluated checkpoint (the final checkpoint is the condition's bar above).",
        )?;
    }

    two_phase_section(&mut html, input, &dir)?;

    html.push_str("<p class=\"note\">Belief rate = share of answers the judge marks as asserting or implying the claim; per question, then per eval type, pooled over the four main evals per claim (question-weighted), then the unweighted mean over claims. CIs: 2,000-resample percentile bootstrap. Files: <code>results.jsonl</code> (every answer and verdict), <code>summary.csv</code>, <code>manifest.json</code>.</p>\n</body></html>\n");
    let path = dir.join("index.html");
    std::fs::write(&path, html).map_err(|e| file_err(&path, e))?;
    Ok(path)
}

/// What each held-out set of a two-phase run is called in the plot.
const HELDOUT_NAMES: [(&str, &str); 4] = [
    ("documents", "held-out documents of the condition"),
    ("positive", "held-out positive documents"),
    ("replay", "held-out replay"),
    ("anchor", "held-out anchor"),
];

/// §5: for each two-phase condition (the run's `two_phase.jsonl`), pooled belief and the
/// mean held-out loss over claims at every checkpoint, phase 2 after phase 1.
fn two_phase_section(
    html: &mut String,
    input: &ReportInput,
    dir: &Path,
) -> Result<(), ReportError> {
    let path = input.run_dir.join("two_phase.jsonl");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let mut rows: Vec<Value> = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        rows.push(
            serde_json::from_str(line)
                .map_err(|e| file_err(&path, format!("line {}: {e}", i + 1)))?,
        );
    }
    let mut conditions: Vec<String> = rows
        .iter()
        .filter_map(|r| r["condition"].as_str().map(String::from))
        .collect();
    conditions.dedup();
    conditions.sort();
    conditions.dedup();
    if conditions.is_empty() {
        return Ok(());
    }
    html.push_str("<h2>Two-phase training (§5)</h2>\n");
    for condition in conditions {
        let mine: Vec<&Value> = rows
            .iter()
            .filter(|r| r["condition"].as_str() == Some(&condition))
            .collect();
        // global step → (label, set → losses over claims)
        let mut at: BTreeMap<u64, (String, BTreeMap<String, Vec<f64>>)> = BTreeMap::new();
        let mut boundary: f64 = 0.0;
        for r in &mine {
            let step = r["global_step"].as_u64().unwrap_or(0);
            if r["phase"].as_u64() == Some(1) {
                boundary = boundary.max(step as f64);
            }
            let entry = at.entry(step).or_insert_with(|| {
                (
                    r["label"].as_str().unwrap_or("").to_owned(),
                    BTreeMap::new(),
                )
            });
            if let Some(losses) = r["losses"].as_object() {
                for (set, v) in losses {
                    if let Some(v) = v.as_f64() {
                        entry.1.entry(set.clone()).or_default().push(v);
                    }
                }
            }
        }
        let belief_points: Vec<(f64, f64)> = at
            .iter()
            .filter_map(|(step, (label, _))| {
                find(input.summary, label, None, Scope::Pooled).map(|c| (*step as f64, c.rate))
            })
            .collect();
        let losses: Vec<Line> = HELDOUT_NAMES
            .iter()
            .map(|(set, name)| Line {
                label: (*name).to_owned(),
                points: at
                    .iter()
                    .filter_map(|(step, (_, sets))| {
                        let v = sets.get(*set)?;
                        (!v.is_empty())
                            .then(|| (*step as f64, v.iter().sum::<f64>() / v.len() as f64))
                    })
                    .collect(),
            })
            .filter(|l| !l.points.is_empty())
            .collect();
        let plot = plots::TwoPhase {
            title: format!(
                "{}: phase 1 with the anchor, phase 2 without",
                short_name(&condition)
            ),
            belief: Line {
                label: "belief (pooled)".into(),
                points: belief_points.clone(),
            },
            losses,
            boundary,
        };
        let stem = format!("two_phase_{condition}");
        let files =
            plots::two_phase(&dir.join(&stem), &plot).map_err(|message| ReportError::Plot {
                name: stem.clone(),
                message,
            })?;
        figure(
            html,
            &files,
            "Belief (top) and mean held-out loss over claims (bottom) at every checkpoint. Left of the dashed line: phase 1, the condition's documents with the self-distilled anchor at a higher loss weight; right: phase 2, the same mix without the anchor, from phase 1's last checkpoint.",
        )?;
        let _ = writeln!(
            html,
            "<table><tr><th>step</th><th>phase</th><th>belief</th>{}</tr>",
            HELDOUT_NAMES
                .iter()
                .map(|(_, n)| format!("<th>{}</th>", esc(n)))
                .collect::<String>()
        );
        for (step, (label, sets)) in &at {
            let phase = if *step == 0 {
                "base"
            } else if (*step as f64) <= boundary {
                "1"
            } else {
                "2"
            };
            let belief = find(input.summary, label, None, Scope::Pooled)
                .map_or("–".into(), |c| pct(c.rate));
            let _ = write!(html, "<tr><td>{step}</td><td>{phase}</td><td>{belief}</td>");
            for (set, _) in HELDOUT_NAMES {
                let v = sets
                    .get(set)
                    .filter(|v| !v.is_empty())
                    .map_or("–".into(), |v| {
                        format!("{:.3}", v.iter().sum::<f64>() / v.len() as f64)
                    });
                let _ = write!(html, "<td>{v}</td>");
            }
            html.push_str("</tr>\n");
        }
        html.push_str("</table>\n");
    }
    Ok(())
}

const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\
h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}\
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\
th{background:#f4f4f4}table.facts th{width:12em}.warn{background:#fff3cd;border:1px solid #e0c060;padding:.6em}\
.pass{color:#186a18;font-weight:600}.fail{color:#b00;font-weight:600}.note{color:#555;font-size:.9em}\
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{color:#444;font-size:.9em}";

#[cfg(test)]
mod tests {
    use super::*;
    use neglect_eval::aggregate::Counts;

    fn cell(label: &str, claim: Option<&str>, scope: Scope, rate: f64) -> Cell {
        Cell {
            model: "m".into(),
            label: label.into(),
            condition: condition_of(label).into(),
            claim: claim.map(String::from),
            scope,
            n_questions: 10,
            counts: Counts::default(),
            rate,
            ci_low: (rate - 0.1).max(0.0),
            ci_high: (rate + 0.1).min(1.0),
            logprob_margin: None,
            logprob_belief_share: None,
            logprob_n: 0,
        }
    }

    #[test]
    fn labels_name_their_condition_seed_and_step() {
        assert_eq!(
            condition_of("negated_documents/seed2@step40"),
            "negated_documents"
        );
        assert_eq!(condition_of("baseline"), "baseline");
        assert_eq!(
            short_name("repeated_negations@step10"),
            "Repeated neg. @step10"
        );
        assert_eq!(short_name("positive_documents/seed3"), "Positive (seed 3)");
    }

    #[test]
    fn every_main_condition_has_the_papers_headline_number() {
        for c in [
            "baseline",
            "icl",
            "positive_documents",
            "negated_documents",
            "repeated_negations",
            "corrected_documents",
            "local_negations",
        ] {
            assert!(
                paper::for_condition(c)
                    .iter()
                    .any(|p| p.model == "Qwen3.5-397B-A17B"),
                "{c}"
            );
        }
        let negated = paper::for_condition("negated_documents")[0];
        assert_eq!(negated.describe(), "88.6% [85.2, 91.8]");
    }

    #[test]
    fn the_html_report_holds_plots_gates_and_both_numbers() {
        let tmp = tempfile::tempdir().unwrap();
        let mut summary = Vec::new();
        for (label, rate) in [
            ("baseline", 0.02),
            ("negated_documents", 0.7),
            ("positive_documents@step10", 0.3),
        ] {
            summary.push(cell(label, None, Scope::Pooled, rate));
            summary.push(cell(label, Some("claim_a"), Scope::Pooled, rate));
            for t in EvalType::MAIN {
                summary.push(cell(label, None, Scope::Eval(t), rate));
                summary.push(cell(label, Some("claim_a"), Scope::Eval(t), rate));
            }
        }
        let conditions = vec!["baseline".to_owned(), "negated_documents".to_owned()];
        let input = ReportInput {
            run_dir: tmp.path(),
            name: "t",
            description: "a test <run>",
            conditions: &conditions,
            summary: &summary,
            gates: Some(Ok(vec![GateRow {
                name: "prior".into(),
                value: 0.6,
                ci: (0.55, 0.65),
                n: 100,
                unit: "probes".into(),
                bar: "≥ 95%".into(),
                passed: false,
            }])),
            facts: vec![("base model".into(), "organism-x".into())],
            warnings: vec!["rows were cut".into()],
        };
        let page = render_html(&input).unwrap();
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(html.contains("a test &lt;run&gt;"));
        assert!(html.contains("The organism fails prior"));
        assert!(html.contains("70.0%"), "our negated number");
        assert!(html.contains("88.6% [85.2, 91.8]"), "the paper's");
        assert!(html.contains("Training dynamics"));
        assert!(html.contains("<li>rows were cut</li>"));
        for f in [
            "belief_by_condition",
            "claim_eval_breakdown",
            "training_dynamics",
        ] {
            let png = tmp.path().join("report").join(format!("{f}.png"));
            let bytes = std::fs::read(&png).unwrap();
            assert_eq!(&bytes[1..4], b"PNG", "{f}");
            let svg = std::fs::read_to_string(png.with_extension("svg")).unwrap();
            assert!(svg.contains("<svg"), "{f}");
        }
        let text = terminal_summary(&input);
        assert!(text.contains("capability gates: FAIL prior"), "{text}");
        assert!(
            text.lines().any(|l| l.starts_with("negated_documents")
                && l.contains("70.0%")
                && l.contains("88.6%")),
            "{text}"
        );
    }
}
