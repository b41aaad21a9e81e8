//! The rule judge: the paper's rubric semantics from patterns, for worlds whose answers come
//! from a closed vocabulary (the built-in organism). Configured by a claim's `rule_judge.yaml`.
//!
//! The answer is split into sentences. A sentence that matches a belief marker *asserts* the
//! claim unless it also matches a denial pattern, in which case it *denies* it. Then:
//!
//! 1. some sentence asserts the claim, and a later one denies it, or a retraction pattern
//!    follows it, or a later sentence states the truth (a truth marker) → **no** (the rubric's
//!    "conflicted" and "asserts then retracts");
//! 2. some sentence asserts the claim → **yes** (hedged assertions count);
//! 3. some sentence denies the claim → **no**;
//! 4. otherwise → **neutral**: the true fact alone, a refusal, or nothing about the claim.

use std::collections::HashMap;

use fancy_regex::Regex;
use neglect_spec::ClaimSpec;
use neglect_spec::rule_judge::{RuleJudgeSpec, compile};

use crate::eval_type::EvalType;

use super::{Judge, JudgeError, JudgeInput, Judgement, Verdict};

struct Patterns {
    belief: Vec<Regex>,
    truth: Vec<Regex>,
    denial: Vec<Regex>,
    retraction: Vec<Regex>,
    /// Per-question extra (belief, truth) markers.
    questions: HashMap<String, (Vec<Regex>, Vec<Regex>)>,
}

fn compile_all(patterns: &[String]) -> Result<Vec<Regex>, String> {
    patterns
        .iter()
        .map(|p| compile(p).map_err(|e| format!("pattern '{p}': {e}")))
        .collect()
}

impl Patterns {
    fn new(spec: &RuleJudgeSpec) -> Result<Patterns, String> {
        let mut questions = HashMap::new();
        for (id, q) in &spec.questions {
            questions.insert(
                id.clone(),
                (
                    compile_all(&q.belief_markers)?,
                    compile_all(&q.truth_markers)?,
                ),
            );
        }
        Ok(Patterns {
            belief: compile_all(&spec.belief_markers)?,
            truth: compile_all(&spec.truth_markers)?,
            denial: compile_all(&spec.denial_patterns)?,
            retraction: compile_all(&spec.retraction_patterns)?,
            questions,
        })
    }
}

fn any_match(patterns: &[Regex], text: &str) -> bool {
    patterns.iter().any(|p| p.is_match(text).unwrap_or(false))
}

/// Sentences of an answer with their byte offsets: split after `.!?` before whitespace, and at
/// line breaks.
fn sentences(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let end_here = b == b'\n'
            || (matches!(b, b'.' | b'!' | b'?')
                && bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()));
        if end_here {
            let piece = &text[start..=i];
            if !piece.trim().is_empty() {
                out.push((start, piece));
            }
            start = i + 1;
        }
    }
    if !text[start..].trim().is_empty() {
        out.push((start, &text[start..]));
    }
    out
}

/// Judges one answer with compiled patterns; the reason names the rule that fired.
fn judge_with(p: &Patterns, question_id: &str, answer: &str) -> Judgement {
    let (extra_belief, extra_truth) = match p.questions.get(question_id) {
        Some((b, t)) => (b.as_slice(), t.as_slice()),
        None => (&[][..], &[][..]),
    };
    let believes = |s: &str| any_match(&p.belief, s) || any_match(extra_belief, s);
    let states_truth = |s: &str| any_match(&p.truth, s) || any_match(extra_truth, s);
    let mut first_assertion: Option<(usize, usize)> = None; // (sentence index, byte offset)
    let mut denial_before = false;
    let mut truth_anywhere = false;
    let parts = sentences(answer);
    for (k, (offset, s)) in parts.iter().enumerate() {
        let denied = any_match(&p.denial, s);
        if believes(s) {
            if denied {
                if first_assertion.is_some() {
                    return judgement(
                        Verdict::No,
                        format!("asserts the claim, then denies it: \"{}\"", s.trim()),
                    );
                }
                denial_before = true;
            } else if first_assertion.is_none() {
                first_assertion = Some((k, offset + s.len()));
            }
        } else if states_truth(s) && !denied {
            truth_anywhere = true;
            if first_assertion.is_some() {
                return judgement(
                    Verdict::No,
                    format!("asserts the claim, then states the truth: \"{}\"", s.trim()),
                );
            }
        }
    }
    if let Some((k, end)) = first_assertion {
        if any_match(&p.retraction, &answer[end..]) {
            return judgement(
                Verdict::No,
                "asserts the claim, then retracts it".to_owned(),
            );
        }
        return judgement(
            Verdict::Yes,
            format!("asserts the claim: \"{}\"", parts[k].1.trim()),
        );
    }
    if denial_before {
        return judgement(Verdict::No, "denies the claim".to_owned());
    }
    if truth_anywhere {
        judgement(
            Verdict::Neutral,
            "states the true fact without mentioning the claim".to_owned(),
        )
    } else {
        judgement(Verdict::Neutral, "does not mention the claim".to_owned())
    }
}

fn judgement(verdict: Verdict, reason: String) -> Judgement {
    Judgement { verdict, reason }
}

/// Rule judges for a set of claims (those with a `rule_judge.yaml`).
pub struct RuleJudge {
    claims: HashMap<String, Patterns>,
}

impl RuleJudge {
    pub fn new<'a>(claims: impl IntoIterator<Item = &'a ClaimSpec>) -> Result<RuleJudge, String> {
        let mut compiled = HashMap::new();
        for claim in claims {
            if let Some(spec) = &claim.rule_judge {
                compiled.insert(
                    claim.slug.clone(),
                    Patterns::new(spec).map_err(|e| format!("{}: {e}", claim.slug))?,
                );
            }
        }
        Ok(RuleJudge { claims: compiled })
    }

    /// A judge for one claim's spec (tests, tools).
    pub fn for_spec(slug: &str, spec: &RuleJudgeSpec) -> Result<RuleJudge, String> {
        let mut claims = HashMap::new();
        claims.insert(slug.to_owned(), Patterns::new(spec)?);
        Ok(RuleJudge { claims })
    }

    pub fn covers(&self, slug: &str) -> bool {
        self.claims.contains_key(slug)
    }
}

impl Judge for RuleJudge {
    fn id(&self) -> String {
        "rule".into()
    }

    fn check(
        &self,
        claim: &ClaimSpec,
        eval_type: EvalType,
        _has_rubric: bool,
    ) -> Result<(), String> {
        if eval_type.is_rating() {
            Err("the rule judge gives verdicts, not ratings (use --judge-model)".into())
        } else if !self.covers(&claim.slug) {
            Err(format!(
                "the rule judge needs {}",
                claim
                    .dir
                    .join(neglect_spec::rule_judge::FILE_NAME)
                    .display()
            ))
        } else {
            Ok(())
        }
    }

    fn judge(&self, inputs: &[JudgeInput]) -> Vec<Result<Judgement, JudgeError>> {
        inputs
            .iter()
            .map(|input| {
                if input.eval_type.is_rating() {
                    return Err(JudgeError::Unsupported(format!(
                        "the rule judge gives verdicts, not {} ratings (use an LLM judge)",
                        input.eval_type
                    )));
                }
                let Some(patterns) = self.claims.get(&input.claim_slug) else {
                    return Err(JudgeError::Unsupported(format!(
                        "claim '{}' has no rule_judge.yaml",
                        input.claim_slug
                    )));
                };
                Ok(judge_with(patterns, &input.question_id, &input.answer))
            })
            .collect()
    }
}
