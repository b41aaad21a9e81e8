//! Types, loaders and validation for every file `neglect` reads: claim directories in the
//! reference layout, question sets and judge templates, document and training rows (streamed
//! JSONL), and experiment grids. Nothing here depends on the rest of the workspace.
//!
//! Every loader reports problems as `file:line:col: field: message`.

pub mod chat;
pub mod claim;
pub mod conditions;
pub mod device;
pub mod documents;
pub mod error;
pub mod experiment;
pub mod jsonl;
pub mod judges;
pub mod pyformat;
pub mod questions;
pub mod rule_judge;
pub mod training;
pub mod tree;

mod toml_tree;
mod yaml;

pub use chat::{
    ChatCompletion, ChatError, ChatModel, ChatRequest, JsonSchema, Sampling, ScoreItem,
};
pub use claim::{ClaimLoad, ClaimSpec, UniverseContext, WordMasks, load_claim};
pub use device::Device;
pub use documents::{AnnotatedDoc, DOCTAG, SynthDoc};
pub use error::{SpecError, SpecErrors};
pub use experiment::Experiment;
pub use questions::{ChatMessage, Question, QuestionSet};
pub use rule_judge::RuleJudgeSpec;
pub use training::{TrainingExample, TrainingRow};
