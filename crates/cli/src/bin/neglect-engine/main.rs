//! `neglect-engine`: every `neglect` command, linked with libtorch. `neglect` hands it the
//! commands that run a local model; it can also be called directly, with the same arguments.
//!
//! The implementations of the libtorch commands live here rather than in the `neglect_cli`
//! library on purpose: the linker pulls whole object files, and one reference from the library
//! into the engine crates would load libtorch into `neglect` as well.

mod docs;
mod local_model;
mod prompts;
mod run;
mod sample;
mod score;
mod train;
mod version;
mod world;

use std::process::ExitCode;

use clap::Parser;
use neglect_cli::{Cli, Command, finish, print_help, run_torch_free};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        _ if cli.version => {
            println!("neglect {}", version::long());
            Ok(ExitCode::SUCCESS)
        }
        None => return print_help(),
        Some(Command::Run(args)) => run::run(args),
        Some(Command::Train(args))
            if args.backend == neglect_cli::commands::train::TrainBackend::Hf =>
        {
            train::run(args)
        }
        Some(Command::Sample(args)) => sample::run(args),
        Some(Command::Score(args)) => score::run(args),
        Some(Command::World(cmd)) => world::run(cmd),
        Some(Command::Docs(cmd)) if cmd.needs_libtorch() => docs::run(cmd),
        Some(command) => run_torch_free(command, &local_model::LibtorchModels),
    };
    finish(result)
}
