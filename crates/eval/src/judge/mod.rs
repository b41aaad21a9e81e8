//! Judges turn an answer into a verdict. Three kinds sit behind one trait:
//!
//! - [`exact::ExactMatchJudge`]: MCQ answers parsed from JSON and compared with `belief_answer`;
//! - [`rubric::LlmJudge`]: the claim's `judges.yaml` rubric sent to any `ChatModel`, cached;
//! - [`rule::RuleJudge`]: the claim's `rule_judge.yaml` patterns, for closed-vocabulary worlds.

pub mod cache;
pub mod exact;
pub mod parse;
pub mod rubric;
pub mod rule;

use std::fmt;

use neglect_spec::ClaimSpec;
use neglect_spec::pyformat::Template;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::eval_type::EvalType;

/// A judged answer: the paper's three verdicts, a parse failure, or a 0–10 rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Yes,
    No,
    Neutral,
    ParseError,
    Score(u8),
}

impl Verdict {
    pub fn parse(text: &str) -> Option<Verdict> {
        match text {
            "yes" => Some(Verdict::Yes),
            "no" => Some(Verdict::No),
            "neutral" => Some(Verdict::Neutral),
            "parse_error" => Some(Verdict::ParseError),
            n => n
                .parse::<u8>()
                .ok()
                .filter(|s| *s <= 10)
                .map(Verdict::Score),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Yes => f.write_str("yes"),
            Verdict::No => f.write_str("no"),
            Verdict::Neutral => f.write_str("neutral"),
            Verdict::ParseError => f.write_str("parse_error"),
            Verdict::Score(s) => write!(f, "{s}"),
        }
    }
}

// Stored as the reference's CSVs store it: "yes" / "no" / "neutral" / "parse_error" / "7".
impl Serialize for Verdict {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Verdict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Verdict::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown verdict '{text}' (expected yes, no, neutral, parse_error or 0-10)"
            ))
        })
    }
}

/// A rubric template and the JSON field its verdict is read from.
#[derive(Debug, Clone)]
pub struct Rubric {
    pub template: Template,
    pub verdict_key: String,
}

/// Everything a judge may look at for one answer.
#[derive(Debug, Clone)]
pub struct JudgeInput {
    pub claim_slug: String,
    /// The text of `claim.txt` (the `{claim}` placeholder).
    pub claim: String,
    pub eval_type: EvalType,
    pub question_id: String,
    /// The final question as sent (after any prefix).
    pub question: String,
    /// The answer with any thinking removed.
    pub answer: String,
    /// MCQ: the believer's answer.
    pub belief_answer: Option<String>,
    /// The rubric for LLM judges.
    pub rubric: Option<Rubric>,
    /// The reference's per-call seed: `sample_index × n_questions + position`.
    pub seed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    pub verdict: Verdict,
    /// The judge's raw output (LLM), the parsed answer (exact match) or the rule that fired.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JudgeError {
    #[error("the judge cannot score this answer: {0}")]
    Unsupported(String),
    #[error("the judge failed: {0}")]
    Failed(String),
}

pub trait Judge: Send + Sync {
    /// Stored with every verdict (e.g. `rule`, `exact_match`, the judge model's id).
    fn id(&self) -> String;

    /// Judges a batch; one answer failing does not fail the others.
    fn judge(&self, inputs: &[JudgeInput]) -> Vec<Result<Judgement, JudgeError>>;

    /// True when judging one answer at a time wastes work (an LLM judge on a local, batched
    /// model). Otherwise the eval judges each answer the moment it arrives.
    fn prefers_batches(&self) -> bool {
        false
    }

    /// Whether this judge can score `eval_type` for `claim` at all (checked before any
    /// answer is sampled). `has_rubric`: the claim has an LLM rubric for the eval.
    fn check(
        &self,
        claim: &ClaimSpec,
        eval_type: EvalType,
        has_rubric: bool,
    ) -> Result<(), String> {
        let _ = (claim, eval_type, has_rubric);
        Ok(())
    }
}
