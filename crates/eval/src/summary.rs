//! `summary.csv` and the terminal table (claim × eval type × condition).

use std::collections::BTreeSet;
use std::path::Path;

use comfy_table::{Cell as TableCell, CellAlignment, ContentArrangement, Table, presets};

use crate::EvalError;
use crate::aggregate::{Cell, Scope};
use crate::eval_type::EvalType;

pub const SUMMARY_FILE: &str = "summary.csv";

/// The `claim` column of the mean over claims.
pub const ALL_CLAIMS: &str = "ALL";

fn scope_name(scope: &Scope) -> &'static str {
    match scope {
        Scope::Eval(t) => t.name(),
        Scope::Pooled => "pooled",
    }
}

fn opt(x: Option<f64>, digits: usize) -> String {
    x.map(|v| format!("{v:.digits$}")).unwrap_or_default()
}

/// Writes `summary.csv` atomically (a temporary file renamed over the old one).
pub fn write_csv(path: &Path, cells: &[Cell]) -> Result<(), EvalError> {
    let io = |e: std::io::Error| EvalError::Io(format!("{}: {e}", path.display()));
    let tmp = path.with_extension("csv.tmp");
    {
        let mut w = csv::Writer::from_path(&tmp).map_err(|e| EvalError::Io(e.to_string()))?;
        let header = [
            "model",
            "label",
            "condition",
            "claim",
            "eval_type",
            "n_questions",
            "n",
            "yes",
            "no",
            "neutral",
            "parse_error",
            "belief_rate",
            "ci_low",
            "ci_high",
            "avg_score",
            "logprob_margin",
            "logprob_belief_share",
            "logprob_n",
        ];
        w.write_record(header)
            .map_err(|e| EvalError::Io(e.to_string()))?;
        for c in cells {
            let rating = c.is_rating();
            let record = [
                c.model.clone(),
                c.label.clone(),
                c.condition.clone(),
                c.claim.clone().unwrap_or_else(|| ALL_CLAIMS.into()),
                scope_name(&c.scope).into(),
                c.n_questions.to_string(),
                c.counts.n.to_string(),
                c.counts.yes.to_string(),
                c.counts.no.to_string(),
                c.counts.neutral.to_string(),
                c.counts.parse_error.to_string(),
                if rating {
                    String::new()
                } else {
                    format!("{:.4}", c.rate)
                },
                format!("{:.4}", if rating { c.ci_low * 10.0 } else { c.ci_low }),
                format!("{:.4}", if rating { c.ci_high * 10.0 } else { c.ci_high }),
                if rating {
                    format!("{:.2}", c.rate * 10.0)
                } else {
                    String::new()
                },
                opt(c.logprob_margin, 4),
                opt(c.logprob_belief_share, 4),
                c.logprob_n.to_string(),
            ];
            w.write_record(&record)
                .map_err(|e| EvalError::Io(e.to_string()))?;
        }
        w.flush().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)
}

fn percent(c: &Cell, with_ci: bool) -> String {
    if c.is_rating() {
        return format!("{:.1}/10", c.rate * 10.0);
    }
    if with_ci {
        format!(
            "{:.1} [{:.1}, {:.1}]",
            c.rate * 100.0,
            c.ci_low * 100.0,
            c.ci_high * 100.0
        )
    } else {
        format!("{:.1}", c.rate * 100.0)
    }
}

/// One table per model: a row per (condition label, claim) plus each label's mean over claims;
/// a column per eval type present, the pooled belief rate with its 95% CI, and the log-prob
/// margin.
pub fn render_table(cells: &[Cell]) -> String {
    let models: BTreeSet<&str> = cells.iter().map(|c| c.model.as_str()).collect();
    let mut out = String::new();
    for model in models {
        let mine: Vec<&Cell> = cells.iter().filter(|c| c.model == model).collect();
        let types: BTreeSet<EvalType> = mine
            .iter()
            .filter_map(|c| match c.scope {
                Scope::Eval(t) => Some(t),
                Scope::Pooled => None,
            })
            .collect();
        let has_margin = mine.iter().any(|c| c.logprob_margin.is_some());
        let mut table = Table::new();
        table
            .load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic);
        let mut header: Vec<String> = vec!["condition".into(), "claim".into()];
        header.extend(types.iter().map(|t| t.name().to_owned()));
        header.push("pooled % [95% CI]".into());
        if has_margin {
            header.push("logprob margin".into());
        }
        table.set_header(header);
        let labels: BTreeSet<&str> = mine.iter().map(|c| c.label.as_str()).collect();
        for label in labels {
            let mut claims: Vec<Option<&str>> = mine
                .iter()
                .filter(|c| c.label == label)
                .map(|c| c.claim.as_deref())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .filter(|c| c.is_some())
                .collect();
            claims.push(None);
            for claim in claims {
                let find = |scope: &Scope| {
                    mine.iter().find(|c| {
                        c.label == label && c.claim.as_deref() == claim && &c.scope == scope
                    })
                };
                let mut row = vec![
                    TableCell::new(label),
                    TableCell::new(claim.unwrap_or("mean over claims")),
                ];
                for t in &types {
                    row.push(
                        TableCell::new(
                            find(&Scope::Eval(*t)).map_or(String::new(), |c| percent(c, false)),
                        )
                        .set_alignment(CellAlignment::Right),
                    );
                }
                let pooled = find(&Scope::Pooled);
                row.push(
                    TableCell::new(pooled.map_or(String::new(), |c| percent(c, true)))
                        .set_alignment(CellAlignment::Right),
                );
                if has_margin {
                    row.push(
                        TableCell::new(
                            pooled
                                .and_then(|c| c.logprob_margin)
                                .map_or(String::new(), |m| format!("{m:+.2}")),
                        )
                        .set_alignment(CellAlignment::Right),
                    );
                }
                table.add_row(row);
            }
        }
        out.push_str(&format!("model: {model}\n{table}\n"));
    }
    out
}
