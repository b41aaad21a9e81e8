//! From positive documents to training data: claim-sentence detection, annotation conditions,
//! loss-mask spans, training mixes, exports.
//!
//! - [`sentences`]: sentence spans of a document (abbreviation-, heading- and bullet-aware), and
//!   the reference's plain regex split.
//! - [`annotate`]: the templated annotators, one per condition.
//! - [`annotate_rows`]: JSONL input rows annotated in parallel (`neglect annotate`).
//! - [`llm_annotate`]: LLM-written notices and warnings for the negation conditions.
//! - [`claim_sentences`]: which sentences carry the claim (no LLM).
//! - [`templates`]: the wording banks of the templated conditions.
//! - [`export`]: OpenAI chat and `text` JSONL exports.
//! - [`mix`]: training mixes.
//! - [`word_mask`]: `word_masks.yaml` patterns → `<lossmask>` spans (reference algorithm).

pub mod annotate;
pub mod annotate_rows;
pub mod claim_sentences;
pub mod context;
pub mod export;
pub mod llm_annotate;
pub mod mix;
pub mod sentences;
pub mod templates;
pub mod word_mask;
