//! Belief evaluation (reference §5): what does a model believe about a claim?
//!
//! Like an inspect_ai eval, the parts are separate: the *dataset* is a claim's question files
//! ([`eval_type`], [`prompt`], [`icl`]); the *solver* is any [`neglect_spec::ChatModel`]
//! (driven by [`runner`]); the *scorers* are the [`judge`]s and the log-prob metric. Results
//! go to [`results`] files row by row; [`aggregate`] and [`summary`] turn them into belief
//! rates with bootstrap CIs.

pub mod aggregate;
pub mod eval_type;
pub mod icl;
pub mod judge;
pub mod prompt;
pub mod results;
pub mod runner;
pub mod summary;
pub mod thinking;

pub use eval_type::EvalType;
pub use runner::{EvalSettings, EvalTarget, JudgeSet, Progress, RunReport, run};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// A file we read is missing or malformed (the message names file, line and field).
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Io(String),
    /// Problems found before any answer was sampled.
    #[error("cannot run these evals:\n  {}", .0.join("\n  "))]
    Preflight(Vec<String>),
}
