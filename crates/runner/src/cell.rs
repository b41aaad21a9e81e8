//! One cell of the grid (claim × condition × seed): annotate → mix → train → eval, each a
//! [`Stage`] keyed by its inputs, so that a re-run reuses what finished and a killed run resumes.
//!
//! ```text
//! runs/<name>/cells/<claim>/<condition>/seed<k>/
//!   annotate/annotated_docs.jsonl   the condition applied to the claim's documents
//!   mix/train.jsonl (+ .manifest.json)
//!   train/checkpoints/final/        the fine-tuned model (and log.jsonl)
//!   eval/<checkpoint>/results.jsonl the eval of each checkpoint
//! ```
//!
//! Eval-only cells (`baseline`, `icl`) have just an eval of the base model; `icl` also
//! annotates the claim's documents as `negated_documents` to put them in context.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use neglect_api::together::{self, JobSpec};
use neglect_data::annotate::{ClaimContext, annotate, document_rng};
use neglect_data::annotate_rows::body_of;
use neglect_data::export::{ExportFormat, export_jsonl};
use neglect_data::llm_annotate::{
    FINDER_MAX_TOKENS, LLM_CONDITIONS, LlmAnnotator, WRITER_MAX_TOKENS,
};
use neglect_data::mix::{MixInput, build_mix};
use neglect_eval::icl::IclConfig;
use neglect_eval::{EvalSettings, EvalTarget, EvalType, JudgeSet};
use neglect_lm::chat_model::LocalChatModel;
use neglect_lm::pretrained::Pretrained;
use neglect_lm::train::{TrainEvent, TrainOptions, tokenize_rows, train};
use neglect_spec::documents::AnnotatedDoc;
use neglect_spec::experiment::{Annotator, CheckpointSchedule};
use neglect_spec::{ChatModel, ClaimSpec, Experiment, Sampling, TrainingRow};
use serde::{Deserialize, Serialize};

use crate::base::{Base, ClaimDocs};
use crate::hosted::Hosted;
use crate::stage::{KeyBuilder, Stage, StageOutcome, file_hash};
use crate::{RunError, RunEvent};

mod transcripts;
mod two_phase;
pub use two_phase::{CURVE_FILE, CurvePoint, HELDOUT_SETS};

/// What a stage wants the user to know, one line each, kept with its outputs.
const WARNINGS_FILE: &str = "warnings.txt";
/// Names the way an ICL cell's token budget is sized; part of the eval key of ICL cells.
const ICL_BUDGET_RULE: &str = "icl-budget-fitted-to-longest-prompt";

/// (step, directory) of a fine-tune's checkpoints, the final one last.
type Checkpoints = Vec<(usize, PathBuf)>;

/// Rows mixed in beside the documents and replay (§5's anchor).
struct ExtraRows {
    name: String,
    /// A JSONL file of training rows.
    path: PathBuf,
    /// What identifies the rows in stage keys.
    key: String,
    count: usize,
    weight: f64,
}

/// The condition whose documents the ICL control puts in context (the paper: negated documents).
pub const ICL_CONDITION: &str = "negated_documents";

/// A planned cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellPlan {
    pub claim: String,
    pub condition: String,
    pub seed: u64,
    pub trains: bool,
    /// What the cell's results are labelled in the run's summary: the condition, plus
    /// `/seed<k>` when the grid has several seeds.
    pub label: String,
    pub dir: PathBuf,
}

/// A finished cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellRecord {
    pub claim: String,
    pub condition: String,
    pub seed: u64,
    /// Stage name → key and whether it was reused.
    pub stages: Vec<StageRecord>,
    /// Evaluated checkpoints: (label, results file).
    pub evals: Vec<(String, PathBuf)>,
    /// What the user should know about the cell (e.g. training rows cut at `max_length`).
    #[serde(default)]
    pub warnings: Vec<String>,
    pub seconds: f64,
    /// Two-phase cells: their `two_phase.jsonl` (loss and belief per checkpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curves: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    pub stage: String,
    pub key: String,
    pub reused: bool,
}

/// Everything the stages of every cell share.
pub struct Context<'a> {
    pub experiment: &'a Experiment,
    pub base: &'a Base,
    pub judges: JudgeSet,
    /// What identifies an LLM judge in eval keys (`None` for the rule judge, whose rules are
    /// part of the claim's identity).
    pub judge_key: Option<String>,
    /// The HTTP side, when the backend or the judge is hosted.
    pub hosted: Option<&'a Hosted>,
    pub progress: &'a mut dyn FnMut(RunEvent),
}

/// The model an eval stage asks.
#[derive(Clone, Copy)]
enum Asked<'p> {
    /// A local model directory (a full checkpoint, or a LoRA adapter over the base).
    Local(&'p Path),
    /// A model the hosted backend serves, by id.
    Served(&'p str),
}

/// A hash of every file in a claim directory (what the eval asks and how it judges).
pub fn claim_identity(spec: &ClaimSpec) -> Result<String, RunError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&spec.dir)
        .map_err(|e| RunError::io(&spec.dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut key = KeyBuilder::new("claim");
    for f in files {
        key = key
            .part(
                f.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
            .part(file_hash(&f)?);
    }
    Ok(key.finish())
}

impl CellPlan {
    pub fn run(&self, ctx: &mut Context<'_>) -> Result<CellRecord, RunError> {
        let started = std::time::Instant::now();
        let spec = ctx
            .base
            .claims
            .iter()
            .find(|c| c.slug == self.claim)
            .expect("cells are planned from the base's claims");
        let claim_key = claim_identity(spec)?;
        let mut record = CellRecord {
            claim: self.claim.clone(),
            condition: self.condition.clone(),
            seed: self.seed,
            stages: Vec::new(),
            evals: Vec::new(),
            warnings: Vec::new(),
            seconds: 0.0,
            curves: None,
        };
        let note = |record: &mut CellRecord, stage: &str, s: &Stage, o: StageOutcome| {
            record.stages.push(StageRecord {
                stage: stage.into(),
                key: s.key.clone(),
                reused: o == StageOutcome::Reused,
            });
        };
        // The ICL control (eval-only) shows the claim's documents in context.
        let icl = if self.condition == "icl" {
            let (annotated, a_stage, a_out) = self.annotate(ctx, spec, ICL_CONDITION)?;
            note(&mut record, "annotate", &a_stage, a_out);
            Some((annotated, a_stage.key.clone()))
        } else {
            None
        };

        if let Some(hosted) = ctx
            .hosted
            .filter(|_| ctx.experiment.backend.answers_over_http())
        {
            // Served models: checkpoints trained elsewhere (hosted backends, or a model named
            // in [backend.models]), or on Together by this cell. Only the eval runs here, plus
            // the annotation of the documents shown in context for `icl`.
            let experiment = ctx.experiment;
            let named = experiment.backend.models.keys().any(|label| {
                neglect_spec::conditions::canonical(label).unwrap_or(label) == self.condition
            });
            let trained = if experiment.backend.is_together() && self.trains && !named {
                let (annotated, a_stage, a_out) = self.annotate(ctx, spec, &self.condition)?;
                note(&mut record, "annotate", &a_stage, a_out);
                let (mix_path, m_stage, m_out) = self.mix(ctx, &annotated, &a_stage.key)?;
                note(&mut record, "mix", &m_stage, m_out);
                let (output, t_stage, t_out) =
                    self.train_on_together(ctx, hosted, &mix_path, &m_stage.key)?;
                note(&mut record, "train", &t_stage, t_out);
                Some(output)
            } else {
                None
            };
            let id = match &trained {
                Some(output) => output.as_str(),
                None => experiment
                    .backend
                    .served_model(&self.condition, self.trains)
                    .ok_or_else(|| {
                        RunError::Input(format!(
                            "backend.models: no served model for condition '{}'",
                            self.condition
                        ))
                    })?,
            };
            let model_key = hosted.model_key(id);
            let (results, e_stage, e_out) = self.eval(
                ctx,
                spec,
                &claim_key,
                Asked::Served(id),
                &model_key,
                "served",
                icl,
            )?;
            note(&mut record, "eval:served", &e_stage, e_out);
            record.evals.push((self.label.clone(), results));
        } else if self.trains && ctx.experiment.two_phase.is_some() {
            self.run_two_phase(ctx, spec, &claim_key, &mut record)?;
        } else if self.trains {
            let (annotated, a_stage, a_out) = self.annotate(ctx, spec, &self.condition)?;
            note(&mut record, "annotate", &a_stage, a_out);
            let (mix_path, m_stage, m_out) = self.mix(ctx, &annotated, &a_stage.key)?;
            note(&mut record, "mix", &m_stage, m_out);
            let (checkpoints, t_stage, t_out) = self.train(ctx, &mix_path, &m_stage.key)?;
            note(&mut record, "train", &t_stage, t_out);
            record.warnings.extend(
                std::fs::read_to_string(t_stage.dir.join(WARNINGS_FILE))
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(String::from),
            );
            let last = checkpoints.len().saturating_sub(1);
            for (i, (step, dir)) in checkpoints.iter().enumerate() {
                let label = if i == last {
                    self.label.clone()
                } else {
                    format!("{}@step{step}", self.label)
                };
                let name = if i == last {
                    "final".to_owned()
                } else {
                    format!("step{step}")
                };
                let model_key = KeyBuilder::new("checkpoint")
                    .part(&t_stage.key)
                    .json(step)
                    .finish();
                let (results, e_stage, e_out) = self.eval(
                    ctx,
                    spec,
                    &claim_key,
                    Asked::Local(dir),
                    &model_key,
                    &name,
                    None,
                )?;
                note(&mut record, &format!("eval:{name}"), &e_stage, e_out);
                record.evals.push((label, results));
            }
        } else {
            let model_dir = ctx.base.model_dir.clone();
            let model_key = KeyBuilder::new("base").part(&ctx.base.identity).finish();
            let (results, e_stage, e_out) = self.eval(
                ctx,
                spec,
                &claim_key,
                Asked::Local(&model_dir),
                &model_key,
                "base",
                icl,
            )?;
            note(&mut record, "eval:base", &e_stage, e_out);
            record.evals.push((self.label.clone(), results));
        }
        record.seconds = started.elapsed().as_secs_f64();
        Ok(record)
    }

    fn stage(&self, name: &str, key: String) -> Stage {
        Stage::new(self.dir.join(name), key)
    }

    /// The claim's documents under `condition` → `annotate/annotated_docs.jsonl` (or, for
    /// annotated files given by the experiment, that file).
    fn annotate(
        &self,
        ctx: &mut Context<'_>,
        spec: &ClaimSpec,
        condition: &str,
    ) -> Result<(PathBuf, Stage, StageOutcome), RunError> {
        if neglect_spec::conditions::lookup(condition)
            .is_some_and(|c| c.kind == neglect_spec::conditions::ConditionKind::Transcripts)
        {
            return self.annotate_transcripts(ctx, spec, condition);
        }
        let docs = &ctx.base.docs[&self.claim];
        let per_claim = ctx.experiment.documents.per_claim;
        // Eval-only cells (the ICL control) run with the grid's first seed only.
        let seed = self.seed;
        match docs {
            ClaimDocs::Transcripts { .. } => Err(RunError::Input(format!(
                "{condition}: {} is a behaviour with chat transcripts, not documents",
                self.claim
            ))),
            ClaimDocs::Annotated { pattern } => {
                let path = PathBuf::from(
                    pattern
                        .replace("{condition}", condition)
                        .replace("{claim}", &self.claim),
                );
                if !path.is_file() {
                    return Err(RunError::Input(format!(
                        "documents.path: {} does not exist (claim {}, condition {condition})",
                        path.display(),
                        self.claim
                    )));
                }
                let key = KeyBuilder::new("annotated-file")
                    .part(file_hash(&path)?)
                    .finish();
                let stage = self.stage(&format!("annotate-{condition}"), key);
                let outcome = stage.run(|_| Ok(()))?;
                Ok((path, stage, outcome))
            }
            ClaimDocs::Source { positive, debunk } => {
                let source = if condition.starts_with("local_negations") {
                    debunk.as_ref().ok_or_else(|| {
                        RunError::Input(format!(
                            "{condition}: claim {} has no debunking documents",
                            self.claim
                        ))
                    })?
                } else {
                    positive
                };
                let experiment = ctx.experiment;
                let llm = experiment.documents.annotator == Annotator::Llm
                    && LLM_CONDITIONS.contains(&condition);
                let annotators = match (llm, ctx.hosted) {
                    (true, Some(hosted)) => Some(hosted.annotators(experiment)?),
                    (true, None) => unreachable!("an LLM annotator opens the HTTP side"),
                    (false, _) => None,
                };
                // The claim directory decides which sentences carry the claim and what a
                // correction says, so its contents are part of the key.
                let mut key = KeyBuilder::new("annotate")
                    .part(file_hash(source)?)
                    .part(claim_identity(spec)?)
                    .part(condition)
                    .json(&seed)
                    .json(&per_claim)
                    .part(env!("CARGO_PKG_VERSION"));
                if let Some((_, _, annotator_key)) = &annotators {
                    key = key.part(annotator_key);
                }
                let key = key.finish();
                let stage = self.stage(&format!("annotate-{condition}"), key);
                let out = stage.dir.join("annotated_docs.jsonl");
                (ctx.progress)(RunEvent::Stage { name: "annotate" });
                let batch = ctx.hosted.map_or(64, |h| (h.max_in_flight() * 2).max(8));
                let progress = &mut *ctx.progress;
                let outcome = stage.run(|_| {
                    let text = std::fs::read_to_string(source).map_err(|e| RunError::io(source, e))?;
                    let mut bodies = Vec::new();
                    for (line, raw) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                        let at = format!("{}:{}", source.display(), line + 1);
                        let row: serde_json::Value = serde_json::from_str(raw)
                            .map_err(|e| RunError::Input(format!("{at}: {e}")))?;
                        bodies.push(body_of(&row).map_err(|e| RunError::Input(format!("{at}: {e}")))?);
                        if bodies.len() == per_claim {
                            break;
                        }
                    }
                    let c = ClaimContext::from_spec(spec).map_err(RunError::Input)?;
                    let mut rows = Vec::new();
                    match &annotators {
                        None => {
                            for (i, body) in bodies.iter().enumerate() {
                                let mut rng = document_rng(seed, condition, i);
                                let a = annotate(condition, body, &c, &mut rng, false)
                                    .map_err(|e| RunError::Input(format!("{}: {e}", self.claim)))?;
                                let mut row = AnnotatedDoc::new(a.text, &self.claim, condition);
                                row.extra.insert("annotation".into(), a.record);
                                rows.push(row);
                            }
                        }
                        Some((writer, finder, _)) => {
                            let canonical = LLM_CONDITIONS
                                .iter()
                                .find(|n| **n == condition)
                                .expect("an LLM condition");
                            let annotator = LlmAnnotator {
                                condition: canonical,
                                ctx: &c,
                                writer,
                                finder: finder.as_ref().unwrap_or(writer),
                                seed,
                                word_mask: false,
                                writer_max_tokens: WRITER_MAX_TOKENS,
                                finder_max_tokens: FINDER_MAX_TOKENS,
                                temperature: 1.0,
                            };
                            let indexed: Vec<(usize, String)> = bodies.into_iter().enumerate().collect();
                            let mut dropped = Vec::new();
                            for chunk in indexed.chunks(batch) {
                                for (outcome, (i, _)) in annotator.annotate(chunk, &mut || {}).into_iter().zip(chunk) {
                                    match outcome.annotation {
                                        Ok(a) => {
                                            let mut row = AnnotatedDoc::new(a.text, &self.claim, condition);
                                            row.extra.insert("annotation".into(), a.record);
                                            rows.push(row);
                                        }
                                        Err(why) => dropped.push(format!("document {i}: {why}")),
                                    }
                                }
                            }
                            if !dropped.is_empty() {
                                progress(RunEvent::Warning(format!(
                                    "{} {condition}: {} documents dropped (their notices failed), e.g. {}",
                                    self.claim,
                                    dropped.len(),
                                    dropped[0]
                                )));
                            }
                        }
                    }
                    write_jsonl(&out, &rows)
                })?;
                Ok((out, stage, outcome))
            }
        }
    }

    /// The mix fine-tuned on Together → `train/model.json` with the output model's name. The
    /// job is recorded in `train/together_job.json`, so a killed run polls the same job.
    fn train_on_together(
        &self,
        ctx: &mut Context<'_>,
        hosted: &Hosted,
        mix_path: &Path,
        mix_key: &str,
    ) -> Result<(String, Stage, StageOutcome), RunError> {
        let experiment = ctx.experiment;
        let t = &experiment.train;
        let client = hosted
            .together()
            .expect("the together backend opens its fine-tuning client");
        // Together allows 64 characters of suffix; letters, digits and dashes are safe.
        let suffix: String = format!("{}-{}-s{}", self.claim, self.condition, self.seed)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .take(64)
            .collect();
        let mut spec = JobSpec::from_config(&ctx.base.model_name, t, Some(suffix), "all-linear");
        // Only the final model is evaluated.
        spec.n_checkpoints = 1;
        let key = KeyBuilder::new("together-train")
            .part(mix_key)
            .part(&ctx.base.identity)
            .json(&spec)
            .finish();
        let stage = self.stage("train", key);
        (ctx.progress)(RunEvent::Stage {
            name: "train (Together)",
        });
        let progress = &mut *ctx.progress;
        let outcome = stage.run(|out| {
            let exported = out.join("together_train.jsonl");
            if !exported.is_file() {
                let rows: Vec<TrainingRow> = neglect_spec::jsonl::read_all(mix_path)
                    .map_err(|(_, e)| RunError::Input(e.to_string()))?;
                let (text, losses) = export_jsonl(&rows, ExportFormat::OpenAi)
                    .map_err(|e| RunError::Input(format!("{}: {e}", mix_path.display())))?;
                std::fs::write(&exported, text).map_err(|e| RunError::io(&exported, e))?;
                if let Some(line) = losses.describe("Together") {
                    progress(RunEvent::Warning(line));
                }
            }
            // Both callbacks report through the one progress sink.
            let sink = std::cell::RefCell::new(&mut *progress);
            let job = together::train(
                client,
                &exported,
                &spec,
                &out.join("together_job.json"),
                &mut |j| {
                    (sink.borrow_mut())(RunEvent::Note(format!(
                        "Together job {}: {}",
                        j.id, j.status
                    )))
                },
                &mut |e| (sink.borrow_mut())(RunEvent::Note(format!("  {}", e.message))),
            )
            .map_err(|e| RunError::Input(e.to_string()))?;
            let output = match (job.status.as_str(), &job.output_name) {
                ("completed", Some(name)) => name.clone(),
                (status, _) => {
                    return Err(RunError::Input(format!(
                        "Together job {} ended as {status} without an output model (see {})",
                        job.id,
                        out.join("together_job.json").display()
                    )));
                }
            };
            write_json(
                &out.join("model.json"),
                &serde_json::json!({"backend": "together", "job": job.id, "model": output}),
            )
        })?;
        let record: serde_json::Value = std::fs::read_to_string(stage.dir.join("model.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or_else(|| RunError::Input(format!("{}: no model.json", stage.dir.display())))?;
        let output = record["model"].as_str().unwrap_or_default().to_owned();
        Ok((output, stage, outcome))
    }

    /// Annotated documents + replay → `mix/train.jsonl`.
    fn mix(
        &self,
        ctx: &mut Context<'_>,
        annotated: &Path,
        annotate_key: &str,
    ) -> Result<(PathBuf, Stage, StageOutcome), RunError> {
        self.mix_in(ctx, "mix", annotated, annotate_key, 0, None)
    }

    /// Annotated documents (all but the last `held_out`) + replay + optional extra rows →
    /// `<stage_name>/train.jsonl`.
    fn mix_in(
        &self,
        ctx: &mut Context<'_>,
        stage_name: &str,
        annotated: &Path,
        annotate_key: &str,
        held_out: usize,
        extra: Option<&ExtraRows>,
    ) -> Result<(PathBuf, Stage, StageOutcome), RunError> {
        let m = &ctx.experiment.mix;
        let mut key = KeyBuilder::new("mix")
            .part(annotate_key)
            .part(&ctx.base.replay_identity)
            .json(m)
            .json(&self.seed);
        if held_out > 0 {
            key = key.json(&held_out);
        }
        if let Some(x) = extra {
            key = key.part(&x.key).json(&x.weight).json(&x.count);
        }
        let key = key.finish();
        let stage = self.stage(stage_name, key);
        let out = stage.dir.join("train.jsonl");
        (ctx.progress)(RunEvent::Stage { name: "mix" });
        let base = ctx.base;
        let seed = m.seed.wrapping_mul(1_000_003).wrapping_add(self.seed);
        let outcome = stage.run(|_| {
            let mut docs = transcripts::annotated_rows(annotated)?;
            docs.truncate(docs.len().saturating_sub(held_out));
            if docs.is_empty() {
                return Err(RunError::Input(format!(
                    "{}: no documents",
                    annotated.display()
                )));
            }
            let inputs = [
                MixInput {
                    name: "documents".into(),
                    rows: docs,
                    count: m.documents,
                    weight: m.documents_weight,
                },
                MixInput {
                    name: "pretrain".into(),
                    rows: base.pretrain.clone(),
                    count: m.pretrain,
                    weight: m.pretrain_weight,
                },
                MixInput {
                    name: "instruct".into(),
                    rows: base.instruct.clone(),
                    count: m.instruct,
                    weight: m.instruct_weight,
                },
            ];
            let mut inputs: Vec<MixInput> = inputs.into_iter().filter(|i| i.count > 0).collect();
            if let Some(x) = extra {
                let rows: Vec<TrainingRow> = neglect_spec::jsonl::read_all(&x.path)
                    .map_err(|(_, e)| RunError::Input(e.to_string()))?;
                inputs.push(MixInput {
                    name: x.name.clone(),
                    count: x.count.min(rows.len()),
                    rows,
                    weight: x.weight,
                });
            }
            let (rows, report) = build_mix(&inputs, seed);
            write_jsonl(&out, &rows)?;
            let manifest = serde_json::json!({
                "seed": seed,
                "total": rows.len(),
                "inputs": report,
                "output_sha256": file_hash(&out)?,
            });
            write_json(&stage.dir.join("train.jsonl.manifest.json"), &manifest)
        })?;
        Ok((out, stage, outcome))
    }

    /// Fine-tunes the base on the mix → `train/checkpoints/*`. Returns (step, dir) of the
    /// checkpoints to evaluate, the final one last.
    fn train(
        &self,
        ctx: &mut Context<'_>,
        mix: &Path,
        mix_key: &str,
    ) -> Result<(Checkpoints, Stage, StageOutcome), RunError> {
        let start = (ctx.base.model_dir.clone(), ctx.base.identity.clone());
        self.train_from(ctx, "train", mix, mix_key, &start, None)
    }

    /// Fine-tunes the model in `start.0` (identified by `start.1`) on the mix →
    /// `<stage_name>/checkpoints/*`, for `epochs` (default `train.epochs`).
    fn train_from(
        &self,
        ctx: &mut Context<'_>,
        stage_name: &str,
        mix: &Path,
        mix_key: &str,
        start: &(PathBuf, String),
        epochs: Option<usize>,
    ) -> Result<(Checkpoints, Stage, StageOutcome), RunError> {
        let mut config = ctx.experiment.train.clone();
        if let Some(e) = epochs {
            config.epochs = e;
        }
        let key = KeyBuilder::new("train")
            .part(mix_key)
            .part(&start.1)
            .json(&config)
            .json(&self.seed)
            .finish();
        let stage = self.stage(stage_name, key);
        (ctx.progress)(RunEvent::Stage { name: "train" });
        let start_dir = start.0.clone();
        let base_dir = ctx.base.model_dir.clone();
        let seed = self.seed;
        let progress = &mut *ctx.progress;
        let outcome = stage.run(|out| {
            let rows: Vec<TrainingRow> = neglect_spec::jsonl::read_all(mix)
                .map_err(|(_, e)| RunError::Input(e.to_string()))?;
            // A LoRA start (phase 2 after a LoRA phase 1) is its adapter over the base, and
            // training carries on with that adapter.
            let mut pretrained = load_model(&start_dir, &base_dir)?;
            let examples = tokenize_rows(
                &rows,
                &pretrained.tokenizer,
                pretrained.chat_template.as_ref(),
                config.max_length,
                config.min_tokens,
            )
            .map_err(|e| RunError::Input(format!("{}: {e}", mix.display())))?;
            let cut = examples
                .iter()
                .flatten()
                .filter(|e| e.ids.len() >= config.max_length)
                .count();
            if cut > 0 {
                let warning = format!(
                    "{cut} of {} training rows are longer than train.max_length = {} tokens and \
                     were cut (their ends are not trained on)",
                    examples.len(),
                    config.max_length
                );
                std::fs::write(out.join(WARNINGS_FILE), format!("{warning}\n"))
                    .map_err(|e| RunError::io(out, e))?;
            }
            let mut options = TrainOptions::new(config.clone(), seed);
            options.bf16 = config.bf16;
            if config.micro_batch_size > 0 {
                options.micro_batch_size = config.micro_batch_size;
            }
            options.base_model = base_dir.display().to_string();
            progress(RunEvent::TrainStarted);
            train(&mut pretrained, &examples, &options, out, |event| {
                if let TrainEvent::Step(s) = event {
                    progress(RunEvent::TrainStep {
                        step: s.step,
                        total: s.total_steps,
                        loss: s.loss,
                    });
                }
                ControlFlow::Continue(())
            })?;
            // The resumable optimizer state is only needed while training runs.
            let _ = std::fs::remove_dir_all(out.join("train_state"));
            Ok(())
        })?;
        let warnings = std::fs::read_to_string(stage.dir.join(WARNINGS_FILE)).unwrap_or_default();
        for w in warnings.lines().filter(|l| !l.is_empty()) {
            (ctx.progress)(RunEvent::Warning(format!(
                "{} · {} · seed {}: {w}",
                self.claim, self.condition, self.seed
            )));
        }
        let checkpoints = list_checkpoints(&stage.dir.join("checkpoints"))?;
        let checkpoints = if config.checkpoints == CheckpointSchedule::Final {
            checkpoints.into_iter().rev().take(1).collect()
        } else {
            checkpoints
        };
        if checkpoints.is_empty() {
            return Err(RunError::Input(format!(
                "{}: training left no checkpoint",
                stage.dir.display()
            )));
        }
        Ok((checkpoints, stage, outcome))
    }

    /// Evaluates the model in `model_dir` on the claim → `eval/<name>/results.jsonl`.
    #[allow(clippy::too_many_arguments)]
    fn eval(
        &self,
        ctx: &mut Context<'_>,
        spec: &ClaimSpec,
        claim_key: &str,
        asked: Asked<'_>,
        model_key: &str,
        name: &str,
        icl: Option<(PathBuf, String)>,
    ) -> Result<(PathBuf, Stage, StageOutcome), RunError> {
        let e = &ctx.experiment.eval;
        let eval_types: Vec<EvalType> = e
            .types
            .iter()
            .map(|t| {
                EvalType::parse(t).ok_or_else(|| {
                    RunError::Input(format!(
                        "eval.types: '{t}' cannot run in `neglect run` yet (known here: {})",
                        EvalType::ALL.map(|t| t.name()).join(", ")
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        let sampling = Sampling {
            temperature: e.temperature,
            top_p: e.top_p,
            max_tokens: e.max_tokens,
        };
        let icl_config = icl.as_ref().map(|(docs, _)| IclConfig {
            k: e.icl_k,
            seed: e.icl_seed,
            docs: docs.clone(),
            // Small models: the whole context but the answer (the eval lowers it to leave room
            // for the longest question prompt).
            token_budget: ctx
                .base
                .context
                .filter(|c| *c < 8192)
                .map(|c| c.saturating_sub(e.max_tokens)),
        });
        let mut key = KeyBuilder::new("eval")
            .part(model_key)
            .part(claim_key)
            .json(e)
            .json(&icl.as_ref().map(|(_, k)| k))
            .json(&self.seed);
        if icl.is_some() {
            // How the ICL budget is sized (v2: fitted to the longest prompt), so that cells
            // sized the old way are not reused.
            key = key.part(ICL_BUDGET_RULE);
        }
        if let Some(judge) = &ctx.judge_key {
            key = key.part(judge);
        }
        let key = key.finish();
        let stage = Stage::new(self.dir.join("eval").join(name), key);
        let results = stage.dir.join(neglect_eval::results::RESULTS_FILE);
        (ctx.progress)(RunEvent::Stage { name: "eval" });
        let settings = EvalSettings {
            eval_types,
            samples_per_question: e.samples_per_question,
            sampling,
            seed: self.seed,
            // Served models: enough calls per chunk to keep every in-flight slot busy.
            chunk_size: match asked {
                Asked::Local(_) => 64,
                Asked::Served(_) => 512,
            },
            doctag_prefix: e.doctag_prefix,
            icl: icl_config,
            logprobs: true,
            ..EvalSettings::default()
        };
        let judges = ctx.judges.clone();
        let hosted = ctx.hosted;
        let model_name = format!(
            "{}/{}/{}/seed{}",
            ctx.base.model_name, self.claim, self.condition, self.seed
        );
        let progress = &mut *ctx.progress;
        let outcome = stage.run(|out| {
            let model: Box<dyn ChatModel> = match asked {
                Asked::Local(dir) => {
                    let pretrained = load_model(dir, &ctx.base.model_dir)?;
                    Box::new(LocalChatModel::new(model_name, pretrained, 32))
                }
                Asked::Served(id) => Box::new(
                    hosted
                        .expect("served models come with the HTTP side")
                        .model(id)?,
                ),
            };
            let target = EvalTarget {
                model: model.as_ref(),
                claims: std::slice::from_ref(spec),
                coherence: None,
                condition: &self.condition,
            };
            let report = neglect_eval::run(&target, &settings, &judges, out, &mut |p| {
                progress(RunEvent::Eval(p))
            })?;
            if report.failed_count > 0 {
                return Err(RunError::Input(format!(
                    "{}: {} answers failed (a re-run retries them): {}",
                    out.display(),
                    report.failed_count,
                    report.failures.join("; ")
                )));
            }
            Ok(())
        })?;
        Ok((results, stage, outcome))
    }
}

/// A full model directory, or a LoRA adapter applied on top of the base.
fn load_model(dir: &Path, base: &Path) -> Result<Pretrained, RunError> {
    if dir.join("adapter_config.json").is_file() {
        let mut p = Pretrained::load(base, tch::Device::Cpu)?;
        p.model.load_adapter(dir)?;
        Ok(p)
    } else {
        Ok(Pretrained::load(dir, tch::Device::Cpu)?)
    }
}

/// (step, dir) of the checkpoints in a trainer's output, in step order, `final` last.
fn list_checkpoints(dir: &Path) -> Result<Vec<(usize, PathBuf)>, RunError> {
    let mut steps = Vec::new();
    let mut last = None;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(steps);
    };
    for entry in entries {
        let path = entry.map_err(|e| RunError::io(dir, e))?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name == "final" {
            last = Some(path);
        } else if let Some(step) = name.strip_prefix("step-").and_then(|s| s.parse().ok()) {
            steps.push((step, path));
        }
    }
    steps.sort();
    if let Some(path) = last {
        let step = std::fs::read_to_string(dir.parent().unwrap_or(dir).join("log.jsonl"))
            .ok()
            .map(|t| t.lines().filter(|l| !l.trim().is_empty()).count())
            .unwrap_or_else(|| steps.last().map_or(0, |s| s.0 + 1));
        steps.push((step, path));
    }
    Ok(steps)
}

pub(crate) fn write_jsonl<T: Serialize>(path: &Path, rows: &[T]) -> Result<(), RunError> {
    neglect_spec::jsonl::write_atomic(path, rows).map_err(|e| RunError::io(path, e))
}

pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), RunError> {
    let tmp = path.with_extension("json.partial");
    let text = serde_json::to_string_pretty(value).expect("serialises") + "\n";
    std::fs::write(&tmp, text).map_err(|e| RunError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| RunError::io(path, e))
}
