//! The `neglect` command line, shared by its two binaries.
//!
//! `neglect` (src/main.rs) does not link libtorch: the data, report, cost and hosted-model
//! commands start in milliseconds. The commands that run a local model (train, sample, score,
//! world, run, and eval on a local model) are handed to `neglect-engine` (src/bin/), which
//! links libtorch and runs every command. The split exists because loading libtorch costs about
//! a quarter of a second of static initialisation on every start, before `main`.

pub mod commands;
pub mod engine;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Fine-tuning on documents that state a claim but flag it as false can make a model believe
/// the claim. neglect runs that experiment end to end: claims → documents → annotation
/// conditions → training mix → fine-tuning → belief evaluation → report.
#[derive(Parser)]
#[command(name = "neglect", disable_version_flag = true, max_term_width = 100)]
pub struct Cli {
    /// Print the version, the libtorch in use and whether CUDA is linked and visible.
    #[arg(short = 'V', long)]
    pub version: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Check and inspect claim directories (reference layout: claim.txt, universe_context.yaml,
    /// question files, judges.yaml, ...).
    #[command(subcommand)]
    Claims(commands::claims::ClaimsCommand),
    /// Run an experiment grid (experiments/*.toml) end to end: annotate, mix, train, eval per
    /// cell, cached and resumable; then print the summary and write the HTML report.
    Run(commands::run::RunArgs),
    /// Re-render a run's report (runs/<name>/report/index.html) and print its summary.
    Report(commands::report::ReportArgs),
    /// Generate a claim's documents: with language models (types → ideas → documents →
    /// revision → leak filter), or templated for the built-in organism's claims.
    #[command(subcommand)]
    Docs(commands::docs::DocsCommand),
    /// Turn documents into one annotation condition's training documents (templated, or
    /// written by a language model with --annotator llm).
    Annotate(commands::annotate::AnnotateArgs),
    /// List the annotation conditions, with an example of each.
    Conditions,
    /// Build a training mix from annotated documents, replay documents and chats.
    Mix(commands::mix::MixArgs),
    /// Convert training rows for other trainers (OpenAI chat JSONL, `text` JSONL).
    Export(commands::mix::ExportArgs),
    /// Fine-tune a local Hugging Face model (full or LoRA) on JSONL training rows, or a hosted
    /// one on Together (--backend together).
    Train(commands::train::TrainArgs),
    /// Generate completions from a local model (batched, KV cache, seeded).
    Sample(commands::sample::SampleArgs),
    /// Log-probabilities of candidate continuations under a local model.
    Score(commands::score::ScoreArgs),
    /// Measure what a model believes about claims: sample, judge, aggregate with CIs.
    Eval(Box<commands::eval::EvalArgs>),
    /// What the hosted-model calls under a directory cost (tokens, retries, USD).
    Cost(commands::cost::CostArgs),
    /// The built-in model organism: build the base model, check its capability gates.
    #[command(subcommand)]
    World(commands::world::WorldCommand),
}

impl Command {
    /// True for the commands that run a local model, and so need `neglect-engine`.
    pub fn needs_libtorch(&self) -> bool {
        match self {
            Command::Train(args) => args.backend == commands::train::TrainBackend::Hf,
            Command::Run(_) | Command::Sample(_) | Command::Score(_) | Command::World(_) => true,
            Command::Eval(args) => args.needs_local_model(),
            Command::Docs(cmd) => cmd.needs_libtorch(),
            Command::Claims(_)
            | Command::Report(_)
            | Command::Annotate(_)
            | Command::Conditions
            | Command::Mix(_)
            | Command::Export(_)
            | Command::Cost(_) => false,
        }
    }
}

/// Runs one of the commands that do not need libtorch. `local` loads local models for `eval`;
/// the front binary passes one that refuses, having sent every local eval to the engine.
pub fn run_torch_free(
    command: Command,
    local: &dyn commands::model_args::LocalModels,
) -> anyhow::Result<ExitCode> {
    match command {
        Command::Claims(cmd) => commands::claims::run(cmd),
        Command::Report(args) => commands::report::run(args),
        Command::Annotate(args) => commands::annotate::run(args),
        Command::Docs(cmd) => commands::docs::run(cmd),
        Command::Conditions => commands::annotate::list(),
        Command::Mix(args) => commands::mix::mix(args),
        Command::Export(args) => commands::mix::export(args),
        Command::Eval(args) => commands::eval::run(*args, local),
        Command::Cost(args) => commands::cost::run(args),
        Command::Train(args) if args.backend == commands::train::TrainBackend::Together => {
            commands::hosted_train::run(args)
        }
        Command::Run(_)
        | Command::Train(_)
        | Command::Sample(_)
        | Command::Score(_)
        | Command::World(_) => {
            unreachable!("run_torch_free called with a command that needs libtorch")
        }
    }
}

/// Prints the top-level help (`neglect` with no command).
pub fn print_help() -> ExitCode {
    use clap::CommandFactory;
    Cli::command().print_help().ok();
    ExitCode::from(2)
}

/// The exit code and message for a command's result.
pub fn finish(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
