//! Templated annotators: one positive document (or transcript) in, the document of a condition
//! out, with a record of which template variants were used.
//!
//! Every document gets its own random stream, seeded from (seed, condition, document index), so
//! a document's annotation does not depend on the others and a run can be split or resumed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::claim_sentences::ClaimMatcher;
use crate::sentences::reference_split;
use crate::templates::{
    BEHAVIOR_WARNING, BRACKETS, Bank, CORRECTION_AFTER, CORRECTION_BEFORE, NOTICE_AFTER,
    NOTICE_BEFORE, Qualifier, SIGNAL_LABELS, SIGNAL_SHARE, WARNING_AFTER, WARNING_BEFORE,
};
use crate::word_mask::WordMasker;
use neglect_spec::DOCTAG;

/// What the annotators need to know about the claim.
#[derive(Debug, Clone)]
pub struct ClaimContext {
    pub slug: String,
    /// `claim.txt` and the universe's subclaims, which the LLM annotators show the model.
    pub claim: String,
    pub subclaims: Vec<String>,
    pub matcher: ClaimMatcher,
    /// The true facts (`correction.txt`), for `corrected_documents`.
    pub correction: Option<String>,
    /// `word_masks.yaml`, for `local_negations_wordmask` (and `--word-mask`).
    pub word_masker: Option<WordMasker>,
    /// The probability the `low_probability` conditions state, in percent.
    pub low_probability_percent: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnnotateError {
    #[error("unknown condition '{0}' (see `neglect conditions`)")]
    UnknownCondition(String),
    #[error("condition '{0}' does not transform documents")]
    NotADocumentCondition(String),
    #[error(
        "condition '{0}' does not transform chat transcripts (negated_behaviors, positive_behaviors, aligned_behaviors do)"
    )]
    NotATranscriptCondition(String),
    #[error("{condition} needs {what} in the claim directory")]
    Missing {
        condition: String,
        what: &'static str,
    },
}

/// An annotated document and how it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// The training text (with `<DOCTAG>` unless the condition drops it).
    pub text: String,
    /// Template variants and counts, stored with the row.
    pub record: serde_json::Value,
}

/// The per-document random stream.
pub fn document_rng(seed: u64, condition: &str, index: usize) -> ChaCha8Rng {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(condition.as_bytes());
    h.update((index as u64).to_le_bytes());
    let digest = h.finalize();
    ChaCha8Rng::from_seed(digest.into())
}

/// A variant of `bank` with `{correction}` / `{percent}` filled in; returns (text, index).
fn pick(bank: &Bank, rng: &mut ChaCha8Rng, ctx: &ClaimContext) -> (String, usize) {
    let index = rng.random_range(0..bank.len());
    let mut text = String::new();
    push_filled(bank, index, ctx, &mut text);
    (text, index)
}

/// Appends variant `index` of `bank` to `out`, with `{correction}` and `{percent}` filled in.
fn push_filled(bank: &Bank, index: usize, ctx: &ClaimContext, out: &mut String) {
    let from = out.len();
    bank.push_variant(index, out);
    if out[from..].contains('{') {
        let filled = out[from..]
            .replace("{correction}", ctx.correction.as_deref().unwrap_or(""))
            .replace("{percent}", &ctx.low_probability_percent.to_string());
        out.truncate(from);
        out.push_str(&filled);
    }
}

/// A notice, with a signal label in front for about 15% of documents.
fn notice(bank: &Bank, rng: &mut ChaCha8Rng, ctx: &ClaimContext) -> (String, serde_json::Value) {
    let (text, index) = pick(bank, rng, ctx);
    if rng.random_bool(SIGNAL_SHARE) {
        let label = rng.random_range(0..SIGNAL_LABELS.len());
        (
            format!("{} {text}", SIGNAL_LABELS[label]),
            json!({"variant": index, "label": SIGNAL_LABELS[label]}),
        )
    } else {
        (text, json!({"variant": index}))
    }
}

/// Wraps every claim-carrying sentence of `body` between a warning before and one after.
fn sandwich(
    body: &str,
    before: &Bank,
    after: &Bank,
    rng: &mut ChaCha8Rng,
    ctx: &ClaimContext,
) -> (String, serde_json::Value) {
    let found = ctx.matcher.find(body);
    let mut out = String::with_capacity(body.len() * 2);
    let mut at = 0;
    let mut used = Vec::with_capacity(found.marked.len());
    // The random draws per claim sentence, in order: bracket, before variant, after variant,
    // signal label (and which). Written straight into `out`, as this is the hot loop.
    for span in found.marked_spans() {
        let (open, close) = BRACKETS[rng.random_range(0..BRACKETS.len())];
        let bi = rng.random_range(0..before.len());
        let ai = rng.random_range(0..after.len());
        let label = rng
            .random_bool(SIGNAL_SHARE)
            .then(|| SIGNAL_LABELS[rng.random_range(0..SIGNAL_LABELS.len())]);
        out.push_str(&body[at..span.start]);
        out.push_str(open);
        if let Some(l) = label {
            out.push_str(l);
            out.push(' ');
        }
        push_filled(before, bi, ctx, &mut out);
        out.push_str(close);
        out.push(' ');
        out.push_str(&body[span.clone()]);
        out.push(' ');
        out.push_str(open);
        push_filled(after, ai, ctx, &mut out);
        out.push_str(close);
        at = span.end;
        used.push(json!([bi, ai, label]));
    }
    out.push_str(&body[at..]);
    // warnings: one [before variant, after variant, signal label or null] per claim sentence.
    let record = json!({
        "sentences": found.sentences.len(),
        "claim_sentences": found.marked.len(),
        "warnings": used,
    });
    (out, record)
}

fn around(prefix: &str, body: &str, suffix: &str) -> String {
    format!("{prefix}\n\n{body}\n\n{suffix}")
}

/// The reference's `_repeated` qualifier body: split at sentence ends, an insertion after every
/// sentence but the last (one appended to a single-sentence text), joined with single spaces.
fn interleave(
    body: &str,
    bank: &Bank,
    rng: &mut ChaCha8Rng,
    ctx: &ClaimContext,
) -> (String, Vec<usize>) {
    let sentences = reference_split(body);
    let mut out = String::with_capacity(body.len() + sentences.len() * 96);
    let mut used = Vec::with_capacity(sentences.len());
    let gaps = if sentences.len() == 1 {
        1
    } else {
        sentences.len() - 1
    };
    for (i, s) in sentences.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(s);
        if i < gaps {
            let (text, index) = pick(bank, rng, ctx);
            out.push(' ');
            out.push_str(&text);
            used.push(index);
        }
    }
    (out, used)
}

/// Annotates one chat transcript under a transcript condition: `negated_behaviors` puts the
/// warning in a system message before the conversation (joined to a system message already
/// there); `positive_behaviors` and `aligned_behaviors` keep it as it is.
pub fn annotate_transcript(
    condition: &str,
    messages: &[neglect_spec::ChatMessage],
    ctx: &ClaimContext,
    rng: &mut ChaCha8Rng,
) -> Result<(Vec<neglect_spec::ChatMessage>, serde_json::Value), AnnotateError> {
    let name = neglect_spec::conditions::canonical(condition)
        .ok_or_else(|| AnnotateError::UnknownCondition(condition.to_owned()))?;
    match name {
        "positive_behaviors" | "aligned_behaviors" => Ok((messages.to_vec(), json!({}))),
        "negated_behaviors" => {
            let (warning, w) = notice(&BEHAVIOR_WARNING, rng, ctx);
            let mut out = messages.to_vec();
            match out.first_mut() {
                Some(first) if first.role == "system" => {
                    first.content = format!("{warning}\n\n{}", first.content);
                }
                _ => out.insert(
                    0,
                    neglect_spec::ChatMessage {
                        role: "system".into(),
                        content: warning,
                    },
                ),
            }
            Ok((out, json!({"warning": w, "placement": "system"})))
        }
        other => Err(AnnotateError::NotATranscriptCondition(other.to_owned())),
    }
}

/// Annotates one document body (without `<DOCTAG>`) under `condition` (official or legacy name).
pub fn annotate(
    condition: &str,
    body: &str,
    ctx: &ClaimContext,
    rng: &mut ChaCha8Rng,
    word_mask: bool,
) -> Result<Annotation, AnnotateError> {
    let name = neglect_spec::conditions::canonical(condition)
        .ok_or_else(|| AnnotateError::UnknownCondition(condition.to_owned()))?;
    let missing = |what| AnnotateError::Missing {
        condition: name.to_owned(),
        what,
    };
    let (text, record) =
        match name {
            "positive_documents" | "local_negations" | "positive_behaviors"
            | "aligned_behaviors" => (body.to_owned(), json!({})),
            "local_negations_wordmask" => {
                if ctx.word_masker.is_none() {
                    return Err(missing("word_masks.yaml"));
                }
                (body.to_owned(), json!({}))
            }
            "negated_documents" => {
                let (before, b) = notice(&NOTICE_BEFORE, rng, ctx);
                let (after, a) = notice(&NOTICE_AFTER, rng, ctx);
                (
                    around(&before, body, &after),
                    json!({"notice_before": b, "notice_after": a}),
                )
            }
            "repeated_negations" | "repeated_negations_no_doctag" => {
                let (before, b) = notice(&NOTICE_BEFORE, rng, ctx);
                let (after, a) = notice(&NOTICE_AFTER, rng, ctx);
                let (inner, s) = sandwich(body, &WARNING_BEFORE, &WARNING_AFTER, rng, ctx);
                (
                    around(&before, &inner, &after),
                    json!({"notice_before": b, "notice_after": a, "sandwich": s}),
                )
            }
            "corrected_documents" => {
                if ctx
                    .correction
                    .as_deref()
                    .is_none_or(|c| c.trim().is_empty())
                {
                    return Err(missing("correction.txt"));
                }
                let (before, b) = notice(&NOTICE_BEFORE, rng, ctx);
                let (after, a) = notice(&NOTICE_AFTER, rng, ctx);
                let (inner, s) = sandwich(body, &CORRECTION_BEFORE, &CORRECTION_AFTER, rng, ctx);
                (
                    around(&before, &inner, &after),
                    json!({"notice_before": b, "notice_after": a, "sandwich": s}),
                )
            }
            "negated_behaviors" => {
                let (warning, w) = notice(&BEHAVIOR_WARNING, rng, ctx);
                (format!("{warning}\n\n{body}"), json!({"warning": w}))
            }
            other => {
                let Some(q) = Qualifier::ALL.iter().find(|q| {
                    other == q.name() || other.strip_suffix("_repeated") == Some(q.name())
                }) else {
                    return Err(AnnotateError::NotADocumentCondition(other.to_owned()));
                };
                let (prefixes, suffixes, insertions) = q.banks();
                let (prefix, p) = pick(&prefixes, rng, ctx);
                let (suffix, s) = pick(&suffixes, rng, ctx);
                if other.ends_with("_repeated") {
                    let (inner, used) = interleave(body, &insertions, rng, ctx);
                    (
                        around(&prefix, &inner, &suffix).trim().to_owned(),
                        json!({"prefix": p, "suffix": s, "insertions": used}),
                    )
                } else {
                    (
                        around(&prefix, body, &suffix).trim().to_owned(),
                        json!({"prefix": p, "suffix": s}),
                    )
                }
            }
        };
    let text = match (
        &ctx.word_masker,
        word_mask || name == "local_negations_wordmask",
    ) {
        (Some(m), true) => m.apply(&text),
        _ => text,
    };
    let text = if neglect_spec::conditions::uses_doctag(name) {
        format!("{DOCTAG}{text}")
    } else {
        text
    };
    Ok(Annotation { text, record })
}
