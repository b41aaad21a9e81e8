//! `neglect run`: an experiment grid end to end.
//!
//! The grid (claims × conditions × seeds on one backend) expands into [`cell::CellPlan`]s; each
//! cell runs annotate → mix → train → eval as [`stage::Stage`]s keyed by a content hash of their
//! inputs, so a re-run reuses finished cells and a killed run resumes where it stopped. After
//! every cell the run's `results.jsonl`, `summary.csv` and `manifest.json` are rewritten, so what
//! is on disk is always a consistent picture of the cells done so far.
//!
//! ```text
//! runs/<name>/
//!   experiment.toml   the experiment as given
//!   manifest.json     config hash, seeds, versions, git revision, base model, cells and keys
//!   cells/…           per-cell stage outputs (see `cell`)
//!   results.jsonl     every judged answer of every cell (label = condition)
//!   logprobs.jsonl    the log-prob metric's rows
//!   summary.csv       belief rates with 95% CIs per condition × claim × eval type
//! ```
//!
//! - [`base`]: what a backend provides (base model, claims, documents, replay).
//! - [`cell`]: one cell's stages.
//! - [`hosted`]: served models (hosted backends) and the LLM judge, through one HTTP session.
//! - [`stage`]: content-keyed stage directories.

pub mod base;
pub mod cell;
pub mod documents;
pub mod hosted;
pub mod stage;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hosted::Hosted;
use neglect_eval::JudgeSet;
use neglect_eval::aggregate::{Bootstrap, Cell as SummaryCell, summarize};
use neglect_eval::judge::rule::RuleJudge;
use neglect_eval::results::{LOGPROBS_FILE, LogprobRow, RESULTS_FILE, ResultRow, read_rows};
use neglect_organism::BuildEvent;
use neglect_spec::Experiment;
use serde::Serialize;

pub use base::Base;
pub use cell::{CellPlan, CellRecord};
use stage::KeyBuilder;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    // Not a `source`: the CLI prints error chains, which would repeat the I/O error.
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Organism(#[from] neglect_organism::OrganismError),
    #[error(transparent)]
    Lm(#[from] neglect_lm::LmError),
    #[error(transparent)]
    Eval(#[from] neglect_eval::EvalError),
}

impl RunError {
    pub fn io(path: &Path, source: std::io::Error) -> RunError {
        RunError::Io {
            path: path.to_owned(),
            error: source,
        }
    }
}

/// Progress of a run, for the CLI's bars.
#[derive(Debug)]
pub enum RunEvent {
    /// Building the organism (first use only).
    Build(BuildEvent),
    /// The grid is planned: cells in all, how many already finished, fine-tunes among them.
    Planned {
        cells: usize,
        finished: usize,
        fine_tunes: usize,
    },
    CellStarted {
        index: usize,
        claim: String,
        condition: String,
        seed: u64,
    },
    Stage {
        name: &'static str,
    },
    TrainStarted,
    TrainStep {
        step: usize,
        total: usize,
        loss: f64,
    },
    Eval(neglect_eval::Progress),
    /// Something the user should know (the run goes on).
    Warning(String),
    /// A line of progress worth printing (a hosted job's status and events).
    Note(String),
    CellFinished {
        index: usize,
        seconds: f64,
        reused: bool,
    },
}

/// Where things go and what the manifest records about the program.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Runs are written to `<runs_dir>/<experiment name>/`.
    pub runs_dir: PathBuf,
    /// The organism cache (`<cache_dir>/world/<hash>/`).
    pub cache_dir: PathBuf,
    pub threads: usize,
    /// Program versions for the manifest (`neglect`, git revision, libtorch).
    pub versions: serde_json::Map<String, serde_json::Value>,
    /// Stop after this many cells have run in this invocation (for tests and partial runs).
    pub max_cells: Option<usize>,
}

/// What a run produced.
pub struct RunOutcome {
    pub dir: PathBuf,
    pub cells: Vec<CellRecord>,
    pub total_cells: usize,
    pub summary: Vec<SummaryCell>,
    pub seconds: f64,
    pub base_model: String,
    pub organism_dir: Option<PathBuf>,
}

impl RunOutcome {
    pub fn complete(&self) -> bool {
        self.cells.len() == self.total_cells
    }
}

#[derive(Serialize)]
struct Manifest<'a> {
    name: &'a str,
    description: &'a str,
    /// SHA-256 (short) of the experiment file's text.
    config_hash: String,
    experiment: &'a Experiment,
    seeds: &'a [u64],
    versions: &'a serde_json::Map<String, serde_json::Value>,
    base_model: &'a str,
    base_dir: String,
    base_identity: &'a str,
    organism_dir: Option<String>,
    claims: Vec<&'a str>,
    cells_total: usize,
    cells_done: usize,
    cells: &'a [CellRecord],
    updated_at: String,
}

/// Runs (or resumes) `experiment`. `experiment_text` is the TOML it was read from.
pub fn run(
    experiment: &Experiment,
    experiment_text: &str,
    options: &RunOptions,
    progress: &mut dyn FnMut(RunEvent),
) -> Result<RunOutcome, RunError> {
    let started = std::time::Instant::now();
    let dir = options.runs_dir.join(&experiment.name);
    std::fs::create_dir_all(&dir).map_err(|e| RunError::io(&dir, e))?;
    let toml_path = dir.join("experiment.toml");
    std::fs::write(&toml_path, experiment_text).map_err(|e| RunError::io(&toml_path, e))?;

    let mut base = Base::open(experiment, &options.cache_dir, options.threads, &mut |e| {
        progress(RunEvent::Build(e))
    })?;
    let hosted = Hosted::open(experiment, &dir, &options.cache_dir)?;
    if experiment.documents.source == neglect_spec::experiment::DocumentSource::Llm {
        let hosted = hosted
            .as_ref()
            .expect("LLM-written documents open the HTTP side");
        documents::generate_all(experiment, &mut base, hosted, &dir, progress)?;
    }
    let (judges, judge_key) = judges_for(experiment, &base, hosted.as_ref(), &options.cache_dir)?;

    let slugs: Vec<String> = base.claims.iter().map(|c| c.slug.clone()).collect();
    let plans: Vec<CellPlan> = experiment
        .cells(&slugs)
        .into_iter()
        .map(|c| CellPlan {
            claim: c.claim.to_owned(),
            condition: c.condition.to_owned(),
            seed: c.seed,
            trains: c.trains,
            label: if experiment.seeds.len() > 1 && c.trains {
                format!("{}/seed{}", c.condition, c.seed)
            } else {
                c.condition.to_owned()
            },
            dir: dir
                .join("cells")
                .join(c.claim)
                .join(c.condition)
                .join(format!("seed{}", c.seed)),
        })
        .collect();
    let finished_before = plans
        .iter()
        .filter(|p| p.dir.join("cell.json").is_file())
        .count();
    progress(RunEvent::Planned {
        cells: plans.len(),
        finished: finished_before,
        fine_tunes: if experiment.backend.is_hosted() {
            0
        } else {
            plans.iter().filter(|p| p.trains).count()
        },
    });

    let mut records = Vec::new();
    let mut ran = 0;
    let config_hash = KeyBuilder::new("experiment").part(experiment_text).finish();
    let mut ctx = cell::Context {
        experiment,
        base: &base,
        judges,
        judge_key,
        hosted: hosted.as_ref(),
        progress,
    };
    for (index, plan) in plans.iter().enumerate() {
        if options.max_cells.is_some_and(|m| ran >= m) {
            break;
        }
        (ctx.progress)(RunEvent::CellStarted {
            index,
            claim: plan.claim.clone(),
            condition: plan.condition.clone(),
            seed: plan.seed,
        });
        let record = plan.run(&mut ctx)?;
        let reused = record.stages.iter().all(|s| s.reused);
        if !reused {
            ran += 1;
        }
        cell::write_json(&plan.dir.join("cell.json"), &record)?;
        (ctx.progress)(RunEvent::CellFinished {
            index,
            seconds: record.seconds,
            reused,
        });
        records.push(record);
        let manifest = Manifest {
            name: &experiment.name,
            description: experiment.description.trim(),
            config_hash: config_hash.clone(),
            experiment,
            seeds: &experiment.seeds,
            versions: &options.versions,
            base_model: &base.model_name,
            base_dir: base.model_dir.display().to_string(),
            base_identity: &base.identity,
            organism_dir: base.organism.as_ref().map(|o| o.root.display().to_string()),
            claims: slugs.iter().map(String::as_str).collect(),
            cells_total: plans.len(),
            cells_done: records.len(),
            cells: &records,
            updated_at: neglect_eval::results::now(),
        };
        cell::write_json(&dir.join("manifest.json"), &manifest)?;
        merge_results(&dir, &base.model_name, &records)?;
    }
    let summary = summary(&dir)?;
    Ok(RunOutcome {
        dir,
        cells: records,
        total_cells: plans.len(),
        summary,
        seconds: started.elapsed().as_secs_f64(),
        base_model: base.model_name.clone(),
        organism_dir: base.organism.as_ref().map(|o| o.root.clone()),
    })
}

/// The judges `eval.judge` names: the rule judge (`rule`, or `auto` when every claim has a
/// rule_judge.yaml) or the LLM judge (`llm`, or `auto` otherwise), which also gives the 0–10
/// ratings. With the LLM judge, the second value identifies it in eval keys.
fn judges_for(
    experiment: &Experiment,
    base: &Base,
    hosted: Option<&Hosted>,
    cache_dir: &Path,
) -> Result<(JudgeSet, Option<String>), RunError> {
    let without_rules = base.claims.iter().find(|c| c.rule_judge.is_none());
    let llm = match (experiment.eval.judge.as_str(), without_rules) {
        ("llm", _) => true,
        ("auto", Some(_)) => experiment.eval.judge_model.is_some(),
        _ => false,
    };
    if llm {
        let hosted = hosted.expect("a judge model opens the HTTP side");
        let (judge, key) = hosted.judge(experiment, cache_dir)?;
        return Ok((
            JudgeSet {
                verdicts: Some(judge.clone()),
                ratings: Some(judge),
            },
            Some(key),
        ));
    }
    if let Some(c) = without_rules {
        return Err(RunError::Input(format!(
            "{}: no rule_judge.yaml, so the rule judge cannot score it; set eval.judge = \"llm\" \
             with eval.judge_backend and eval.judge_model",
            c.dir.display()
        )));
    }
    let rule = Arc::new(RuleJudge::new(&base.claims).map_err(RunError::Input)?);
    Ok((
        JudgeSet {
            verdicts: Some(rule),
            ratings: None,
        },
        None,
    ))
}

/// Every cell's rows, relabelled by the cell (model = the base's name, label = the condition
/// or `condition@stepN` for intermediate checkpoints), into the run's `results.jsonl` and
/// `logprobs.jsonl`.
fn merge_results(dir: &Path, model_name: &str, records: &[CellRecord]) -> Result<(), RunError> {
    let mut rows: Vec<ResultRow> = Vec::new();
    let mut logprobs: Vec<LogprobRow> = Vec::new();
    for record in records {
        for (label, results) in &record.evals {
            for mut r in read_rows::<ResultRow>(results)? {
                r.model = model_name.to_owned();
                r.label = label.clone();
                r.condition = record.condition.clone();
                rows.push(r);
            }
            let lp = results.with_file_name(LOGPROBS_FILE);
            if lp.is_file() {
                for mut r in read_rows::<LogprobRow>(&lp)? {
                    r.model = model_name.to_owned();
                    r.label = label.clone();
                    r.condition = record.condition.clone();
                    logprobs.push(r);
                }
            }
        }
    }
    cell::write_jsonl(&dir.join(RESULTS_FILE), &rows)?;
    cell::write_jsonl(&dir.join(LOGPROBS_FILE), &logprobs)?;
    // §5 curves of two-phase cells, one row per (cell, checkpoint).
    let mut curves: Vec<serde_json::Value> = Vec::new();
    for record in records {
        let Some(path) = &record.curves else {
            continue;
        };
        for point in read_rows::<cell::CurvePoint>(path)? {
            let mut row = serde_json::to_value(&point).expect("serialises");
            row["claim"] = record.claim.clone().into();
            row["condition"] = record.condition.clone().into();
            row["seed"] = record.seed.into();
            curves.push(row);
        }
    }
    let curve_path = dir.join(cell::CURVE_FILE);
    if curves.is_empty() {
        let _ = std::fs::remove_file(&curve_path);
    } else {
        cell::write_jsonl(&curve_path, &curves)?;
    }
    let cells = summarize(&rows, &logprobs, &Bootstrap::default());
    neglect_eval::summary::write_csv(&dir.join("summary.csv"), &cells)?;
    Ok(())
}

/// The summary of a run directory's `results.jsonl` (and `logprobs.jsonl`).
pub fn summary(dir: &Path) -> Result<Vec<SummaryCell>, RunError> {
    Ok(neglect_eval::aggregate::summarize_dir(dir)?)
}
