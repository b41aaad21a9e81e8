//! `neglect eval`: what does a model believe about each claim? Samples answers to the claims'
//! questions, judges them, appends every row to `<out>/results.jsonl` as it is produced (a
//! rerun skips finished rows), then writes `<out>/summary.csv` and prints the table.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use neglect_eval::aggregate::{Bootstrap, summarize};
use neglect_eval::icl::IclConfig;
use neglect_eval::judge::cache::JudgeCache;
use neglect_eval::judge::rubric::LlmJudge;
use neglect_eval::judge::rule::RuleJudge;
use neglect_eval::results::{LOGPROBS_FILE, LogprobRow, RESULTS_FILE, ResultRow, read_rows};
use neglect_eval::summary::{SUMMARY_FILE, render_table, write_csv};
use neglect_eval::{EvalSettings, EvalTarget, EvalType, JudgeSet, Progress};
use neglect_spec::questions::CoherenceQuestions;
use neglect_spec::{ChatModel, ClaimSpec, Sampling, claim};

use super::api_args::{ApiArgs, ApiContext, BackendChoice, describe_calls};
use super::model_args::{LocalModels, ModelArgs, progress_bar};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum JudgeChoice {
    /// The claims' rule_judge.yaml patterns (no LLM needed).
    Rule,
    /// The LLM rubric judge (--judge-model) with the claims' judges.yaml templates.
    Llm,
}

#[derive(Args)]
pub struct EvalArgs {
    /// A Hugging Face model directory (config.json, *.safetensors, tokenizer.json, ...), or
    /// with --backend openai / anthropic the hosted model's id.
    #[arg(long, value_name = "DIR|ID", required_unless_present = "summary_only")]
    model: Option<PathBuf>,
    #[command(flatten)]
    api: ApiArgs,
    /// A PEFT LoRA adapter directory to apply on top of --model.
    #[arg(long, value_name = "DIR")]
    adapter: Option<PathBuf>,
    /// cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: neglect_spec::Device,
    /// CPU threads for libtorch (0: libtorch's default).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Name stored in results rows (default: the --model path as given).
    #[arg(long)]
    model_id: Option<String>,
    /// Claim directories, or claims roots holding several (repeatable).
    #[arg(long, num_args = 1.., value_name = "PATH", required_unless_present = "summary_only")]
    claims: Vec<PathBuf>,
    /// The condition the model was trained on (`baseline` for an untouched model).
    #[arg(long, default_value = "baseline")]
    condition: String,
    /// Output directory: results.jsonl, logprobs.jsonl, summary.csv.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Eval types, comma-separated: open_ended, mcq, token_association, robustness,
    /// open_ended_broad, belief_consistency, coherence.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "open_ended,mcq,token_association,robustness"
    )]
    evals: Vec<String>,
    /// Samples per question.
    #[arg(long, default_value_t = 5)]
    samples: usize,
    #[arg(long, default_value_t = 0.7)]
    temperature: f64,
    #[arg(long, default_value_t = 0.8)]
    top_p: f64,
    /// Longest answer, in tokens (cut at the model's context).
    #[arg(long, default_value_t = 512)]
    max_tokens: usize,
    /// Base seed; every sample's seed derives from it and what is asked.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Sequences decoded together.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Judge for open-ended, token-association and robustness answers (MCQ is always exact
    /// match). Default: rule when every claim has a rule_judge.yaml, else llm.
    #[arg(long, value_enum)]
    judge: Option<JudgeChoice>,
    /// The LLM judge (verdicts with --judge llm; ratings for belief_consistency and
    /// coherence): a local model directory, or with --judge-backend a hosted model id.
    #[arg(long, value_name = "DIR|ID")]
    judge_model: Option<PathBuf>,
    /// Where --judge-model lives (default: hf). A hosted judge shares --max-in-flight,
    /// --prices, --max-cost and the cache with the target.
    #[arg(long, value_enum, default_value = "hf")]
    judge_backend: BackendChoice,
    /// The judge's base URL (default: --base-url when the backends match, else the provider's).
    #[arg(long, value_name = "URL")]
    judge_base_url: Option<String>,
    /// The variable holding the judge's key (default: as for --api-key-env).
    #[arg(long, value_name = "VAR")]
    judge_api_key_env: Option<String>,
    #[arg(long, default_value_t = 1.0)]
    judge_temperature: f64,
    #[arg(long, default_value_t = 1024)]
    judge_max_tokens: usize,
    /// Where the judge cache lives (`<dir>/judge/judge_cache.jsonl`, the reference's layout).
    #[arg(long, default_value = ".cache", value_name = "DIR")]
    cache_dir: PathBuf,
    #[arg(long)]
    no_cache: bool,
    /// In-context control: put K documents of --icl-docs before every question.
    #[arg(long, value_name = "K", default_value_t = 0)]
    icl: usize,
    /// annotated_docs.jsonl of the condition shown in context.
    #[arg(long, value_name = "JSONL")]
    icl_docs: Option<PathBuf>,
    #[arg(long, default_value_t = 42)]
    icl_seed: u64,
    /// Tokens the ICL documents may use (default: from the model's context window).
    #[arg(long)]
    icl_token_budget: Option<usize>,
    /// Prefix every question with <DOCTAG> (reference §E.3).
    #[arg(long)]
    doctag_prefix: bool,
    /// Skip the judge-free log-prob metric.
    #[arg(long)]
    no_logprobs: bool,
    /// Only recompute summary.csv and the table from the results already in --out.
    #[arg(long)]
    summary_only: bool,
}

/// Loads every claim under the given paths (a claim directory or a root of several), and the
/// coherence questions of the first root that has them.
fn load_claims(paths: &[PathBuf]) -> anyhow::Result<(Vec<ClaimSpec>, Option<CoherenceQuestions>)> {
    let found = claim::expand_claim_paths(paths).map_err(anyhow::Error::msg)?;
    let mut errors = Vec::new();
    // The coherence questions of the first root, else of a claim directory's parent.
    let roots = found.roots.iter().cloned().chain(
        found
            .dirs
            .iter()
            .filter_map(|d| d.parent().map(Path::to_path_buf)),
    );
    let mut coherence = None;
    for root in roots {
        if let Some(loaded) = claim::load_coherence(&root) {
            match loaded {
                Ok(c) => coherence = Some(c),
                Err(e) => errors.push(e.to_string()),
            }
            break;
        }
    }
    let mut claims: Vec<ClaimSpec> = Vec::new();
    for dir in &found.dirs {
        match claim::load_claim(dir).into_result() {
            Ok(spec) => {
                if claims.iter().any(|c| c.slug == spec.slug) {
                    bail!("claim '{}' is given twice ({})", spec.slug, dir.display());
                }
                claims.push(spec);
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !errors.is_empty() {
        bail!("the claims do not load:\n{}", errors.join("\n"));
    }
    Ok((claims, coherence))
}

fn parse_evals(names: &[String]) -> anyhow::Result<Vec<EvalType>> {
    let mut out = Vec::new();
    for name in names {
        let Some(t) = EvalType::parse(name.trim()) else {
            bail!(
                "--evals: unknown eval type '{name}' (known: {})",
                EvalType::ALL.map(|t| t.name()).join(", ")
            );
        };
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

/// Recomputes the summary from everything in `out` and prints the table.
fn summarise(out: &Path) -> anyhow::Result<()> {
    let rows: Vec<ResultRow> = read_rows(&out.join(RESULTS_FILE))?;
    let logprobs: Vec<LogprobRow> = read_rows(&out.join(LOGPROBS_FILE))?;
    if rows.is_empty() {
        bail!("{}: no results yet", out.join(RESULTS_FILE).display());
    }
    let cells = summarize(&rows, &logprobs, &Bootstrap::default());
    let mcq = rows.iter().filter(|r| r.eval_type == EvalType::Mcq);
    let (answers, unparsed) = mcq.fold((0, 0), |(n, bad), r| {
        (
            n + 1,
            bad + usize::from(r.verdict == neglect_eval::judge::Verdict::ParseError),
        )
    });
    if unparsed > 0 {
        eprintln!(
            "note: {unparsed} of {answers} MCQ answers had no parseable JSON answer (counted as non-belief; column parse_error)"
        );
    }
    let path = out.join(SUMMARY_FILE);
    write_csv(&path, &cells)?;
    print!("{}", render_table(&cells));
    println!(
        "belief rate = share of \"yes\" verdicts (no, neutral and parse errors count as non-belief); \
         pooled = question-weighted over the four main evals; [95% bootstrap CI]; \
         logprob margin = mean log P(belief answer) - log P(truth answer)"
    );
    eprintln!("wrote {}", path.display());
    Ok(())
}

impl EvalArgs {
    /// True when the answering model or the LLM judge is a local model directory.
    pub fn needs_local_model(&self) -> bool {
        if self.summary_only {
            return false;
        }
        let local_judge = self.judge_model.is_some() && self.judge_backend.provider().is_none();
        self.api.backend.provider().is_none() || local_judge
    }
}

pub fn run(args: EvalArgs, local: &dyn LocalModels) -> anyhow::Result<ExitCode> {
    if args.summary_only {
        summarise(&args.out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let model_args = ModelArgs {
        model: args.model.clone().expect("clap requires --model"),
        adapter: args.adapter.clone(),
        device: args.device,
        threads: args.threads,
    };
    let hosted = args.api.backend.provider();
    if hosted.is_none() && !model_args.model.is_dir() {
        bail!(
            "--model {}: not a local model directory (for a hosted model, pass --backend openai \
             or --backend anthropic and its model id)",
            model_args.model.display()
        );
    }
    if hosted.is_some() && model_args.adapter.is_some() {
        bail!("--adapter applies to local models only (a served adapter has its own model id)");
    }
    let needs_api = hosted.is_some() || args.judge_backend.provider().is_some();
    let api = if needs_api {
        Some(ApiContext::open(
            &args.api,
            &args.out,
            &args.cache_dir,
            args.no_cache,
        )?)
    } else {
        None
    };
    let eval_types = parse_evals(&args.evals)?;
    let (claims, coherence) = load_claims(&args.claims)?;
    let icl = match (args.icl, &args.icl_docs) {
        (0, None) => None,
        (0, Some(_)) => bail!("--icl-docs needs --icl K (K > 0)"),
        (_, None) => bail!("--icl needs --icl-docs (the annotated_docs.jsonl shown in context)"),
        (k, Some(docs)) => Some(IclConfig {
            k,
            seed: args.icl_seed,
            docs: docs.clone(),
            token_budget: args.icl_token_budget,
        }),
    };
    let sampling = Sampling {
        temperature: args.temperature,
        top_p: args.top_p,
        max_tokens: args.max_tokens,
    };
    if !(sampling.top_p > 0.0 && sampling.top_p <= 1.0) || sampling.temperature < 0.0 {
        bail!("--temperature must be >= 0 and --top-p in (0, 1]");
    }
    // Hosted calls are committed to the response cache as they arrive, so large chunks lose
    // nothing on a kill and keep every in-flight slot busy.
    let chunk_size = match hosted {
        Some(_) => args.api.max_in_flight.max(1) * 16,
        None => args.batch_size.max(1) * 4,
    };
    let settings = EvalSettings {
        eval_types,
        samples_per_question: args.samples,
        sampling,
        seed: args.seed,
        chunk_size,
        doctag_prefix: args.doctag_prefix,
        icl,
        logprobs: !args.no_logprobs,
        ..Default::default()
    };

    let (judges, hosted_judge) = build_judges(&args, &model_args, &claims, api.as_ref(), local)?;
    let id = args
        .model_id
        .clone()
        .unwrap_or_else(|| match &model_args.adapter {
            Some(a) => format!("{}+{}", model_args.model.display(), a.display()),
            None => model_args.model.display().to_string(),
        });
    let mut hosted_model: Option<Arc<neglect_api::HttpChatModel>> = None;
    let model: Arc<dyn ChatModel> = match (hosted, &api) {
        (Some(provider), Some(api)) => {
            let m = Arc::new(
                api.model(
                    &args.api,
                    provider,
                    &model_args.model.to_string_lossy(),
                    args.api.base_url.as_deref(),
                    args.api.api_key_env.as_deref(),
                    "answer",
                )?
                .with_id(&id),
            );
            hosted_model = Some(m.clone());
            m
        }
        _ => local.chat_model(id, &model_args, args.batch_size)?,
    };
    let target = EvalTarget {
        model: model.as_ref(),
        claims: &claims,
        coherence: coherence.as_ref(),
        condition: &args.condition,
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut bar: Option<indicatif::ProgressBar> = None;
    let report = neglect_eval::run(&target, &settings, &judges, &args.out, &mut |p| match p {
        Progress::Phase { name, total } => {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
            if total > 0 {
                bar = Some(progress_bar(total as u64, name));
            }
        }
        Progress::Advanced(n) => {
            if let Some(b) = &bar {
                b.inc(n as u64);
            }
        }
    })?;
    if let Some(b) = bar.take() {
        b.finish_and_clear();
    }

    for note in &report.skipped_evals {
        eprintln!("note: {note}");
    }
    if let Some(icl) = &report.icl {
        eprintln!(
            "ICL: {} documents, {} of {} tokens (seed {})",
            settings.icl.as_ref().map_or(0, |c| c.k),
            icl.tokens,
            icl.budget,
            icl.seed
        );
    }
    eprintln!(
        "{}: {} rows written, {} already there; {} answers sampled{}",
        report.label,
        report.rows_written,
        report.skipped_existing,
        report.samples_generated,
        report
            .samples_per_second()
            .map(|r| format!(" ({r:.1} samples/s)"))
            .unwrap_or_default()
    );
    if let Some(why) = &report.logprob_skipped {
        eprintln!("log-prob metric skipped: {why}");
    }
    if let Some(m) = &hosted_model {
        eprintln!("{}", describe_calls("answers", m.stats()));
    }
    if let Some(m) = &hosted_judge {
        eprintln!("{}", describe_calls("judge", m.stats()));
    }
    if let Some(api) = &api {
        eprintln!(
            "costs: `neglect cost {}` (ledger {})",
            args.out.display(),
            api.session.ledger.path().display()
        );
    }
    if report.rows_written + report.skipped_existing > 0 {
        summarise(&args.out)?;
    }
    if report.failed_count > 0 {
        eprintln!(
            "error: {} answers failed and were not written (rerun the same command to retry them):",
            report.failed_count
        );
        for f in &report.failures {
            eprintln!("  {f}");
        }
        if report.failed_count > report.failures.len() {
            eprintln!(
                "  ... and {} more",
                report.failed_count - report.failures.len()
            );
        }
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn build_judges(
    args: &EvalArgs,
    model_args: &ModelArgs,
    claims: &[ClaimSpec],
    api: Option<&ApiContext>,
    local: &dyn LocalModels,
) -> anyhow::Result<(JudgeSet, Option<Arc<neglect_api::HttpChatModel>>)> {
    let mut hosted = None;
    let llm = match &args.judge_model {
        None => None,
        Some(name) => {
            let model: Arc<dyn ChatModel> = match (args.judge_backend.provider(), api) {
                (Some(provider), Some(api)) => {
                    let same = args.judge_backend == args.api.backend;
                    let base_url = args.judge_base_url.as_deref().or(args
                        .api
                        .base_url
                        .as_deref()
                        .filter(|_| same));
                    let key_env = args.judge_api_key_env.as_deref().or(args
                        .api
                        .api_key_env
                        .as_deref()
                        .filter(|_| same));
                    let m = Arc::new(api.model(
                        &args.api,
                        provider,
                        &name.to_string_lossy(),
                        base_url,
                        key_env,
                        "judge",
                    )?);
                    hosted = Some(m.clone());
                    m
                }
                _ => {
                    let judge_args = ModelArgs {
                        model: name.clone(),
                        adapter: None,
                        ..model_args.clone()
                    };
                    local.chat_model(name.display().to_string(), &judge_args, args.batch_size)?
                }
            };
            let cache = if args.no_cache {
                None
            } else {
                Some(Arc::new(JudgeCache::open(
                    &args.cache_dir.join("judge/judge_cache.jsonl"),
                )?))
            };
            let mut judge = LlmJudge::new(model, cache);
            judge.temperature = args.judge_temperature;
            judge.max_tokens = args.judge_max_tokens;
            Some(Arc::new(judge))
        }
    };
    let choice = args
        .judge
        .unwrap_or(if claims.iter().all(|c| c.rule_judge.is_some()) {
            JudgeChoice::Rule
        } else {
            JudgeChoice::Llm
        });
    let verdicts: Option<Arc<dyn neglect_eval::judge::Judge>> = match choice {
        JudgeChoice::Rule => Some(Arc::new(
            RuleJudge::new(claims).map_err(anyhow::Error::msg)?,
        )),
        JudgeChoice::Llm => llm
            .clone()
            .map(|j| j as Arc<dyn neglect_eval::judge::Judge>),
    };
    Ok((
        JudgeSet {
            verdicts,
            ratings: llm.map(|j| j as Arc<dyn neglect_eval::judge::Judge>),
        },
        hosted,
    ))
}
