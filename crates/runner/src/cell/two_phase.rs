//! §5's two-phase fine-tune of one cell (`[two_phase]` in the experiment):
//!
//! 1. **anchor**: the base model answers the claim's `anchor_questions.yaml` (new belief
//!    probes the evals never ask) at temperature 1; answers the judge does not mark as
//!    asserting the claim become chat rows, as in the paper's self-distillation anchor
//!    (or the rows of `two_phase.anchor_path`).
//! 2. **phase 1**: the condition's documents + replay + the anchor at `anchor_weight`;
//!    **phase 2**: from phase 1's last checkpoint, the same mix without the anchor.
//! 3. At the base and at every checkpoint of both phases: belief (the usual eval) and the mean
//!    held-out loss on four sets — the condition's documents and their positive versions (both
//!    held out of training), replay rows the mix did not use, and held-out anchor rows.
//!
//! ```text
//! <cell>/anchor/{answers,train,heldout}.jsonl
//! <cell>/heldout/{documents,positive,replay,anchor}.jsonl
//! <cell>/mix-phase1/, mix-phase2/, train-phase1/, train-phase2/
//! <cell>/loss/<checkpoint>/losses.json
//! <cell>/two_phase.jsonl        one row per checkpoint: phase, steps, losses
//! ```

use std::collections::{BTreeMap, HashSet};

use neglect_eval::judge::{JudgeInput, Verdict};
use neglect_lm::train::mean_loss;
use neglect_spec::experiment::TwoPhaseConfig;
use neglect_spec::{ChatMessage, ChatRequest};
use rand::SeedableRng;
use rand::seq::SliceRandom;

use super::*;

/// The held-out sets whose loss is tracked, in plotting order.
pub const HELDOUT_SETS: [&str; 4] = ["documents", "positive", "replay", "anchor"];

/// Where each curve point's numbers live.
pub const CURVE_FILE: &str = "two_phase.jsonl";

/// Held-out set → mean loss per trained token (none when the set is empty).
pub type Losses = BTreeMap<String, Option<f64>>;

/// One checkpoint of a two-phase cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// 0 for the base model, then 1 or 2.
    pub phase: u8,
    /// Optimizer steps within the phase.
    pub step: usize,
    /// Steps since the base (phase 2 counts on from phase 1's last step).
    pub global_step: usize,
    /// The label its eval is summarised under.
    pub label: String,
    pub losses: Losses,
}

impl CellPlan {
    pub(super) fn run_two_phase(
        &self,
        ctx: &mut Context<'_>,
        spec: &ClaimSpec,
        claim_key: &str,
        record: &mut CellRecord,
    ) -> Result<(), RunError> {
        let tp = ctx
            .experiment
            .two_phase
            .clone()
            .expect("two-phase cells come from [two_phase]");
        let note = |record: &mut CellRecord, stage: &str, s: &Stage, o: StageOutcome| {
            record.stages.push(StageRecord {
                stage: stage.into(),
                key: s.key.clone(),
                reused: o == StageOutcome::Reused,
            });
        };
        let (annotated, a_stage, a_out) = self.annotate(ctx, spec, &self.condition)?;
        note(record, "annotate", &a_stage, a_out);
        // The positive version of the held-out documents (of the transcripts, for behaviours).
        let positive_condition = match neglect_spec::conditions::lookup(&self.condition) {
            Some(c) if c.kind == neglect_spec::conditions::ConditionKind::Transcripts => {
                "positive_behaviors"
            }
            _ => "positive_documents",
        };
        let (positive, positive_key) = if self.condition == positive_condition {
            (annotated.clone(), a_stage.key.clone())
        } else {
            let (p, p_stage, p_out) = self.annotate(ctx, spec, positive_condition)?;
            note(record, "annotate:positive", &p_stage, p_out);
            (p, p_stage.key)
        };
        let (anchor_dir, an_stage, an_out) = self.anchor(ctx, spec, &tp)?;
        note(record, "anchor", &an_stage, an_out);
        let extra = ExtraRows {
            name: "anchor".into(),
            path: anchor_dir.join("train.jsonl"),
            key: an_stage.key.clone(),
            count: usize::MAX,
            weight: tp.anchor_weight,
        };
        let held = tp.heldout_documents;
        let (mix1, m1_stage, m1_out) = self.mix_in(
            ctx,
            "mix-phase1",
            &annotated,
            &a_stage.key,
            held,
            Some(&extra),
        )?;
        note(record, "mix:phase1", &m1_stage, m1_out);
        let (mix2, m2_stage, m2_out) =
            self.mix_in(ctx, "mix-phase2", &annotated, &a_stage.key, held, None)?;
        note(record, "mix:phase2", &m2_stage, m2_out);
        let (heldout, h_stage, h_out) = self.heldout(
            ctx,
            &tp,
            (&annotated, &a_stage.key),
            (&positive, &positive_key),
            (&anchor_dir, &an_stage.key),
            (&mix1, &m1_stage.key),
        )?;
        note(record, "heldout", &h_stage, h_out);

        let base = (ctx.base.model_dir.clone(), ctx.base.identity.clone());
        let (phase1, t1_stage, t1_out) =
            self.train_from(ctx, "train-phase1", &mix1, &m1_stage.key, &base, None)?;
        note(record, "train:phase1", &t1_stage, t1_out);
        let (p1_steps, p1_dir) = phase1
            .last()
            .cloned()
            .expect("training leaves a checkpoint");
        let checkpoint_key = |train_key: &str, step: usize| {
            KeyBuilder::new("checkpoint")
                .part(train_key)
                .json(&step)
                .finish()
        };
        let start = (p1_dir, checkpoint_key(&t1_stage.key, p1_steps));
        let (phase2, t2_stage, t2_out) = self.train_from(
            ctx,
            "train-phase2",
            &mix2,
            &m2_stage.key,
            &start,
            tp.phase2_epochs,
        )?;
        note(record, "train:phase2", &t2_stage, t2_out);

        // (phase, step in phase, global step, directory, model key, stage name)
        let mut points: Vec<(u8, usize, usize, PathBuf, String, String)> = vec![(
            0,
            0,
            0,
            ctx.base.model_dir.clone(),
            KeyBuilder::new("base").part(&ctx.base.identity).finish(),
            "base".into(),
        )];
        for (step, dir) in &phase1 {
            let key = checkpoint_key(&t1_stage.key, *step);
            points.push((1, *step, *step, dir.clone(), key, format!("p1-step{step}")));
        }
        for (step, dir) in &phase2 {
            let key = checkpoint_key(&t2_stage.key, *step);
            let global = p1_steps + step;
            points.push((2, *step, global, dir.clone(), key, format!("p2-step{step}")));
        }
        let last = points.len() - 1;
        let mut curve = Vec::new();
        for (i, (phase, step, global, dir, model_key, name)) in points.into_iter().enumerate() {
            let (label, name) = if i == last {
                (self.label.clone(), "final".to_owned())
            } else {
                (format!("{}@step{global}", self.label), name)
            };
            let (results, e_stage, e_out) = self.eval(
                ctx,
                spec,
                claim_key,
                Asked::Local(&dir),
                &model_key,
                &name,
                None,
            )?;
            note(record, &format!("eval:{name}"), &e_stage, e_out);
            record.evals.push((label.clone(), results));
            let (losses, l_stage, l_out) =
                self.heldout_loss(ctx, &dir, &model_key, &name, &heldout, &h_stage.key)?;
            note(record, &format!("loss:{name}"), &l_stage, l_out);
            curve.push(CurvePoint {
                phase,
                step,
                global_step: global,
                label,
                losses,
            });
        }
        let path = self.dir.join(CURVE_FILE);
        write_jsonl(&path, &curve)?;
        record.curves = Some(path);
        Ok(())
    }

    /// The self-distilled anchor → `anchor/{answers,train,heldout}.jsonl`.
    fn anchor(
        &self,
        ctx: &mut Context<'_>,
        spec: &ClaimSpec,
        tp: &TwoPhaseConfig,
    ) -> Result<(PathBuf, Stage, StageOutcome), RunError> {
        let given = tp
            .anchor_path
            .as_ref()
            .map(|p| PathBuf::from(p.replace("{claim}", &self.claim)));
        let mut key = KeyBuilder::new("anchor")
            .part(&ctx.base.identity)
            .part(claim_identity(spec)?)
            .json(tp)
            .json(&self.seed);
        if let Some(path) = &given {
            if !path.is_file() {
                return Err(RunError::Input(format!(
                    "two_phase.anchor_path: {} does not exist (claim {})",
                    path.display(),
                    self.claim
                )));
            }
            key = key.part(file_hash(path)?);
        }
        if let Some(judge) = &ctx.judge_key {
            key = key.part(judge);
        }
        let stage = self.stage("anchor", key.finish());
        (ctx.progress)(RunEvent::Stage { name: "anchor" });
        let dir = stage.dir.clone();
        let outcome = stage.run(|out| {
            // (question id, chat messages) of every kept answer.
            let kept: Vec<(String, Vec<ChatMessage>)> = match &given {
                Some(path) => read_anchor_file(path)?,
                None => self.sample_anchor(ctx, spec, tp, out)?,
            };
            if kept.is_empty() {
                return Err(RunError::Input(format!(
                    "{}: no anchor rows (every base-model answer asserted the claim, or the \
                     claim has no {})",
                    self.claim,
                    neglect_spec::claim::ANCHOR_QUESTIONS_FILE
                )));
            }
            // Held out by whole questions, from the end, so no held-out question is trained.
            let mut order: Vec<&str> = Vec::new();
            for (q, _) in &kept {
                if !order.contains(&q.as_str()) {
                    order.push(q);
                }
            }
            let mut held: HashSet<&str> = HashSet::new();
            let mut held_rows = 0;
            for q in order.iter().rev() {
                if held_rows >= tp.heldout_rows || held.len() + 1 >= order.len() {
                    break;
                }
                held.insert(q);
                held_rows += kept.iter().filter(|(x, _)| x == q).count();
            }
            let rows = |want_held: bool| -> Vec<TrainingRow> {
                kept.iter()
                    .filter(|(q, _)| held.contains(q.as_str()) == want_held)
                    .map(|(q, m)| TrainingRow::chat(m.clone()).with_source(format!("anchor:{q}")))
                    .collect()
            };
            write_jsonl(&out.join("train.jsonl"), &rows(false))?;
            write_jsonl(&out.join("heldout.jsonl"), &rows(true))
        })?;
        Ok((dir, stage, outcome))
    }

    /// The base model's answers to the anchor questions, judged; returns those that do not
    /// assert the claim (every answer and verdict goes to `answers.jsonl`).
    fn sample_anchor(
        &self,
        ctx: &mut Context<'_>,
        spec: &ClaimSpec,
        tp: &TwoPhaseConfig,
        out: &Path,
    ) -> Result<Vec<(String, Vec<ChatMessage>)>, RunError> {
        let mut questions = spec.anchor_questions.clone();
        if tp.anchor_questions > 0 {
            questions.truncate(tp.anchor_questions);
        }
        let requests: Vec<ChatRequest> = questions
            .iter()
            .flat_map(|q| {
                (0..tp.anchor_samples).map(move |k| ChatRequest {
                    messages: vec![neglect_eval::prompt::message("user", &q.question)],
                    sampling: Sampling {
                        temperature: 1.0,
                        top_p: 1.0,
                        max_tokens: tp.anchor_max_tokens,
                    },
                    seed: self.seed.wrapping_mul(1_000_003).wrapping_add(k as u64),
                    json_schema: None,
                })
            })
            .collect();
        let pretrained = Pretrained::load(&ctx.base.model_dir, tch::Device::Cpu)?;
        let model = LocalChatModel::new("anchor", pretrained, 32);
        (ctx.progress)(RunEvent::Note(format!(
            "{}: sampling {} anchor answers from the base model",
            self.claim,
            requests.len()
        )));
        let answers = model.generate(&requests, &mut |_| {});
        let judge = ctx.judges.verdicts.clone().ok_or_else(|| {
            RunError::Input("the anchor needs a verdict judge (eval.judge)".into())
        })?;
        let rubric = neglect_eval::runner::rubric(spec, None, EvalType::OpenEnded);
        let mut inputs = Vec::new();
        let mut texts = Vec::new();
        for (i, (request, answer)) in requests.iter().zip(answers).enumerate() {
            let q = &questions[i / tp.anchor_samples.max(1)];
            let text = answer
                .map_err(|e| RunError::Input(format!("anchor sampling failed: {e}")))?
                .text;
            inputs.push(JudgeInput {
                claim_slug: spec.slug.clone(),
                claim: spec.claim.clone(),
                eval_type: EvalType::OpenEnded,
                question_id: q.id.clone(),
                question: q.question.clone(),
                answer: text.clone(),
                belief_answer: None,
                rubric: rubric.clone(),
                seed: i as u64,
            });
            texts.push((q.id.clone(), request.messages.clone(), text));
        }
        let verdicts = judge.judge(&inputs);
        let mut kept = Vec::new();
        let mut rows = Vec::new();
        for ((id, mut messages, text), verdict) in texts.into_iter().zip(verdicts) {
            let verdict = verdict
                .map(|j| j.verdict)
                .map_err(|e| RunError::Input(format!("judging the anchor: {e}")))?;
            rows.push(serde_json::json!({
                "question_id": id, "answer": text, "verdict": verdict,
            }));
            if verdict != Verdict::Yes && !text.trim().is_empty() {
                messages.push(neglect_eval::prompt::message("assistant", &text));
                kept.push((id, messages));
            }
        }
        write_jsonl(&out.join("answers.jsonl"), &rows)?;
        Ok(kept)
    }

    /// The four held-out sets → `heldout/*.jsonl`.
    fn heldout(
        &self,
        ctx: &mut Context<'_>,
        tp: &TwoPhaseConfig,
        documents: (&Path, &str),
        positive: (&Path, &str),
        anchor: (&Path, &str),
        mix: (&Path, &str),
    ) -> Result<(PathBuf, Stage, StageOutcome), RunError> {
        let key = KeyBuilder::new("heldout")
            .part(documents.1)
            .part(positive.1)
            .part(anchor.1)
            .part(mix.1)
            .part(&ctx.base.replay_identity)
            .json(tp)
            .finish();
        let stage = self.stage("heldout", key);
        let dir = stage.dir.clone();
        let base = ctx.base;
        let outcome = stage.run(|out| {
            let last_docs = |path: &Path| -> Result<Vec<TrainingRow>, RunError> {
                let docs = super::transcripts::annotated_rows(path)?;
                let from = docs.len().saturating_sub(tp.heldout_documents);
                Ok(docs[from..].to_vec())
            };
            write_jsonl(&out.join("documents.jsonl"), &last_docs(documents.0)?)?;
            write_jsonl(&out.join("positive.jsonl"), &last_docs(positive.0)?)?;
            // Replay rows the mix did not train on, half pretraining text, half chats.
            let trained: HashSet<String> = neglect_spec::jsonl::read_all::<TrainingRow>(mix.0)
                .map_err(|(_, e)| RunError::Input(e.to_string()))?
                .iter()
                .map(row_identity)
                .collect();
            let mut replay = Vec::new();
            for (pool, n) in [
                (&base.pretrain, tp.heldout_rows.div_ceil(2)),
                (&base.instruct, tp.heldout_rows / 2),
            ] {
                let mut unused: Vec<&TrainingRow> = pool
                    .iter()
                    .filter(|r| !trained.contains(&row_identity(r)))
                    .collect();
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
                unused.shuffle(&mut rng);
                replay.extend(unused.into_iter().take(n).map(|r| {
                    let mut r = r.clone();
                    r.weight = 1.0;
                    r
                }));
            }
            write_jsonl(&out.join("replay.jsonl"), &replay)?;
            let held_anchor = anchor.0.join("heldout.jsonl");
            std::fs::copy(&held_anchor, out.join("anchor.jsonl"))
                .map_err(|e| RunError::io(&held_anchor, e))?;
            Ok(())
        })?;
        Ok((dir, stage, outcome))
    }

    /// Mean loss of the model in `dir` on each held-out set → `loss/<name>/losses.json`.
    fn heldout_loss(
        &self,
        ctx: &mut Context<'_>,
        dir: &Path,
        model_key: &str,
        name: &str,
        heldout: &Path,
        heldout_key: &str,
    ) -> Result<(Losses, Stage, StageOutcome), RunError> {
        let max_length = ctx.experiment.train.max_length;
        let key = KeyBuilder::new("heldout-loss")
            .part(model_key)
            .part(heldout_key)
            .json(&max_length)
            .finish();
        let stage = Stage::new(self.dir.join("loss").join(name), key);
        (ctx.progress)(RunEvent::Stage {
            name: "held-out loss",
        });
        let base_dir = ctx.base.model_dir.clone();
        let outcome = stage.run(|out| {
            let pretrained = load_model(dir, &base_dir)?;
            let mut losses = BTreeMap::new();
            for set in HELDOUT_SETS {
                let path = heldout.join(format!("{set}.jsonl"));
                let rows: Vec<TrainingRow> = neglect_spec::jsonl::read_all(&path)
                    .map_err(|(_, e)| RunError::Input(e.to_string()))?;
                let examples = tokenize_rows(
                    &rows,
                    &pretrained.tokenizer,
                    pretrained.chat_template.as_ref(),
                    max_length,
                    1,
                )
                .map_err(|e| RunError::Input(format!("{}: {e}", path.display())))?;
                let (loss, _) = mean_loss(&pretrained, &examples, 8);
                losses.insert(set.to_owned(), Some(loss).filter(|l| l.is_finite()));
            }
            write_json(&out.join("losses.json"), &losses)
        })?;
        let path = stage.dir.join("losses.json");
        let text = std::fs::read_to_string(&path).map_err(|e| RunError::io(&path, e))?;
        let losses: Losses = serde_json::from_str(&text)
            .map_err(|e| RunError::Input(format!("{}: {e}", path.display())))?;
        Ok((losses, stage, outcome))
    }
}

/// What makes two training rows the same row (for keeping held-out replay out of the mix).
fn row_identity(row: &TrainingRow) -> String {
    serde_json::to_string(&(&row.text, &row.messages)).expect("rows serialise")
}

/// Rows `{messages, ...}` (the reference's `chat_examples_novel_10x.jsonl`; its
/// `metadata.question_id` groups them by question).
fn read_anchor_file(path: &Path) -> Result<Vec<(String, Vec<ChatMessage>)>, RunError> {
    if path.extension().is_some_and(|e| e == "zst") {
        return Err(RunError::Input(format!(
            "two_phase.anchor_path: {} is zstd-compressed; decompress it first (zstd -d)",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| RunError::io(path, e))?;
    let mut rows = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let at = format!("{}:{}", path.display(), i + 1);
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| RunError::Input(format!("{at}: {e}")))?;
        let messages: Vec<ChatMessage> = serde_json::from_value(v["messages"].clone())
            .map_err(|e| RunError::Input(format!("{at}: messages: {e}")))?;
        if messages.last().is_none_or(|m| m.role != "assistant") {
            return Err(RunError::Input(format!(
                "{at}: messages: the last message must be the assistant's answer"
            )));
        }
        let question = v["metadata"]["question_id"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| messages[0].content.clone());
        rows.push((question, messages));
    }
    Ok(rows)
}
