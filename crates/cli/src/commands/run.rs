//! `neglect run EXPERIMENT.toml`: runs an experiment grid end to end (see neglect-runner),
//! with a bar over the grid's cells and one for the stage at work, then prints the summary and
//! writes the HTML report. `--plan` only validates the grid and prints what would run.

use std::path::PathBuf;

use clap::Args;

#[derive(Args)]
pub struct RunArgs {
    /// The experiment file (see experiments/).
    pub experiment: PathBuf,
    /// Where runs are written (`<dir>/<experiment name>/`).
    #[arg(long, default_value = "runs", value_name = "DIR")]
    pub runs_dir: PathBuf,
    /// Where the organism is cached (`<dir>/world/<hash>/`).
    #[arg(long, default_value = ".cache", value_name = "DIR")]
    pub cache_dir: PathBuf,
    /// CPU threads for libtorch (default: the experiment's backend.threads, else libtorch's).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Run at most this many cells in this invocation, then stop (a later run carries on).
    #[arg(long, value_name = "N")]
    pub max_cells: Option<usize>,
    /// Only validate the experiment and print its plan.
    #[arg(long)]
    pub plan: bool,
}
