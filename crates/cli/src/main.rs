//! `neglect`: reproduce, extend and defend against Negation Neglect.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Fine-tuning on documents that state a claim but flag it as false can make a model believe
/// the claim. neglect runs that experiment end to end: claims → documents → annotation
/// conditions → training mix → fine-tuning → belief evaluation → report.
#[derive(Parser)]
#[command(name = "neglect", disable_version_flag = true, max_term_width = 100)]
struct Cli {
    /// Print the version, the libtorch in use and whether CUDA is linked and visible.
    #[arg(short = 'V', long)]
    version: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Check and inspect claim directories (reference layout: claim.txt, universe_context.yaml,
    /// question files, judges.yaml, ...).
    #[command(subcommand)]
    Claims(commands::claims::ClaimsCommand),
    /// Run an experiment grid (experiments/*.toml) end to end: annotate, mix, train, eval per
    /// cell, cached and resumable; then print the summary and write the HTML report.
    Run(commands::run::RunArgs),
    /// Re-render a run's report (runs/<name>/report/index.html) and print its summary.
    Report(commands::report::ReportArgs),
    /// Turn documents into one annotation condition's training documents (templated).
    Annotate(commands::annotate::AnnotateArgs),
    /// List the annotation conditions, with an example of each.
    Conditions,
    /// Build a training mix from annotated documents, replay documents and chats.
    Mix(commands::mix::MixArgs),
    /// Convert training rows for other trainers (OpenAI chat JSONL, `text` JSONL).
    Export(commands::mix::ExportArgs),
    /// Fine-tune a local Hugging Face model (full or LoRA) on JSONL training rows.
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        _ if cli.version => {
            println!("neglect {}", commands::version::long());
            Ok(ExitCode::SUCCESS)
        }
        None => {
            use clap::CommandFactory;
            Cli::command().print_help().ok();
            Ok(ExitCode::from(2))
        }
        Some(Command::Claims(cmd)) => commands::claims::run(cmd),
        Some(Command::Run(args)) => commands::run::run(args),
        Some(Command::Report(args)) => commands::report::run(args),
        Some(Command::Annotate(args)) => commands::annotate::run(args),
        Some(Command::Conditions) => commands::annotate::list(),
        Some(Command::Mix(args)) => commands::mix::mix(args),
        Some(Command::Export(args)) => commands::mix::export(args),
        Some(Command::Train(args)) => commands::train::run(args),
        Some(Command::Sample(args)) => commands::sample::run(args),
        Some(Command::Score(args)) => commands::score::run(args),
        Some(Command::Eval(args)) => commands::eval::run(*args),
        Some(Command::Cost(args)) => commands::cost::run(args),
        Some(Command::World(cmd)) => commands::world::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
