//! Belief rates the way the paper computes them (reference §5.3):
//!
//! - per question: the share of "yes" among its samples (no, neutral and parse errors are
//!   non-belief); for rating evals, the mean score / 10;
//! - per eval type: the mean of its per-question rates;
//! - per claim, pooled: the mean of the per-question rates of the four main evals together
//!   (question-weighted: open-ended, with 20 of 50 questions, carries 40%);
//! - per condition: the unweighted mean of the per-claim rates.
//!
//! 95% CIs are percentile bootstraps (2,000 resamples, seeded) over per-question rates for a
//! claim, and over per-claim rates for a condition.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::EvalError;
use crate::eval_type::EvalType;
use crate::judge::Verdict;
use crate::results::{LOGPROBS_FILE, LogprobRow, RESULTS_FILE, ResultRow, read_rows};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bootstrap {
    pub resamples: usize,
    pub seed: u64,
    /// Two-sided coverage, e.g. 0.95.
    pub level: f64,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap {
            resamples: 2000,
            seed: 42,
            level: 0.95,
        }
    }
}

/// The `q`-quantile (0..=1) of sorted values, interpolated linearly (numpy's default).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of nothing");
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

impl Bootstrap {
    /// The percentile CI of the mean of `values`; a single value gives a zero-width interval.
    pub fn mean_ci(&self, values: &[f64]) -> (f64, f64) {
        if values.len() < 2 {
            let m = values.first().copied().unwrap_or(f64::NAN);
            return (m, m);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let n = values.len();
        let mut means: Vec<f64> = (0..self.resamples)
            .map(|_| (0..n).map(|_| values[rng.random_range(0..n)]).sum::<f64>() / n as f64)
            .collect();
        means.sort_by(f64::total_cmp);
        let tail = (1.0 - self.level) / 2.0;
        (quantile(&means, tail), quantile(&means, 1.0 - tail))
    }
}

/// Verdict counts and the per-question rate of one question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuestionRate {
    pub model: String,
    pub label: String,
    pub condition: String,
    pub claim: String,
    pub eval_type: EvalType,
    pub question_id: String,
    pub counts: Counts,
    /// Share of yes, or mean score / 10 for ratings.
    pub rate: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub n: usize,
    pub yes: usize,
    pub no: usize,
    pub neutral: usize,
    pub parse_error: usize,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.n += other.n;
        self.yes += other.yes;
        self.no += other.no;
        self.neutral += other.neutral;
        self.parse_error += other.parse_error;
    }
}

pub fn question_rates(rows: &[ResultRow]) -> Vec<QuestionRate> {
    type Key<'a> = (&'a str, &'a str, &'a str, EvalType, &'a str);
    let mut groups: BTreeMap<Key<'_>, (String, Counts, f64, usize)> = BTreeMap::new();
    for r in rows {
        let key = (
            r.model.as_str(),
            r.label.as_str(),
            r.claim.as_str(),
            r.eval_type,
            r.question_id.as_str(),
        );
        let entry = groups
            .entry(key)
            .or_insert_with(|| (r.condition.clone(), Counts::default(), 0.0, 0));
        entry.1.n += 1;
        match r.verdict {
            Verdict::Yes => entry.1.yes += 1,
            Verdict::No => entry.1.no += 1,
            Verdict::Neutral => entry.1.neutral += 1,
            Verdict::ParseError => entry.1.parse_error += 1,
            Verdict::Score(s) => {
                entry.2 += s as f64;
                entry.3 += 1;
            }
        }
    }
    groups
        .into_iter()
        .map(
            |((model, label, claim, eval_type, qid), (condition, counts, score_sum, scored))| {
                let rate = if eval_type.is_rating() {
                    // An unparseable rating counts as missing, not as zero.
                    if scored == 0 {
                        f64::NAN
                    } else {
                        score_sum / scored as f64 / 10.0
                    }
                } else {
                    counts.yes as f64 / counts.n as f64
                };
                QuestionRate {
                    model: model.into(),
                    label: label.into(),
                    condition,
                    claim: claim.into(),
                    eval_type,
                    question_id: qid.into(),
                    counts,
                    rate,
                }
            },
        )
        .collect()
}

/// What a summary cell covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Scope {
    /// One eval type of one claim.
    Eval(EvalType),
    /// The four main evals of one claim, pooled.
    Pooled,
}

/// One row of `summary.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    pub model: String,
    pub label: String,
    pub condition: String,
    /// `None` = the mean over claims.
    pub claim: Option<String>,
    pub scope: Scope,
    pub n_questions: usize,
    pub counts: Counts,
    /// Belief rate (share of yes), or mean score / 10 for rating evals.
    pub rate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Mean log P(belief) − log P(truth) over the scored questions, and how many there were.
    pub logprob_margin: Option<f64>,
    /// Share of scored questions where the belief answer is the more likely one.
    pub logprob_belief_share: Option<f64>,
    pub logprob_n: usize,
}

impl Cell {
    pub fn is_rating(&self) -> bool {
        matches!(self.scope, Scope::Eval(t) if t.is_rating())
    }
}

/// Every summary cell: per claim × eval type, per claim pooled, and the same over claims.
/// The summary of a directory's `results.jsonl` (and `logprobs.jsonl` when present); empty
/// when there are no results yet.
pub fn summarize_dir(dir: &std::path::Path) -> Result<Vec<Cell>, EvalError> {
    let results = dir.join(RESULTS_FILE);
    if !results.is_file() {
        return Ok(Vec::new());
    }
    let rows: Vec<ResultRow> = read_rows(&results)?;
    let lp = dir.join(LOGPROBS_FILE);
    let logprobs: Vec<LogprobRow> = if lp.is_file() {
        read_rows(&lp)?
    } else {
        Vec::new()
    };
    Ok(summarize(&rows, &logprobs, &Bootstrap::default()))
}

pub fn summarize(rows: &[ResultRow], logprobs: &[LogprobRow], bootstrap: &Bootstrap) -> Vec<Cell> {
    let rates = question_rates(rows);
    // (model, label) → claim → scope → per-question rates and counts
    type PerClaim = BTreeMap<String, BTreeMap<Scope, (Vec<f64>, Counts)>>;
    let mut groups: BTreeMap<(String, String), (String, PerClaim)> = BTreeMap::new();
    for q in &rates {
        let (_, per_claim) = groups
            .entry((q.model.clone(), q.label.clone()))
            .or_insert_with(|| (q.condition.clone(), BTreeMap::new()));
        let scopes = per_claim.entry(q.claim.clone()).or_default();
        let mut scope_list = vec![Scope::Eval(q.eval_type)];
        if EvalType::MAIN.contains(&q.eval_type) {
            scope_list.push(Scope::Pooled);
        }
        for scope in scope_list {
            let (values, counts) = scopes.entry(scope).or_default();
            if !q.rate.is_nan() {
                values.push(q.rate);
            }
            counts.add(&q.counts);
        }
    }
    // (model, label, claim, eval type) → margins
    let mut margins: BTreeMap<(&str, &str, &str, EvalType), Vec<f64>> = BTreeMap::new();
    for l in logprobs {
        margins
            .entry((&l.model, &l.label, &l.claim, l.eval_type))
            .or_default()
            .push(l.margin);
    }
    let margin_stats = |model: &str, label: &str, claim: &str, scope: &Scope| -> Vec<f64> {
        let types: Vec<EvalType> = match scope {
            Scope::Eval(t) => vec![*t],
            Scope::Pooled => EvalType::MAIN.to_vec(),
        };
        types
            .iter()
            .filter_map(|t| margins.get(&(model, label, claim, *t)))
            .flatten()
            .copied()
            .collect()
    };

    let mut cells = Vec::new();
    for ((model, label), (condition, per_claim)) in &groups {
        // scope → what the claims of this label add up to, for the mean over claims
        let mut across: BTreeMap<Scope, AcrossClaims> = BTreeMap::new();
        for (claim, scopes) in per_claim {
            for (scope, (values, counts)) in scopes {
                if values.is_empty() {
                    continue;
                }
                let rate = mean(values);
                let (ci_low, ci_high) = bootstrap.mean_ci(values);
                let m = margin_stats(model, label, claim, scope);
                let (margin, share) = margin_summary(&m);
                cells.push(Cell {
                    model: model.clone(),
                    label: label.clone(),
                    condition: condition.clone(),
                    claim: Some(claim.clone()),
                    scope: scope.clone(),
                    n_questions: values.len(),
                    counts: *counts,
                    rate,
                    ci_low,
                    ci_high,
                    logprob_margin: margin,
                    logprob_belief_share: share,
                    logprob_n: m.len(),
                });
                let a = across.entry(scope.clone()).or_default();
                a.rates.push(rate);
                a.counts.add(counts);
                a.n_questions += values.len();
                if let (Some(mg), Some(sh)) = (margin, share) {
                    a.margins.push(mg);
                    a.shares.push(sh);
                    a.logprob_n += m.len();
                }
            }
        }
        for (scope, a) in across {
            let (ci_low, ci_high) = bootstrap.mean_ci(&a.rates);
            cells.push(Cell {
                model: model.clone(),
                label: label.clone(),
                condition: condition.clone(),
                claim: None,
                scope,
                n_questions: a.n_questions,
                counts: a.counts,
                rate: mean(&a.rates),
                ci_low,
                ci_high,
                logprob_margin: (!a.margins.is_empty()).then(|| mean(&a.margins)),
                logprob_belief_share: (!a.shares.is_empty()).then(|| mean(&a.shares)),
                logprob_n: a.logprob_n,
            });
        }
    }
    cells
}

/// Per-claim figures collected for a cell over claims (each claim counts once).
#[derive(Default)]
struct AcrossClaims {
    rates: Vec<f64>,
    counts: Counts,
    n_questions: usize,
    margins: Vec<f64>,
    shares: Vec<f64>,
    logprob_n: usize,
}

fn margin_summary(margins: &[f64]) -> (Option<f64>, Option<f64>) {
    if margins.is_empty() {
        return (None, None);
    }
    let share = margins.iter().filter(|m| **m > 0.0).count() as f64 / margins.len() as f64;
    (Some(mean(margins)), Some(share))
}
