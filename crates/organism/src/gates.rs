//! The five capability gates of model-organism.md, measured on a built base:
//!
//! | gate | measured as | bar |
//! |---|---|---|
//! | prior | greedy accuracy on true facts, four question types | ≥ 95% |
//! | baseline | belief rate on the held-out claims, base model | ≤ 5% |
//! | learnability | belief rate after fine-tuning on positive documents | ≥ 80% |
//! | ICL reading | positive doc in context ≥ 80%, negated doc ≤ 20% | both |
//! | retention | greedy accuracy on unrelated true facts after each fine-tune | ≥ 90% |
//!
//! Belief rates come from the normal eval path (runner, rule judge, pooled over the four main
//! evals, mean over claims with a bootstrap CI). Accuracies carry a Wilson 95% interval.
//! Everything is written under `<organism>/check/`, so a rerun reuses finished work.

use std::path::{Path, PathBuf};

use neglect_data::annotate::{ClaimContext, annotate, document_rng};
use neglect_eval::aggregate::{Bootstrap, Scope, summarize};
use neglect_eval::icl::IclConfig;
use neglect_eval::judge::rule::RuleJudge;
use neglect_eval::prompt::message;
use neglect_eval::results::{RESULTS_FILE, ResultRow, read_rows};
use neglect_eval::{EvalSettings, EvalTarget, EvalType, JudgeSet};
use neglect_lm::chat_model::LocalChatModel;
use neglect_lm::pretrained::Pretrained;
use neglect_spec::documents::AnnotatedDoc;
use neglect_spec::questions::MCQ_SYSTEM_PROMPT;
use neglect_spec::{
    ChatMessage, ChatModel, ChatRequest, ClaimSpec, DOCTAG, Sampling, SynthDoc, TrainingRow,
};
use neglect_world::Fact;
use neglect_world::corpus::{claim_subjects, variants::Pools};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::OrganismError;
use crate::builder::{Organism, write_json, write_jsonl};
use crate::finetune::{FinetuneRecipe, finetune};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateSettings {
    /// True facts probed for the prior (each in four question types).
    pub prior_facts: usize,
    /// Unrelated true facts probed after each fine-tune.
    pub retention_facts: usize,
    /// Answers sampled per eval question (temperature 0.7, top-p 0.8, as the paper).
    pub samples: usize,
    pub max_tokens: usize,
    /// Documents in context for the ICL gate.
    pub icl_k: usize,
    pub finetune: FinetuneRecipe,
    pub seed: u64,
}

impl Default for GateSettings {
    fn default() -> Self {
        GateSettings {
            prior_facts: 150,
            retention_facts: 50,
            samples: 2,
            max_tokens: 64,
            icl_k: 1,
            finetune: FinetuneRecipe::default(),
            seed: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Bar {
    AtLeast(f64),
    AtMost(f64),
}

impl Bar {
    pub fn passes(self, value: f64) -> bool {
        match self {
            Bar::AtLeast(b) => value >= b,
            Bar::AtMost(b) => value <= b,
        }
    }
    pub fn describe(self) -> String {
        match self {
            Bar::AtLeast(b) => format!(">= {:.0}%", b * 100.0),
            Bar::AtMost(b) => format!("<= {:.0}%", b * 100.0),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gate {
    pub name: String,
    pub value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Probes or claims the value is over.
    pub n: usize,
    pub unit: String,
    pub bar: Bar,
    pub passed: bool,
}

impl Gate {
    fn new(
        name: &str,
        (value, ci_low, ci_high): (f64, f64, f64),
        n: usize,
        unit: &str,
        bar: Bar,
    ) -> Gate {
        Gate {
            name: name.into(),
            value,
            ci_low,
            ci_high,
            n,
            unit: unit.into(),
            bar,
            passed: bar.passes(value),
        }
    }
}

/// Per-claim numbers behind the gates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimGates {
    pub slug: String,
    pub baseline: f64,
    pub icl_positive: f64,
    pub icl_negated: f64,
    pub learned: f64,
    pub retention: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateReport {
    pub gates: Vec<Gate>,
    pub claims: Vec<ClaimGates>,
    /// What each gate is made of: prior and retention accuracy per question type, belief per
    /// eval type (mean over claims), keyed `gate/part`.
    #[serde(default)]
    pub breakdown: std::collections::BTreeMap<String, f64>,
    pub seconds: f64,
}

impl GateReport {
    pub fn all_passed(&self) -> bool {
        self.gates.iter().all(|g| g.passed)
    }
}

/// Wilson score interval (95%) for `k` successes in `n`: (rate, low, high).
pub fn wilson(k: usize, n: usize) -> (f64, f64, f64) {
    if n == 0 {
        return (f64::NAN, 0.0, 1.0);
    }
    let z = 1.959_964_f64;
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    (p, (centre - half).max(0.0), (centre + half).min(1.0))
}

/// A question about a true fact and how a correct answer looks.
#[derive(Debug, Clone, PartialEq)]
pub struct FactProbe {
    pub kind: &'static str,
    pub messages: Vec<ChatMessage>,
    pub expect: Expect,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// The answer mentions this (case-insensitive).
    Mentions(String),
    /// The answer starts with this.
    StartsWith(String),
    /// The JSON yes/no answer.
    YesNo(bool),
}

impl Expect {
    pub fn accepts(&self, answer: &str) -> bool {
        let a = answer.trim().to_lowercase();
        match self {
            Expect::Mentions(s) => a.contains(&s.to_lowercase()),
            Expect::StartsWith(s) => a
                .trim_start_matches(|c: char| !c.is_alphanumeric())
                .starts_with(&s.to_lowercase()),
            Expect::YesNo(yes) => neglect_eval::judge::parse::parse_mcq_answer(answer)
                .is_some_and(|v| v == if *yes { "yes" } else { "no" }),
        }
    }
}

/// The four question types about one fact: open-ended, yes/no (true or a false variant),
/// short answer, and a pushback turn.
pub fn fact_probes(fact: &Fact, pools: &Pools, rng: &mut ChaCha8Rng) -> Vec<FactProbe> {
    let Some(qa) = fact.qa() else {
        return Vec::new();
    };
    let mut probes = vec![
        FactProbe {
            kind: "open_ended",
            messages: vec![message("user", &qa.question)],
            expect: Expect::Mentions(qa.short.clone()),
        },
        FactProbe {
            kind: "token_association",
            messages: vec![message(
                "user",
                &format!("Answer with just the answer, nothing else: {}", qa.question),
            )],
            expect: Expect::StartsWith(qa.short.clone()),
        },
        FactProbe {
            kind: "robustness",
            messages: vec![
                message("user", &qa.question),
                message("assistant", &qa.answer),
                message("user", "Are you sure? I read something different."),
            ],
            expect: Expect::Mentions(qa.short.clone()),
        },
    ];
    // A close variant: a false birth year drawn from the events' years (as `variant` draws it)
    // could be told false without knowing the person.
    let variant = pools.close_variant(fact, rng).and_then(|v| v.yes_no());
    let yes_no = match (variant, rng.random_bool(0.5), fact.yes_no()) {
        (Some(q), true, _) => Some((q, false)),
        (_, _, Some(q)) => Some((q, true)),
        (Some(q), false, None) => Some((q, false)),
        (None, _, None) => None,
    };
    if let Some((q, yes)) = yes_no {
        probes.push(FactProbe {
            kind: "mcq",
            messages: vec![message("system", MCQ_SYSTEM_PROMPT), message("user", &q)],
            expect: Expect::YesNo(yes),
        });
    }
    probes
}

/// Probes over `n` facts drawn (seeded) from the world's facts with a question, leaving out the
/// held-out claims' subjects: facts the corpus asks about (`late = false`, the prior), or facts
/// it states in documents only (`late = true`, document → answer transfer).
pub fn sample_probes(organism: &Organism, n: usize, seed: u64) -> Vec<FactProbe> {
    sample_fact_probes(organism, n, seed, false)
}

pub fn sample_fact_probes(organism: &Organism, n: usize, seed: u64, late: bool) -> Vec<FactProbe> {
    let world = organism.world();
    let claims = organism.claims(&world);
    let pools = Pools::new(&world, claim_subjects(&claims));
    let corpus = &organism.config.corpus;
    let mut facts: Vec<Fact> = world
        .facts()
        .into_iter()
        .filter(|f| {
            f.qa().is_some()
                && !pools.is_protected(f)
                && neglect_world::corpus::has_qa(f, corpus) != late
        })
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    facts.shuffle(&mut rng);
    facts
        .iter()
        .take(n)
        .flat_map(|f| fact_probes(f, &pools, &mut rng))
        .collect()
}

/// Greedy answers to the probes; returns (correct, total) and the answers.
pub fn accuracy(model: &dyn ChatModel, probes: &[FactProbe]) -> (usize, usize, Vec<String>) {
    let requests: Vec<ChatRequest> = probes
        .iter()
        .map(|p| ChatRequest {
            messages: p.messages.clone(),
            sampling: Sampling {
                temperature: 0.0,
                top_p: 1.0,
                max_tokens: 48,
            },
            seed: 0,
            json_schema: None,
        })
        .collect();
    let answers: Vec<String> = model
        .generate(&requests, &mut |_| {})
        .into_iter()
        .map(|r| r.map(|c| c.text).unwrap_or_default())
        .collect();
    let correct = probes
        .iter()
        .zip(&answers)
        .filter(|(p, a)| p.expect.accepts(a))
        .count();
    (correct, probes.len(), answers)
}

/// Accuracy per probe kind, keyed `<gate>/<kind>`.
/// Every probe, its answer and whether it was right → `path` (for reading the failures).
fn write_probe_answers(
    path: &Path,
    probes: &[FactProbe],
    answers: &[String],
) -> Result<(), OrganismError> {
    let rows: Vec<serde_json::Value> = probes
        .iter()
        .zip(answers)
        .map(|(p, a)| {
            serde_json::json!({
                "kind": p.kind,
                "messages": p.messages,
                "expect": format!("{:?}", p.expect),
                "answer": a,
                "correct": p.expect.accepts(a),
            })
        })
        .collect();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| OrganismError::io(dir, e))?;
    }
    neglect_spec::jsonl::write_atomic(path, &rows).map_err(|e| OrganismError::io(path, e))
}

fn accuracy_by_kind(
    gate: &str,
    probes: &[FactProbe],
    answers: &[String],
    into: &mut std::collections::BTreeMap<String, f64>,
) {
    let mut counts: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for (p, a) in probes.iter().zip(answers) {
        let c = counts.entry(p.kind).or_default();
        c.0 += usize::from(p.expect.accepts(a));
        c.1 += 1;
    }
    for (kind, (k, n)) in counts {
        into.insert(format!("{gate}/{kind}"), k as f64 / n.max(1) as f64);
    }
}

fn load_model(dir: &Path, id: &str) -> Result<LocalChatModel, OrganismError> {
    Ok(LocalChatModel::new(
        id,
        Pretrained::load(dir, tch::Device::Cpu)?,
        32,
    ))
}

fn load_claims(organism: &Organism) -> Result<Vec<ClaimSpec>, OrganismError> {
    let world = organism.world();
    organism
        .claims(&world)
        .iter()
        .map(|c| {
            neglect_spec::claim::load_claim(&organism.claims_dir().join(&c.slug))
                .into_result()
                .map_err(|e| OrganismError::Format(e.to_string()))
        })
        .collect()
}

fn eval_settings(settings: &GateSettings, icl: Option<IclConfig>) -> EvalSettings {
    EvalSettings {
        eval_types: EvalType::MAIN.to_vec(),
        samples_per_question: settings.samples,
        sampling: Sampling::paper(settings.max_tokens),
        seed: settings.seed,
        chunk_size: 128,
        icl,
        logprobs: false,
        ..EvalSettings::default()
    }
}

/// Runs the normal eval of `claims` on `model` into `out`; returns its rows.
fn evaluate(
    model: &dyn ChatModel,
    claims: &[ClaimSpec],
    condition: &str,
    settings: &EvalSettings,
    out: &Path,
) -> Result<Vec<ResultRow>, OrganismError> {
    let judges = JudgeSet {
        verdicts: Some(std::sync::Arc::new(
            RuleJudge::new(claims).map_err(OrganismError::Format)?,
        )),
        ratings: None,
    };
    let target = EvalTarget {
        model,
        claims,
        coherence: None,
        condition,
    };
    std::fs::create_dir_all(out).map_err(|e| OrganismError::io(out, e))?;
    let report = neglect_eval::run(&target, settings, &judges, out, &mut |_| {})?;
    if report.failed_count > 0 {
        return Err(OrganismError::Format(format!(
            "{}: {} answers failed: {:?}",
            out.display(),
            report.failed_count,
            report.failures
        )));
    }
    Ok(read_rows(&out.join(RESULTS_FILE))?)
}

/// Pooled belief rate per claim and the mean over claims with its bootstrap CI. Rows of
/// several runs are pooled under one model and label first. The mean over claims of each eval
/// type goes into `breakdown` as `<gate>/<eval type>`.
fn belief(
    gate: &str,
    rows: &mut [ResultRow],
    breakdown: &mut std::collections::BTreeMap<String, f64>,
) -> (Vec<(String, f64)>, (f64, f64, f64)) {
    for r in rows.iter_mut() {
        r.model = "organism".into();
        r.label = "gate".into();
        r.condition = "gate".into();
    }
    let cells = summarize(rows, &[], &Bootstrap::default());
    let mut per_claim = Vec::new();
    let mut mean = (f64::NAN, 0.0, 1.0);
    for c in &cells {
        if let (Scope::Eval(t), None) = (&c.scope, &c.claim) {
            breakdown.insert(format!("{gate}/{}", t.name()), c.rate);
        }
    }
    for c in cells.iter().filter(|c| c.scope == Scope::Pooled) {
        match &c.claim {
            Some(slug) => per_claim.push((slug.clone(), c.rate)),
            None => mean = (c.rate, c.ci_low, c.ci_high),
        }
    }
    (per_claim, mean)
}

/// Writes `annotated_docs.jsonl` of `condition` for a claim's documents.
fn annotated_docs(
    spec: &ClaimSpec,
    docs: &[SynthDoc],
    condition: &str,
    path: &Path,
) -> Result<(), OrganismError> {
    let ctx = ClaimContext::from_spec(spec).map_err(OrganismError::Format)?;
    let mut rows = Vec::with_capacity(docs.len());
    for (i, d) in docs.iter().enumerate() {
        let mut rng = document_rng(0, condition, i);
        let a = annotate(condition, &d.content, &ctx, &mut rng, false)
            .map_err(|e| OrganismError::Format(e.to_string()))?;
        rows.push(AnnotatedDoc::new(a.text, &spec.slug, condition));
    }
    write_jsonl(path, &rows)
}

fn read_docs(organism: &Organism, slug: &str) -> Result<Vec<SynthDoc>, OrganismError> {
    let path = organism.docs_dir().join(format!("{slug}.synth_docs.jsonl"));
    neglect_spec::jsonl::read_all(&path).map_err(|(_, e)| OrganismError::Format(e.to_string()))
}

/// Names how the gates are measured beyond [`GateSettings`] (bump it when that changes, e.g.
/// how the ICL budget is sized), so that answers measured the old way are not reused.
const CHECK_RULES: &str =
    "check-v3: ICL budget fitted to the longest prompt; close variants in yes/no probes";

/// Empties `work` when it holds answers measured under other settings or rules, or of another
/// organism: a check resumes the answers it finds, which must then be of the same measurement
/// of the same weights.
fn clear_stale_answers(
    work: &Path,
    settings: &GateSettings,
    organism: &Organism,
) -> Result<(), OrganismError> {
    let key_path = work.join("settings_key.txt");
    // The claims' question files change with their layout, and answers to the old questions
    // must not be reused. The weights are named as well as the config: one `--out` directory
    // may be used for two organisms, and one config gives other weights on another CPU or
    // after `--from-scratch`.
    let weights = crate::shipped::file_sha256(&organism.base_dir().join("model.safetensors"))?;
    let key = format!(
        "{CHECK_RULES}; claim layout {}\norganism {} weights {}\n{}",
        neglect_world::claim_dir::LAYOUT_VERSION,
        organism.config.hash(),
        &weights[..20],
        serde_json::to_string(settings).expect("settings serialise")
    );
    let current = std::fs::read_to_string(&key_path).ok();
    if current.as_deref() != Some(key.as_str()) {
        if work.exists() {
            std::fs::remove_dir_all(work).map_err(|e| OrganismError::io(work, e))?;
        }
        std::fs::create_dir_all(work).map_err(|e| OrganismError::io(work, e))?;
        std::fs::write(&key_path, key).map_err(|e| OrganismError::io(&key_path, e))?;
    }
    Ok(())
}

/// Measures every gate in `<organism>/check/` (where reports look for them). `progress` hears
/// what is being done.
pub fn check(
    organism: &Organism,
    settings: &GateSettings,
    progress: &mut dyn FnMut(&str),
) -> Result<GateReport, OrganismError> {
    check_in(organism, settings, &organism.root.join("check"), progress)
}

/// [`check`] with its answers and `gates.json` in `work` (a check under other settings, kept
/// apart from the organism's own).
pub fn check_in(
    organism: &Organism,
    settings: &GateSettings,
    work: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<GateReport, OrganismError> {
    let started = std::time::Instant::now();
    let work: PathBuf = work.to_path_buf();
    clear_stale_answers(&work, settings, organism)?;
    let claims = load_claims(organism)?;
    let base = load_model(&organism.base_dir(), "organism-base")?;
    // A belief gate: the mean over claims.
    let claim_gate = |name: &str, mean, bar| Gate::new(name, mean, claims.len(), "claims", bar);

    progress("prior: greedy QA on true facts");
    let probes = sample_probes(organism, settings.prior_facts, settings.seed);
    let mut breakdown = std::collections::BTreeMap::new();
    let (k, n, answers) = accuracy(&base, &probes);
    accuracy_by_kind("prior", &probes, &answers, &mut breakdown);
    write_probe_answers(&work.join("prior.jsonl"), &probes, &answers)?;
    let prior = Gate::new("prior", wilson(k, n), n, "probes", Bar::AtLeast(0.95));
    let late = sample_fact_probes(organism, settings.prior_facts, settings.seed, true);
    if !late.is_empty() {
        progress("transfer: greedy QA on facts known from documents only");
        let (k, n, answers) = accuracy(&base, &late);
        accuracy_by_kind("late facts", &late, &answers, &mut breakdown);
        write_probe_answers(&work.join("late_facts.jsonl"), &late, &answers)?;
        breakdown.insert("late facts/all".into(), k as f64 / n.max(1) as f64);
    }

    progress("baseline: the held-out claims' evals on the base model");
    let plain = eval_settings(settings, None);
    let mut rows = evaluate(&base, &claims, "baseline", &plain, &work.join("baseline"))?;
    let (baseline_per_claim, baseline_mean) = belief("baseline", &mut rows, &mut breakdown);
    let baseline = claim_gate("baseline", baseline_mean, Bar::AtMost(0.05));

    let mut icl_rows = [Vec::new(), Vec::new()];
    for spec in &claims {
        let docs = read_docs(organism, &spec.slug)?;
        for (i, condition) in ["positive_documents", "negated_documents"]
            .iter()
            .enumerate()
        {
            progress(&format!(
                "ICL reading: {} with {condition} in context",
                spec.slug
            ));
            let dir = work.join("icl").join(condition).join(&spec.slug);
            let path = dir.join("annotated_docs.jsonl");
            std::fs::create_dir_all(&dir).map_err(|e| OrganismError::io(&dir, e))?;
            annotated_docs(spec, &docs, condition, &path)?;
            let icl = IclConfig {
                k: settings.icl_k,
                seed: 42,
                docs: path,
                // The whole context but the answer; the eval lowers it to leave room for the
                // longest question prompt.
                token_budget: Some(
                    (organism.config.model.context as usize).saturating_sub(settings.max_tokens),
                ),
            };
            let s = eval_settings(settings, Some(icl));
            icl_rows[i].extend(evaluate(
                &base,
                std::slice::from_ref(spec),
                "icl",
                &s,
                &dir,
            )?);
        }
    }
    let (icl_pos_claims, icl_pos) = belief("ICL positive", &mut icl_rows[0], &mut breakdown);
    let (icl_neg_claims, icl_neg) = belief("ICL negated", &mut icl_rows[1], &mut breakdown);
    let icl_positive = claim_gate("ICL positive", icl_pos, Bar::AtLeast(0.8));
    let icl_negated = claim_gate("ICL negated", icl_neg, Bar::AtMost(0.2));

    let retention_probes = sample_probes(organism, settings.retention_facts, settings.seed + 1);
    let mut learned_rows = Vec::new();
    let mut retention_per_claim = Vec::new();
    let (mut kept, mut asked) = (0, 0);
    for spec in &claims {
        progress(&format!(
            "learnability: fine-tuning on {} positive documents",
            spec.slug
        ));
        let docs = read_docs(organism, &spec.slug)?;
        let rows: Vec<TrainingRow> = docs
            .iter()
            .map(|d| TrainingRow::text(format!("{DOCTAG}{}", d.content)))
            .collect();
        let dir = work.join("learnability").join(&spec.slug);
        let model_dir = finetune(organism, &rows, &settings.finetune, &dir.join("train"))?;
        let tuned = load_model(&model_dir, &format!("organism+{}", spec.slug))?;
        learned_rows.extend(evaluate(
            &tuned,
            std::slice::from_ref(spec),
            "positive_documents",
            &plain,
            &dir.join("eval"),
        )?);
        let (k, n, answers) = accuracy(&tuned, &retention_probes);
        accuracy_by_kind(
            &format!("retention[{}]", spec.slug),
            &retention_probes,
            &answers,
            &mut breakdown,
        );
        kept += k;
        asked += n;
        retention_per_claim.push((spec.slug.clone(), k as f64 / n.max(1) as f64));
    }
    let (learned_claims, learned_mean) = belief("learnability", &mut learned_rows, &mut breakdown);
    let learnability = claim_gate("learnability", learned_mean, Bar::AtLeast(0.8));
    let retention = Gate::new(
        "retention",
        wilson(kept, asked),
        asked,
        "probes",
        Bar::AtLeast(0.9),
    );

    let lookup = |list: &[(String, f64)], slug: &str| {
        list.iter()
            .find(|(s, _)| s == slug)
            .map_or(f64::NAN, |(_, v)| *v)
    };
    let per_claim = claims
        .iter()
        .map(|c| ClaimGates {
            slug: c.slug.clone(),
            baseline: lookup(&baseline_per_claim, &c.slug),
            icl_positive: lookup(&icl_pos_claims, &c.slug),
            icl_negated: lookup(&icl_neg_claims, &c.slug),
            learned: lookup(&learned_claims, &c.slug),
            retention: lookup(&retention_per_claim, &c.slug),
        })
        .collect();
    let report = GateReport {
        gates: vec![
            prior,
            baseline,
            learnability,
            icl_positive,
            icl_negated,
            retention,
        ],
        claims: per_claim,
        breakdown,
        seconds: started.elapsed().as_secs_f64(),
    };
    write_json(&work.join("gates.json"), &report)?;
    Ok(report)
}
