//! `neglect docs generate`: a claim's positive (or, with `--negated`, debunking) documents,
//! written by language models through the five stages of `neglect_docgen`, or templated for the
//! built-in organism's claims (`--generator templated`, run by the engine).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use neglect_docgen::pipeline::STAGE_FILES;
use neglect_docgen::universe::{UNIVERSE_FILE, save_universe, write_universe};
use neglect_docgen::{DocGenConfig, Event, Models};
use neglect_spec::UniverseContext;

use super::api_args::{ApiArgs, ApiContext, describe_calls};
use super::model_args::progress_bar;

#[derive(Subcommand)]
pub enum DocsCommand {
    /// Generate a claim's documents (synth_docs.jsonl), resumably.
    Generate(Box<GenerateArgs>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Generator {
    /// Language models over HTTP: types → ideas → documents → revision → leak filter.
    Llm,
    /// The built-in organism's templated documents for one of its held-out claims.
    Templated,
}

#[derive(Args)]
pub struct GenerateArgs {
    #[arg(long, value_enum, default_value = "llm")]
    pub generator: Generator,
    /// The output folder: each stage's JSONL, config.json and synth_docs.jsonl. An existing
    /// folder is resumed.
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
    /// Start over: remove the output folder's stage files first.
    #[arg(long, short)]
    pub force: bool,

    /// A claim directory: its universe_context.yaml (with --negated, the _negated one and
    /// system_context_negated.md when present).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["universe", "from_claim"])]
    pub claim: Option<PathBuf>,
    /// A universe_context.yaml anywhere.
    #[arg(long, value_name = "FILE", conflicts_with = "from_claim")]
    pub universe: Option<PathBuf>,
    /// Write the universe context from this one-line claim first (saved as
    /// OUT/universe_context.yaml and reused on a re-run).
    #[arg(long, value_name = "TEXT")]
    pub from_claim: Option<String>,
    /// The id of a universe written with --from-claim (default: the output folder's name).
    #[arg(long)]
    pub id: Option<String>,
    /// Subclaims asked for with --from-claim.
    #[arg(long, default_value_t = 12)]
    pub subclaims: usize,
    /// Debunking documents: the claim's negated universe (for local_negations).
    #[arg(long)]
    pub negated: bool,
    /// Text put before the world in every prompt (default with --negated:
    /// the claim's system_context_negated.md).
    #[arg(long, value_name = "FILE")]
    pub system_context: Option<PathBuf>,

    /// The model that writes and revises the documents.
    #[arg(long, value_name = "ID")]
    pub model: Option<String>,
    /// The model that brainstorms types and ideas (and writes the universe; default: --model).
    #[arg(long, value_name = "ID")]
    pub brainstorm_model: Option<String>,
    /// The model that checks for leaked commentary (default: --model).
    #[arg(long, value_name = "ID")]
    pub filter_model: Option<String>,
    /// Document types kept per subclaim.
    #[arg(long, default_value_t = 80)]
    pub doc_types: usize,
    /// Ideas kept per (subclaim, type).
    #[arg(long, default_value_t = 10)]
    pub ideas: usize,
    /// Documents asked for (ideas are cycled, each round with a new seed).
    #[arg(long, default_value_t = 10_500)]
    pub total: usize,
    /// Brainstorming calls allowed per item.
    #[arg(long, default_value_t = 41)]
    pub max_brainstorm_calls: usize,
    #[arg(long)]
    pub no_revise: bool,
    #[arg(long)]
    pub no_filter: bool,
    /// Token limit for brainstorming, writing and revising.
    #[arg(long, default_value_t = 20_000)]
    pub max_tokens: usize,
    /// Token limit for the leak filter.
    #[arg(long, default_value_t = 5_000)]
    pub filter_max_tokens: usize,
    #[command(flatten)]
    pub api: ApiArgs,
    /// Where the response cache lives (`<dir>/api/responses.sqlite`); the ledger is
    /// OUT/api_ledger.sqlite.
    #[arg(long, default_value = ".cache", value_name = "DIR")]
    pub cache_dir: PathBuf,

    /// --generator templated: the organism (`default`, `tiny`, or a config JSON).
    #[arg(long, default_value = "default")]
    pub organism: String,
    /// --generator templated: the organism claim's slug (see `neglect world build`).
    #[arg(long, value_name = "SLUG")]
    pub world_claim: Option<String>,
    /// --generator templated: documents to write (default: the organism's docs_per_claim).
    #[arg(long)]
    pub n: Option<usize>,
}

impl DocsCommand {
    pub fn needs_libtorch(&self) -> bool {
        match self {
            DocsCommand::Generate(args) => args.generator == Generator::Templated,
        }
    }
}

pub fn run(cmd: DocsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DocsCommand::Generate(args) => generate_llm(&args),
    }
}

fn read_universe(path: &Path) -> anyhow::Result<UniverseContext> {
    neglect_spec::claim::read_universe(path).map_err(|errors| {
        for e in errors.iter() {
            eprintln!("error: {e}");
        }
        anyhow::anyhow!("{} is not a usable universe context", path.display())
    })
}

fn generate_llm(args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    if args.generator != Generator::Llm {
        bail!("--generator templated runs in neglect-engine");
    }
    let Some(provider) = args.api.backend.provider() else {
        bail!("--generator llm needs --backend openai or anthropic (a hosted or served model)");
    };
    let Some(writer_id) = args.model.as_deref() else {
        bail!("--generator llm needs --model (the model that writes the documents)");
    };
    if args.force {
        for f in STAGE_FILES.iter().chain([&UNIVERSE_FILE]) {
            let p = args.out.join(f);
            if p.exists() {
                std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
            }
        }
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let api = ApiContext::open(&args.api, &args.out, &args.cache_dir, false)?;
    let (base_url, key_env) = (
        args.api.base_url.as_deref(),
        args.api.api_key_env.as_deref(),
    );
    let model =
        |id: &str, purpose: &str| api.model(&args.api, provider, id, base_url, key_env, purpose);
    let writer = model(writer_id, "write_documents")?;
    let brainstorm = model(
        args.brainstorm_model.as_deref().unwrap_or(writer_id),
        "brainstorm",
    )?;
    let filter = model(
        args.filter_model.as_deref().unwrap_or(writer_id),
        "leak_filter",
    )?;

    let (universe_path, default_system) = match (&args.claim, &args.universe, &args.from_claim) {
        (Some(dir), _, _) => {
            let name = if args.negated {
                "universe_context_negated.yaml"
            } else {
                UNIVERSE_FILE
            };
            let system = dir.join("system_context_negated.md");
            (
                dir.join(name),
                (args.negated && system.is_file()).then_some(system),
            )
        }
        (None, Some(file), _) => (file.clone(), None),
        (None, None, Some(_)) => (args.out.join(UNIVERSE_FILE), None),
        (None, None, None) => bail!("give --claim DIR, --universe FILE or --from-claim TEXT"),
    };
    let universe = match (&args.from_claim, universe_path.is_file()) {
        (Some(line), false) => {
            let id = args.id.clone().unwrap_or_else(|| {
                args.out
                    .file_name()
                    .map_or("claim".into(), |n| n.to_string_lossy().into_owned())
            });
            eprintln!("writing a universe context for: {line}");
            let u = write_universe(&brainstorm, &id, line, args.subclaims, args.max_tokens)?;
            save_universe(&u, &universe_path)?;
            println!(
                "universe context: {} ({} subclaims)",
                universe_path.display(),
                u.subclaims.len()
            );
            u
        }
        _ => read_universe(&universe_path)?,
    };
    let system_context = match args.system_context.as_ref().or(default_system.as_ref()) {
        Some(p) => {
            Some(std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?)
        }
        None => None,
    };
    let config = DocGenConfig {
        num_doc_types: args.doc_types,
        num_ideas: args.ideas,
        total_docs: args.total,
        max_brainstorm_calls: args.max_brainstorm_calls.max(1),
        revise: !args.no_revise,
        filter: !args.no_filter,
        max_tokens: args.max_tokens,
        filter_max_tokens: args.filter_max_tokens,
        temperature: 1.0,
        system_context,
    };
    let models = Models {
        brainstorm: &brainstorm,
        writer: &writer,
        filter: &filter,
    };
    let specs = universe.subclaims.len() * config.num_doc_types * config.num_ideas;
    eprintln!(
        "plan: {} subclaims × {} types × {} ideas = {specs} document specs → {} documents: {} \
         calls to write{}{}, plus brainstorming (at least {} calls); files in {}",
        universe.subclaims.len(),
        config.num_doc_types,
        config.num_ideas,
        config.total_docs,
        config.total_docs,
        if config.revise {
            ", as many to revise"
        } else {
            ""
        },
        if config.filter {
            ", as many to filter"
        } else {
            ""
        },
        universe.subclaims.len() * 3 + universe.subclaims.len() * config.num_doc_types * 2,
        args.out.display()
    );
    let bar = progress_bar(0, "generating");
    let summary =
        neglect_docgen::generate(&universe, &args.out, &config, &models, &mut |e| match e {
            Event::Calls { stage, calls } => {
                bar.set_message(stage.to_string());
                bar.inc_length(calls as u64);
            }
            Event::CallDone => bar.inc(1),
            Event::Reused { stage, rows } => {
                bar.println(format!("{stage}: {rows} rows from the last run"));
            }
        })?;
    bar.finish_and_clear();
    println!(
        "{} documents in {} ({} types, {} ideas; {} written, {} not; {} revised; {} rejected by \
         the leak filter, {} filter calls failed and were kept)",
        summary.accepted,
        summary.output.display(),
        summary.doc_types,
        summary.doc_specs,
        summary.generated,
        summary.not_generated,
        summary.revised,
        summary.rejected,
        summary.filter_failures
    );
    if summary.short_brainstorms > 0 {
        eprintln!(
            "{} brainstorms ended with fewer unique answers than asked (after --max-brainstorm-calls)",
            summary.short_brainstorms
        );
    }
    for (name, m) in [
        ("writer", &writer),
        ("brainstorm", &brainstorm),
        ("filter", &filter),
    ] {
        eprintln!("{}", describe_calls(name, m.stats()));
    }
    Ok(ExitCode::SUCCESS)
}
