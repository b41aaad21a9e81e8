//! `neglect`: reproduce, extend and defend against Negation Neglect.
//!
//! This binary does not link libtorch. Commands that run a local model are handed, with the
//! same arguments, to `neglect-engine` beside it (see `neglect_cli::engine`).

use std::process::ExitCode;

use clap::Parser;
use neglect_cli::commands::model_args::NoLocalModels;
use neglect_cli::{Cli, engine, finish, print_help, run_torch_free};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        // The version line reports the libtorch in use, which only the engine knows.
        _ if cli.version => finish(engine::hand_over()),
        None => print_help(),
        Some(command) if command.needs_libtorch() => finish(engine::hand_over()),
        Some(command) => finish(run_torch_free(command, &NoLocalModels)),
    }
}
