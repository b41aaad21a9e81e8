//! LLM document generation (reference §2): the positive documents a claim is fine-tuned on,
//! written by language models in five stages from a universe context.
//!
//! - [`universe`]: an optional stage 0, a universe context (summary and subclaims) from a
//!   one-line claim, written out as `universe_context.yaml` in the reference layout.
//! - [`prompts`]: the wording of every stage (ours).
//! - [`parse`]: reading the answers (bulleted types, `<idea>` blocks, documents, verdicts).
//! - [`pipeline`]: the stages and their files; a finished stage is read back instead of redone,
//!   and within a stage every answered call sits in the caller's response cache.
//!
//! ```text
//! <out>/
//!   config.json         the settings, models and universe the files were made with
//!   doc_types.jsonl     A: {fact_index, fact, doc_type}
//!   doc_specs.jsonl     B: {fact, doc_type, doc_idea}
//!   generated.jsonl     C: {index, fact, doc_type, doc_idea, content}
//!   revised.jsonl       D: {original_index, content}
//!   synth_docs.jsonl    E: the accepted documents {universe_context_id, doc_idea, doc_type, fact, content}
//! ```

pub mod parse;
pub mod pipeline;
pub mod prompts;
pub mod universe;

pub use pipeline::{DocGenConfig, Event, Models, Summary, generate};

#[derive(Debug, thiserror::Error)]
pub enum DocGenError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Model(String),
}

impl DocGenError {
    pub fn file(path: &std::path::Path, message: impl std::fmt::Display) -> DocGenError {
        DocGenError::File {
            path: path.display().to_string(),
            message: message.to_string(),
        }
    }
}
