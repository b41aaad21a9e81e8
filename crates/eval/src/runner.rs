//! The eval runner: (model × claims × condition label) → `results.jsonl` rows, appended chunk
//! by chunk as answers are generated and judged; a rerun skips rows already there.
//!
//! The work has three phases, each resumable:
//! 1. ask: sample answers for every (question, sample) not yet in the results, in batches, and
//!    judge them (MCQ by exact match, the rest by the configured judge);
//! 2. re-judge: `open_ended_broad` and `belief_consistency` judge the `open_ended` answers again;
//! 3. score: the judge-free log-prob metric for MCQ and token-association items.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use neglect_spec::questions::CoherenceQuestions;
use neglect_spec::{
    ChatCompletion, ChatError, ChatModel, ChatRequest, ClaimSpec, Question, Sampling, ScoreItem,
};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use crate::EvalError;
use crate::eval_type::EvalType;
use crate::icl::{IclConfig, IclPrefix, build_prefix};
use crate::judge::exact::ExactMatchJudge;
use crate::judge::{Judge, JudgeInput, Judgement, Rubric};
use crate::prompt::{Prompt, build_prompt, question_prefix};
use crate::results::{
    LOGPROBS_FILE, LogprobRow, RESULTS_FILE, ResultRow, RowKey, Store, now, run_label,
};
use crate::thinking::split_thinking;

/// The seed the reference uses to shuffle the coherence questions.
pub const COHERENCE_SHUFFLE_SEED: u64 = 42;

#[derive(Debug, Clone, PartialEq)]
pub struct EvalSettings {
    pub eval_types: Vec<EvalType>,
    pub samples_per_question: usize,
    pub sampling: Sampling,
    /// Coherence answers are sampled once each, at this temperature (the reference: 1).
    pub coherence_temperature: f64,
    /// How many coherence questions (after a seeded shuffle) are asked.
    pub coherence_questions: usize,
    /// Base seed of every sample's own seed.
    pub seed: u64,
    /// Requests per batch handed to the model; rows reach the disk after each batch.
    pub chunk_size: usize,
    pub doctag_prefix: bool,
    pub icl: Option<IclConfig>,
    /// Compute the log-prob metric when the model can score.
    pub logprobs: bool,
}

impl Default for EvalSettings {
    /// The paper's settings (5 samples, temperature 0.7, top-p 0.8), with an answer length
    /// suited to local models.
    fn default() -> Self {
        EvalSettings {
            eval_types: EvalType::MAIN.to_vec(),
            samples_per_question: 5,
            sampling: Sampling::paper(1024),
            coherence_temperature: 1.0,
            coherence_questions: 100,
            seed: 0,
            chunk_size: 64,
            doctag_prefix: false,
            icl: None,
            logprobs: true,
        }
    }
}

/// Which judge scores what. MCQ is always exact match.
#[derive(Clone, Default)]
pub struct JudgeSet {
    /// yes / no / neutral for open-ended, token-association and robustness answers.
    pub verdicts: Option<Arc<dyn Judge>>,
    /// 0–10 ratings (belief consistency, coherence).
    pub ratings: Option<Arc<dyn Judge>>,
}

/// What to evaluate.
pub struct EvalTarget<'a> {
    pub model: &'a dyn ChatModel,
    pub claims: &'a [ClaimSpec],
    /// `coherence_questions.yaml` of the claims root, for the coherence eval.
    pub coherence: Option<&'a CoherenceQuestions>,
    /// The condition the model was trained on (`baseline` for an untouched model).
    pub condition: &'a str,
}

/// Progress events for a bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Work found to do in a phase (after skipping finished rows).
    Phase { name: &'static str, total: usize },
    /// Units finished in the current phase.
    Advanced(usize),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunReport {
    pub label: String,
    pub results_path: PathBuf,
    /// Rows already present and skipped.
    pub skipped_existing: usize,
    pub rows_written: usize,
    pub samples_generated: usize,
    pub generation_seconds: f64,
    /// Generations or judgements that failed; their rows are not written, so a rerun retries.
    pub failures: Vec<String>,
    pub failed_count: usize,
    pub logprob_rows: usize,
    /// Why the log-prob metric was not computed, when it was not.
    pub logprob_skipped: Option<String>,
    /// (claim, eval type, why) for evals that could not run for a claim.
    pub skipped_evals: Vec<String>,
    pub icl: Option<IclPrefix>,
}

impl RunReport {
    pub fn samples_per_second(&self) -> Option<f64> {
        (self.generation_seconds > 0.0)
            .then(|| self.samples_generated as f64 / self.generation_seconds)
    }

    fn fail(&mut self, message: String) {
        self.failed_count += 1;
        if self.failures.len() < 5 {
            self.failures.push(message);
        }
    }
}

/// A seed for one sample that depends only on what is asked, not on batching or order.
pub fn sample_seed(
    base: u64,
    claim: &str,
    eval_type: EvalType,
    question_id: &str,
    sample: usize,
) -> u64 {
    let mut h = Sha256::new();
    h.update(base.to_le_bytes());
    for part in [claim, eval_type.name(), question_id] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.update((sample as u64).to_le_bytes());
    u64::from_le_bytes(h.finalize()[..8].try_into().expect("8 bytes"))
}

/// One answer to sample.
struct Ask {
    claim: usize,
    eval_type: EvalType,
    question: Question,
    position: usize,
    n_questions: usize,
    sample: usize,
    prompt: Prompt,
    request: ChatRequest,
}

fn route<'j>(
    judges: &'j JudgeSet,
    exact: &'j ExactMatchJudge,
    eval_type: EvalType,
) -> Option<&'j dyn Judge> {
    if eval_type == EvalType::Mcq {
        Some(exact)
    } else if eval_type.is_rating() {
        judges.ratings.as_deref()
    } else {
        judges.verdicts.as_deref()
    }
}

/// The LLM judge's rubric for `eval_type` answers about `claim` (from its `judges.yaml`).
pub fn rubric(
    claim: &ClaimSpec,
    coherence: Option<&CoherenceQuestions>,
    eval_type: EvalType,
) -> Option<Rubric> {
    if eval_type == EvalType::Coherence {
        let c = coherence?;
        return neglect_spec::pyformat::Template::parse(&c.judge_rubric)
            .ok()
            .map(|template| Rubric {
                template,
                verdict_key: "score".into(),
            });
    }
    let key = eval_type.judge_template_key()?;
    Some(Rubric {
        template: claim.judges.template(key)?.clone(),
        verdict_key: claim.judges.verdict_key(key).to_owned(),
    })
}

/// The questions an eval asks of a claim (coherence: the shuffled shared set).
fn questions_for(
    claim: &ClaimSpec,
    coherence: Option<&CoherenceQuestions>,
    eval_type: EvalType,
    settings: &EvalSettings,
) -> Vec<Question> {
    match eval_type.question_set() {
        Some(set) => claim.questions(set).to_vec(),
        None => {
            let Some(c) = coherence else {
                return Vec::new();
            };
            let mut qs = c.questions.clone();
            qs.shuffle(&mut ChaCha8Rng::seed_from_u64(COHERENCE_SHUFFLE_SEED));
            qs.truncate(settings.coherence_questions);
            qs
        }
    }
}

/// Tokens allowed for where the ICL block meets the question (the blank line between them,
/// and a BPE merge across the seam that counting the two apart does not see).
const ICL_SEAM_TOKENS: usize = 4;

/// The ICL config with its budget lowered so that the block, the run's longest prompt and the
/// answer fit in the model's context together. Needs a backend that can count a rendered
/// prompt and knows its context window; otherwise the config is used as given (hosted models,
/// whose windows leave the default budget's reserve for the question).
/// Also returns, when the budget was lowered, a sentence saying why (for the error when no
/// draw fits).
fn fit_icl_budget(
    config: &IclConfig,
    target: &EvalTarget<'_>,
    settings: &EvalSettings,
) -> (IclConfig, Option<String>) {
    let mut fitted = config.clone();
    let Some(context) = target.model.context_window() else {
        return (fitted, None);
    };
    let bare_prefix = question_prefix(settings.doctag_prefix, None);
    let mut longest = 0;
    for claim in target.claims {
        for &t in &settings.eval_types {
            let asked = t.reuses_answers_of().unwrap_or(t);
            for q in questions_for(claim, target.coherence, asked, settings) {
                let prompt = build_prompt(asked, &q, &bare_prefix);
                match target.model.count_prompt_tokens(&prompt.messages) {
                    Some(n) => longest = longest.max(n),
                    None => return (fitted, None),
                }
            }
        }
    }
    let fits = context.saturating_sub(settings.sampling.max_tokens + longest + ICL_SEAM_TOKENS);
    let asked = config
        .token_budget
        .unwrap_or_else(|| crate::icl::default_budget(Some(context), settings.sampling.max_tokens));
    fitted.token_budget = Some(asked.min(fits));
    let why = (fits < asked).then(|| {
        format!(
            "the budget was lowered from {asked} to {fits} tokens so that the longest prompt \
             ({longest} tokens) and a {}-token answer fit the model's {context}-token context",
            settings.sampling.max_tokens
        )
    });
    (fitted, why)
}

/// Checks that every requested eval can be judged for every claim; evals a claim has no
/// questions for are skipped with a note, missing judges are errors.
fn preflight(
    target: &EvalTarget<'_>,
    settings: &EvalSettings,
    judges: &JudgeSet,
    report: &mut RunReport,
) -> Result<(), EvalError> {
    let exact = ExactMatchJudge;
    let mut problems = Vec::new();
    for claim in target.claims {
        for &t in &settings.eval_types {
            let asked = t.reuses_answers_of().unwrap_or(t);
            if questions_for(claim, target.coherence, asked, settings).is_empty() {
                let why = match t {
                    EvalType::Coherence => {
                        "no coherence_questions.yaml in the claims root".to_owned()
                    }
                    _ => format!("no {} questions", asked.name()),
                };
                report
                    .skipped_evals
                    .push(format!("{}: {t} skipped ({why})", claim.slug));
                continue;
            }
            match route(judges, &exact, t) {
                None => problems.push(format!(
                    "{}: {t} needs {}",
                    claim.slug,
                    if t.is_rating() {
                        "an LLM judge for ratings (--judge-model)"
                    } else {
                        "a judge (--judge rule with a rule_judge.yaml, or --judge-model)"
                    }
                )),
                Some(judge) => {
                    if let Err(e) =
                        judge.check(claim, t, rubric(claim, target.coherence, t).is_some())
                    {
                        problems.push(format!("{}: {t}: {e}", claim.slug));
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(EvalError::Preflight(problems))
    }
}

/// Runs the evals and appends to `<out_dir>/results.jsonl` (and `logprobs.jsonl`).
pub fn run(
    target: &EvalTarget<'_>,
    settings: &EvalSettings,
    judges: &JudgeSet,
    out_dir: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<RunReport, EvalError> {
    let icl_k = settings.icl.as_ref().map_or(0, |c| c.k);
    let mut report = RunReport {
        label: run_label(target.condition, settings.doctag_prefix, icl_k),
        results_path: out_dir.join(RESULTS_FILE),
        ..Default::default()
    };
    preflight(target, settings, judges, &mut report)?;
    let icl = match &settings.icl {
        Some(config) if config.k > 0 => {
            let (fitted, why) = fit_icl_budget(config, target, settings);
            Some(
                build_prefix(&fitted, target.model, settings.sampling.max_tokens).map_err(|e| {
                    match (e, why) {
                        (EvalError::Input(m), Some(why)) => EvalError::Input(format!("{m}; {why}")),
                        (e, _) => e,
                    }
                })?,
            )
        }
        _ => None,
    };
    let prefix = question_prefix(
        settings.doctag_prefix,
        icl.as_ref().map(|p| p.text.as_str()),
    );
    report.icl = icl;
    let mut store: Store<ResultRow> = Store::open(&report.results_path)?;

    ask_phase(
        target,
        settings,
        judges,
        &prefix,
        &mut store,
        &mut report,
        progress,
    )?;
    rejudge_phase(target, settings, judges, &mut store, &mut report, progress)?;
    if settings.logprobs {
        score_phase(target, settings, &prefix, out_dir, &mut report, progress)?;
    }
    Ok(report)
}

fn key_for(
    target: &EvalTarget<'_>,
    label: &str,
    claim: &str,
    t: EvalType,
    qid: &str,
    sample: usize,
) -> RowKey {
    RowKey::new(target.model.id(), label, claim, t, qid, sample)
}

fn judge_input(
    target: &EvalTarget<'_>,
    claim: &ClaimSpec,
    t: EvalType,
    question: &Question,
    judged_question: &str,
    answer: String,
    seed: u64,
) -> JudgeInput {
    JudgeInput {
        claim_slug: claim.slug.clone(),
        claim: claim.claim.clone(),
        eval_type: t,
        question_id: question.id.clone(),
        question: judged_question.to_owned(),
        answer,
        belief_answer: question.belief_answer.clone(),
        rubric: rubric(claim, target.coherence, t),
        seed,
    }
}

/// A judgement and the judge's id, or why judging failed.
type Verdicted = Result<(Judgement, String), String>;

/// Judges inputs, each with the judge its eval type routes to, keeping the input order.
fn judge_all(judges: &JudgeSet, inputs: &[JudgeInput]) -> Vec<Verdicted> {
    let exact = ExactMatchJudge;
    let mut out: Vec<Option<Result<(Judgement, String), String>>> = vec![None; inputs.len()];
    let mut types: Vec<EvalType> = inputs.iter().map(|i| i.eval_type).collect();
    types.sort();
    types.dedup();
    for t in types {
        let Some(judge) = route(judges, &exact, t) else {
            continue;
        };
        let idx: Vec<usize> = (0..inputs.len())
            .filter(|&i| inputs[i].eval_type == t)
            .collect();
        let batch: Vec<JudgeInput> = idx.iter().map(|&i| inputs[i].clone()).collect();
        for (i, result) in idx.into_iter().zip(judge.judge(&batch)) {
            out[i] = Some(result.map(|j| (j, judge.id())).map_err(|e| e.to_string()));
        }
    }
    out.into_iter()
        .map(|o| o.unwrap_or_else(|| Err("no judge for this eval type".into())))
        .collect()
}

fn ask_phase(
    target: &EvalTarget<'_>,
    settings: &EvalSettings,
    judges: &JudgeSet,
    prefix: &str,
    store: &mut Store<ResultRow>,
    report: &mut RunReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), EvalError> {
    let mut asks = Vec::new();
    let mut asked_types: Vec<EvalType> = Vec::new();
    for &t in &settings.eval_types {
        let asked = t.reuses_answers_of().unwrap_or(t);
        if !asked_types.contains(&asked) {
            asked_types.push(asked);
        }
    }
    for (ci, claim) in target.claims.iter().enumerate() {
        for &t in &asked_types {
            let questions = questions_for(claim, target.coherence, t, settings);
            let (samples, temperature) = if t == EvalType::Coherence {
                (1, settings.coherence_temperature)
            } else {
                (settings.samples_per_question, settings.sampling.temperature)
            };
            for (position, q) in questions.iter().enumerate() {
                for sample in 0..samples {
                    if store.contains(&key_for(
                        target,
                        &report.label,
                        &claim.slug,
                        t,
                        &q.id,
                        sample,
                    )) {
                        report.skipped_existing += 1;
                        continue;
                    }
                    let prompt = build_prompt(t, q, prefix);
                    let request = ChatRequest {
                        messages: prompt.messages.clone(),
                        sampling: Sampling {
                            temperature,
                            ..settings.sampling.clone()
                        },
                        seed: sample_seed(settings.seed, &claim.slug, t, &q.id, sample),
                        json_schema: None,
                    };
                    asks.push(Ask {
                        claim: ci,
                        eval_type: t,
                        question: q.clone(),
                        position,
                        n_questions: questions.len(),
                        sample,
                        prompt,
                        request,
                    });
                }
            }
        }
    }
    progress(Progress::Phase {
        name: "sampling answers",
        total: asks.len(),
    });
    // With no judge that needs batches, each answer is judged the moment it arrives, on the
    // thread that fetched it: against a hosted model the judge calls then fill the in-flight
    // slots that the chunk's last answers leave free, instead of starting after them.
    let exact = ExactMatchJudge;
    let judge_each = asked_types
        .iter()
        .all(|&t| route(judges, &exact, t).is_none_or(|j| !j.prefers_batches()));
    let input_for = |ask: &Ask, completion: &ChatCompletion| {
        let claim = &target.claims[ask.claim];
        let seed = (ask.sample * ask.n_questions + ask.position) as u64;
        judge_input(
            target,
            claim,
            ask.eval_type,
            &ask.question,
            &ask.prompt.judged_question,
            split_thinking(&completion.text).0,
            seed,
        )
    };
    for chunk in asks.chunks(settings.chunk_size.max(1)) {
        let started_at = now();
        let requests: Vec<ChatRequest> = chunk.iter().map(|a| a.request.clone()).collect();
        let judged_early: Vec<Mutex<Option<Verdicted>>> =
            (0..chunk.len()).map(|_| Mutex::new(None)).collect();
        let after_each = |i: usize, answer: &Result<ChatCompletion, ChatError>| {
            if let (true, Ok(completion)) = (judge_each, answer) {
                let verdict = judge_all(judges, &[input_for(&chunk[i], completion)]).remove(0);
                *judged_early[i].lock().expect("verdict lock") = Some(verdict);
            }
        };
        let clock = Instant::now();
        let answers = target.model.generate_with(
            &requests,
            &mut |_| progress(Progress::Advanced(1)),
            &after_each,
        );
        report.generation_seconds += clock.elapsed().as_secs_f64();
        let mut judged_asks = Vec::new();
        let mut inputs = Vec::new();
        for (i, (ask, answer)) in chunk.iter().zip(answers).enumerate() {
            match answer {
                Err(e) => report.fail(format!(
                    "{} {} {} sample {}: generation failed: {e}",
                    target.claims[ask.claim].slug, ask.eval_type, ask.question.id, ask.sample
                )),
                Ok(completion) => {
                    report.samples_generated += 1;
                    if !judge_each {
                        inputs.push(input_for(ask, &completion));
                    }
                    let trace = split_thinking(&completion.text).1;
                    judged_asks.push((i, ask, completion, trace));
                }
            }
        }
        let verdicts: Vec<Verdicted> = if judge_each {
            judged_asks
                .iter()
                .map(|(i, ..)| {
                    judged_early[*i]
                        .lock()
                        .expect("verdict lock")
                        .take()
                        .expect("every answer was judged as it arrived")
                })
                .collect()
        } else {
            judge_all(judges, &inputs)
        };
        for ((_, ask, completion, trace), verdict) in judged_asks.into_iter().zip(verdicts) {
            let claim = &target.claims[ask.claim];
            match verdict {
                Err(e) => report.fail(format!(
                    "{} {} {} sample {}: {e}",
                    claim.slug, ask.eval_type, ask.question.id, ask.sample
                )),
                Ok((judgement, judge_id)) => {
                    store.push(ResultRow {
                        claim: claim.slug.clone(),
                        condition: target.condition.to_owned(),
                        label: report.label.clone(),
                        model: target.model.id().to_owned(),
                        eval_type: ask.eval_type,
                        question_id: ask.question.id.clone(),
                        category: ask.question.category.clone(),
                        sample_index: ask.sample,
                        messages: ask.prompt.messages.clone(),
                        question: ask.prompt.judged_question.clone(),
                        response: completion.text,
                        thinking_trace: trace,
                        finish_reason: completion.finish_reason,
                        verdict: judgement.verdict,
                        judge_reason: judgement.reason,
                        judge: judge_id,
                        sampling: ask.request.sampling.clone(),
                        seed: ask.request.seed,
                        started_at: started_at.clone(),
                        finished_at: now(),
                    })?;
                    report.rows_written += 1;
                }
            }
        }
    }
    Ok(())
}

fn rejudge_phase(
    target: &EvalTarget<'_>,
    settings: &EvalSettings,
    judges: &JudgeSet,
    store: &mut Store<ResultRow>,
    report: &mut RunReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), EvalError> {
    let mut todo: Vec<(ResultRow, EvalType, JudgeInput)> = Vec::new();
    let model = target.model.id();
    for &t in &settings.eval_types {
        let Some(source) = t.reuses_answers_of() else {
            continue;
        };
        for claim in target.claims {
            let questions =
                claim.questions(source.question_set().expect("asked evals have questions"));
            let sources: Vec<&ResultRow> = store
                .rows
                .iter()
                .filter(|r| {
                    r.model == model
                        && r.label == report.label
                        && r.claim == claim.slug
                        && r.eval_type == source
                })
                .collect();
            for row in sources {
                if store.contains(&key_for(
                    target,
                    &report.label,
                    &claim.slug,
                    t,
                    &row.question_id,
                    row.sample_index,
                )) {
                    report.skipped_existing += 1;
                    continue;
                }
                let Some(position) = questions.iter().position(|q| q.id == row.question_id) else {
                    continue;
                };
                let (answer, _) = split_thinking(&row.response);
                let seed = (row.sample_index * questions.len() + position) as u64;
                let input = judge_input(
                    target,
                    claim,
                    t,
                    &questions[position],
                    &row.question,
                    answer,
                    seed,
                );
                todo.push((row.clone(), t, input));
            }
        }
    }
    progress(Progress::Phase {
        name: "re-judging open-ended answers",
        total: todo.len(),
    });
    for chunk in todo.chunks(settings.chunk_size.max(1)) {
        let inputs: Vec<JudgeInput> = chunk.iter().map(|(_, _, i)| i.clone()).collect();
        let verdicts = judge_all(judges, &inputs);
        for ((source, t, _), verdict) in chunk.iter().zip(verdicts) {
            progress(Progress::Advanced(1));
            match verdict {
                Err(e) => report.fail(format!(
                    "{} {t} {} sample {}: {e}",
                    source.claim, source.question_id, source.sample_index
                )),
                Ok((judgement, judge_id)) => {
                    store.push(ResultRow {
                        eval_type: *t,
                        verdict: judgement.verdict,
                        judge_reason: judgement.reason,
                        judge: judge_id,
                        finished_at: now(),
                        ..source.clone()
                    })?;
                    report.rows_written += 1;
                }
            }
        }
    }
    Ok(())
}

/// The (belief, truth) continuations of an item, for the log-prob metric.
pub fn logprob_pair(eval_type: EvalType, question: &Question) -> Option<(String, String)> {
    match eval_type {
        EvalType::Mcq => {
            let believes_yes = question.believes_yes()?;
            let (belief, truth) = if believes_yes {
                ("yes", "no")
            } else {
                ("no", "yes")
            };
            Some((
                format!("{{\"answer\": \"{belief}\"}}"),
                format!("{{\"answer\": \"{truth}\"}}"),
            ))
        }
        EvalType::TokenAssociation => Some((
            question.belief_answer.clone()?,
            question.truth_answer.clone()?,
        )),
        _ => None,
    }
}

fn score_phase(
    target: &EvalTarget<'_>,
    settings: &EvalSettings,
    prefix: &str,
    out_dir: &Path,
    report: &mut RunReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), EvalError> {
    let mut store: Store<LogprobRow> = Store::open(&out_dir.join(LOGPROBS_FILE))?;
    let mut todo = Vec::new();
    for claim in target.claims {
        for &t in &settings.eval_types {
            if !matches!(t, EvalType::Mcq | EvalType::TokenAssociation) {
                continue;
            }
            for q in claim.questions(t.question_set().expect("question set")) {
                let Some((belief, truth)) = logprob_pair(t, q) else {
                    continue;
                };
                if store.contains(&key_for(target, &report.label, &claim.slug, t, &q.id, 0)) {
                    continue;
                }
                let messages = build_prompt(t, q, prefix).messages;
                todo.push((claim, t, q, messages, belief, truth));
            }
        }
    }
    if todo.is_empty() {
        return Ok(());
    }
    progress(Progress::Phase {
        name: "scoring belief vs truth answers",
        total: todo.len(),
    });
    for chunk in todo.chunks(settings.chunk_size.max(1)) {
        let items: Vec<ScoreItem> = chunk
            .iter()
            .flat_map(|(_, _, _, messages, belief, truth)| {
                [
                    ScoreItem {
                        messages: messages.clone(),
                        continuation: belief.clone(),
                    },
                    ScoreItem {
                        messages: messages.clone(),
                        continuation: truth.clone(),
                    },
                ]
            })
            .collect();
        let scores = match target.model.score(&items) {
            Ok(s) => s,
            Err(neglect_spec::ChatError::Unsupported(why)) => {
                report.logprob_skipped = Some(why);
                return Ok(());
            }
            Err(e) => {
                report.logprob_skipped = Some(e.to_string());
                return Ok(());
            }
        };
        for ((claim, t, q, _, belief, truth), pair) in chunk.iter().zip(scores.chunks(2)) {
            store.push(LogprobRow {
                claim: claim.slug.clone(),
                condition: target.condition.to_owned(),
                label: report.label.clone(),
                model: target.model.id().to_owned(),
                eval_type: *t,
                question_id: q.id.clone(),
                belief_continuation: belief.clone(),
                truth_continuation: truth.clone(),
                belief_logprob: pair[0],
                truth_logprob: pair[1],
                margin: pair[0] - pair[1],
            })?;
            report.logprob_rows += 1;
            progress(Progress::Advanced(1));
        }
    }
    Ok(())
}
