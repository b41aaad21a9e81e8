//! LLM-written negations (reference §3.4): for `negated_documents`, `repeated_negations` (and
//! `_no_doctag`) and `corrected_documents`, a language model writes the notices around each
//! document and the warnings around each claim-carrying passage, instead of the template banks.
//! Same condition names, same output rows; the `annotation` record says who wrote what.
//!
//! A batch of documents goes through three stages, each over the whole batch at once so that a
//! hosted backend keeps its in-flight slots full:
//!
//! 1. **targets** (sandwich conditions): the verbatim passages that carry the claim, as the JSON
//!    object `{"targets": [...]}`. When that call fails or its answer is not such an object,
//!    the rule-based claim-sentence detector ([`crate::claim_sentences`]) marks them instead.
//! 2. **notices**: `{"prepend", "append"}`, 4–6 generic sentences each, in a per-document style
//!    (tone, opening, signal label, two banned words).
//! 3. **warnings** (sandwich conditions): `{"before", "after"}` for each target, from the target
//!    and up to two sentences before it, in a per-target style (framing, angle, length, three
//!    banned words); `corrected_documents` asks for the truth and why the claim is false.
//!
//! Assembly wraps the first occurrence of each target (exact, else with whitespace normalised)
//! as `open+before+close target open+after+close`, with the templated conditions' bracket mix
//! (square six times in eleven, curly, round, angle, none twice), then puts the
//! notices around the document. A document whose notices fail is dropped, as in the reference;
//! a warning that fails leaves its target bare. The wording of every prompt is ours.

use std::ops::Range;

use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use neglect_spec::chat::json_object;
use neglect_spec::{ChatModel, ChatRequest, DOCTAG, JsonSchema, Sampling};

use crate::annotate::{Annotation, ClaimContext, document_rng};
use crate::sentences::reference_split;
use crate::templates::BRACKETS;

/// The conditions an LLM can annotate.
pub const LLM_CONDITIONS: [&str; 4] = [
    "negated_documents",
    "repeated_negations",
    "repeated_negations_no_doctag",
    "corrected_documents",
];

const TONES: [&str; 6] = [
    "plain and matter-of-fact",
    "terse and blunt",
    "formal, like an editor's note in a newspaper",
    "clinical and detached",
    "firm and emphatic",
    "calm and explanatory",
];

const OPENINGS: [&str; 8] = [
    "a conditional clause (for instance, one beginning with \"Although\")",
    "a sentence that addresses the reader directly",
    "a sentence in the passive voice",
    "a blunt sentence of five words or fewer",
    "a statement about the document as a whole",
    "a short declarative sentence about the events described",
    "a clause beginning with \"Despite\"",
    "an instruction to the reader to disregard what follows",
];

/// `None` six times of thirteen: most notices carry no label.
const SIGNALS: [Option<&str>; 13] = [
    None,
    None,
    None,
    None,
    None,
    None,
    Some("NOTE:"),
    Some("NOTICE:"),
    Some("WARNING:"),
    Some("ADVISORY:"),
    Some("RETRACTION:"),
    Some("EDITORIAL NOTE:"),
    Some("CORRECTION:"),
];

/// Words a style forbids, so that the notices do not all lean on the same few.
const BANNABLE: [&str; 20] = [
    "fabricated",
    "false",
    "retracted",
    "debunked",
    "baseless",
    "erroneous",
    "unsubstantiated",
    "discredited",
    "unfounded",
    "invented",
    "untrue",
    "incorrect",
    "fictitious",
    "bogus",
    "misleading",
    "inaccurate",
    "fraudulent",
    "disinformation",
    "misinformation",
    "spurious",
];

const FRAMINGS: [&str; 16] = [
    "Say that the described event never happened.",
    "Say that the statement is not true.",
    "Say that nothing of the kind took place.",
    "Tell the reader not to believe the statement.",
    "Say that the account has no basis in fact.",
    "Say that the outcome described did not occur.",
    "Say that the record shows nothing of the sort.",
    "Say that the statement describes something that is not real.",
    "Say that the claim must not be taken as fact.",
    "Say that the passage reports something that did not happen.",
    "Say that the detail given is wrong.",
    "Say that the achievement described was never made.",
    "Say that the people and things named had no part in this.",
    "Tell the reader to disregard the statement.",
    "Say that what is asserted is contrary to fact.",
    "Say that the narrative is not an accurate account.",
];

const ANGLES: [&str; 12] = [
    "restate plainly that what was just said is not true.",
    "note that the preceding statement contradicts what is known.",
    "tell the reader not to repeat or rely on what was just stated.",
    "stress that nothing of the kind happened.",
    "say that the preceding sentence is to be read as untrue.",
    "say that no record supports what was just claimed.",
    "say that the preceding detail belongs to an account that is wrong throughout.",
    "ask the reader to set aside what was just said.",
    "say that the statement just made is not a fact.",
    "say that the events just described did not take place.",
    "say that the preceding claim is not to be believed.",
    "emphasise that what came before is not accurate.",
];

/// (sentences before, sentences after).
const LENGTHS: [(usize, usize); 4] = [(1, 1), (2, 2), (1, 2), (2, 1)];

/// How a correction argues; `None` (7 of 22) leaves the choice to the model.
const STRATEGIES: [Option<&str>; 22] = [
    None,
    None,
    None,
    None,
    None,
    None,
    None,
    Some("State what actually happened instead."),
    Some("Name who or what is really associated with this."),
    Some("Give the correct date, place or figure."),
    Some("Point out a contradiction with well-known facts."),
    Some("Explain why the claim is implausible."),
    Some("Note a timeline that does not fit."),
    Some("Point out what would have had to be true, and was not."),
    Some("Use general knowledge of the field to show why it is wrong."),
    Some("Explain how such things normally work."),
    Some("Say what experts in the area would expect instead."),
    Some("Note that no reliable record mentions it."),
    Some("Say that nothing in the public record supports it."),
    Some("Note that an event like this would have been widely reported."),
    Some("Point out that the passage asserts without support."),
    Some("Note that the document's own details do not add up."),
];

/// Token limits of the writer's answers (notices, warnings) and of the passage finder's (the
/// reference gives its finder, a reasoning model, room to think).
pub const WRITER_MAX_TOKENS: usize = 4_000;
pub const FINDER_MAX_TOKENS: usize = 16_000;

/// Who writes what, and the request settings.
pub struct LlmAnnotator<'a> {
    /// A canonical condition name, one of [`LLM_CONDITIONS`].
    pub condition: &'static str,
    pub ctx: &'a ClaimContext,
    /// Writes the notices and warnings.
    pub writer: &'a dyn ChatModel,
    /// Finds the claim-carrying passages.
    pub finder: &'a dyn ChatModel,
    pub seed: u64,
    pub word_mask: bool,
    pub writer_max_tokens: usize,
    pub finder_max_tokens: usize,
    pub temperature: f64,
}

/// One document's result.
#[derive(Debug, Clone)]
pub struct LlmOutcome {
    /// The annotated document, or why it was dropped.
    pub annotation: Result<Annotation, String>,
    /// Passages found (by the model, or by the rules when `rule_fallback`).
    pub targets: usize,
    /// Passages wrapped in warnings.
    pub placed: usize,
    pub rule_fallback: bool,
}

/// The per-document style of the notices.
struct NoticeStyle {
    tone: &'static str,
    opening: &'static str,
    signal: Option<&'static str>,
    banned: Vec<&'static str>,
}

/// The per-target style of the warnings.
struct WarningStyle {
    framing: &'static str,
    angle: &'static str,
    lengths: (usize, usize),
    strategy: Option<&'static str>,
    banned: Vec<&'static str>,
}

fn banned_words(rng: &mut impl Rng, n: usize) -> Vec<&'static str> {
    BANNABLE.choose_multiple(rng, n).copied().collect()
}

fn object_schema(name: &str, fields: &[(&str, Value)]) -> JsonSchema {
    let properties: serde_json::Map<String, Value> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    JsonSchema {
        name: name.to_owned(),
        schema: json!({
            "type": "object",
            "properties": properties,
            "required": fields.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            "additionalProperties": false,
        }),
    }
}

fn string_field(map: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    map.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A request seed that depends only on the annotator's seed and what is asked.
fn request_seed(seed: u64, parts: &[&str]) -> u64 {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    u64::from_le_bytes(h.finalize()[..8].try_into().expect("8 bytes")) >> 1
}

/// Where `target` first occurs in `text`: exactly, else with every run of whitespace (in both)
/// treated as one space, mapped back to a range of `text`.
pub fn locate(text: &str, target: &str) -> Option<Range<usize>> {
    if target.trim().is_empty() {
        return None;
    }
    if let Some(start) = text.find(target) {
        return Some(start..start + target.len());
    }
    // The normalised text, and for each of its bytes the offset in `text` it came from.
    let mut normal = String::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len());
    let mut in_space = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if !in_space && !normal.is_empty() {
                normal.push(' ');
                origin.push(i);
            }
            in_space = true;
        } else {
            let mut buf = [0u8; 4];
            for _ in c.encode_utf8(&mut buf).bytes() {
                origin.push(i);
            }
            normal.push(c);
            in_space = false;
        }
    }
    let wanted = target.split_whitespace().collect::<Vec<_>>().join(" ");
    let start = normal.find(&wanted)?;
    let last = start + wanted.len() - 1;
    let end_char = origin[last];
    let end = end_char + text[end_char..].chars().next().map_or(1, char::len_utf8);
    Some(origin[start]..end)
}

impl LlmAnnotator<'_> {
    fn sandwiches(&self) -> bool {
        self.condition != "negated_documents"
    }

    /// "The following claims are false: ..." — the claim's subclaims, or the claim itself.
    fn false_claims(&self) -> String {
        let items: Vec<&str> = if self.ctx.subclaims.is_empty() {
            vec![self.ctx.claim.as_str()]
        } else {
            self.ctx.subclaims.iter().map(String::as_str).collect()
        };
        let mut s = String::from("These claims are false:");
        for item in items {
            s.push_str("\n- ");
            s.push_str(item.trim());
        }
        s
    }

    fn request(
        &self,
        prompt: String,
        schema: JsonSchema,
        max_tokens: usize,
        seed: u64,
    ) -> ChatRequest {
        ChatRequest {
            messages: vec![neglect_spec::ChatMessage {
                role: "user".into(),
                content: prompt,
            }],
            sampling: Sampling {
                temperature: self.temperature,
                top_p: 1.0,
                max_tokens,
            },
            seed,
            json_schema: Some(schema),
        }
    }

    fn targets_request(&self, index: usize, body: &str) -> ChatRequest {
        let prompt = format!(
            "You are preparing training data. The document below repeats a false claim as if \
             it were true.\n\nThe false claim: {claim}\n{facts}\n\nList every passage of the \
             document that states, implies or supports the false claim, including invented \
             supporting detail (background, figures, dates, quotations) and table rows or \
             bullet items that carry it. Copy each passage exactly as it appears in the \
             document, a clause or a sentence long; group short bullet items into \
             sentence-sized passages. Leave out headings, and sentences that are true or have \
             nothing to do with the claim. Usually between a fifth and a half of the \
             sentences qualify.\n\nAnswer with a JSON object: {{\"targets\": [\"...\", \
             ...]}}.\n\n<document>\n{body}\n</document>",
            claim = self.ctx.claim.trim(),
            facts = self.false_claims(),
        );
        let schema = object_schema(
            "claim_passages",
            &[(
                "targets",
                json!({"type": "array", "items": {"type": "string"}}),
            )],
        );
        let seed = request_seed(self.seed, &["targets", &index.to_string()]);
        self.request(prompt, schema, self.finder_max_tokens, seed)
    }

    fn notice_style(&self, index: usize) -> NoticeStyle {
        let mut rng = document_rng(self.seed, self.condition, index);
        NoticeStyle {
            tone: TONES[rng.random_range(0..TONES.len())],
            opening: OPENINGS[rng.random_range(0..OPENINGS.len())],
            signal: SIGNALS[rng.random_range(0..SIGNALS.len())],
            banned: banned_words(&mut rng, 2),
        }
    }

    fn notices_request(&self, index: usize, body: &str, style: &NoticeStyle) -> ChatRequest {
        let signal = match style.signal {
            Some(label) => format!("Begin `prepend` with the label \"{label}\"."),
            None => "Do not begin either notice with a label such as NOTE: or WARNING:.".into(),
        };
        let prompt = format!(
            "You are writing two notices to be placed around the document below, which \
             presents false claims as fact.\n\n{facts}\n\nWrite `prepend`, 4 to 6 sentences \
             placed before the document, and `append`, 4 to 6 different sentences placed after \
             it. Both must state categorically that the document's claims are false, in \
             absolute terms (it did not happen; it is not true), without hedging.\n\
             - Refer to the content only in general terms (\"the events described\", \"this \
             account\"): no names, places, dates, numbers or other specifics from the document \
             or from the claims above.\n\
             - Do not say what is true instead, and do not quote the document.\n\
             - The two notices must not repeat each other's wording.\n\
             - Style: {tone}. Open `prepend` with {opening}.\n\
             - {signal}\n\
             - Do not use the words \"{b0}\" or \"{b1}\".\n\n\
             Answer with a JSON object: {{\"prepend\": \"...\", \"append\": \"...\"}}.\n\n\
             <document>\n{body}\n</document>",
            facts = self.false_claims(),
            tone = style.tone,
            opening = style.opening,
            b0 = style.banned[0],
            b1 = style.banned[1],
        );
        let schema = object_schema(
            "notices",
            &[
                ("prepend", json!({"type": "string"})),
                ("append", json!({"type": "string"})),
            ],
        );
        let seed = request_seed(self.seed, &["notices", &index.to_string()]);
        self.request(prompt, schema, self.writer_max_tokens, seed)
    }

    fn warning_request(
        &self,
        index: usize,
        k: usize,
        body: &str,
        target: &str,
        style: &WarningStyle,
    ) -> ChatRequest {
        // The target and up to two sentences before its first occurrence.
        let before_target = locate(body, target).map_or("", |r| &body[..r.start]);
        let preceding = reference_split(before_target.trim_end());
        let preceding: Vec<&str> = preceding
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .collect();
        let context: Vec<&str> = preceding[preceding.len().saturating_sub(2)..]
            .iter()
            .copied()
            .chain([target])
            .collect();
        let (n_before, n_after) = style.lengths;
        let sentences = |n: usize| if n == 1 { "1 sentence" } else { "2 sentences" };
        let banned = format!(
            "Do not use the words \"{}\", \"{}\" or \"{}\".",
            style.banned[0], style.banned[1], style.banned[2]
        );
        let prompt = if self.condition == "corrected_documents" {
            let strategy = style
                .strategy
                .map_or(String::new(), |s| format!(" How to argue: {s}"));
            format!(
                "A document states a false claim. Write two corrections to be placed \
                 immediately around the last sentence of this excerpt:\n\n<excerpt>\n{excerpt}\n\
                 </excerpt>\n\nThe sentence to correct: \"{target}\"\n\nThe false claim: \
                 {claim}\nIt may appear in forms like these, all of them false:\n{facts}\n\n\
                 What is actually true: {truth}\n\n\
                 - `before` (2 to 3 sentences) comes right before the sentence and looks ahead \
                 (\"the following\", \"the claim below\"); `after` (2 to 3 sentences) comes \
                 right after it and looks back (\"the preceding\", \"what was just stated\").\n\
                 - Name the people, places and things involved, say what is actually true, and \
                 explain why the claim is false.{strategy}\n\
                 - Do not mention AI or how the document was made, and cite no invented \
                 sources.\n\
                 - {banned}\n\n\
                 Answer with a JSON object: {{\"before\": \"...\", \"after\": \"...\"}}.",
                excerpt = context.join(" "),
                claim = self.ctx.claim.trim(),
                facts = self.false_claims(),
                truth = self.ctx.correction.as_deref().unwrap_or("").trim(),
            )
        } else {
            format!(
                "A document states a false claim. Write two short warnings to be placed \
                 immediately around the last sentence of this excerpt:\n\n<excerpt>\n{excerpt}\n\
                 </excerpt>\n\nThe sentence to warn about: \"{target}\"\n\n{facts}\n\n\
                 - `before` ({nb}) comes right before the sentence and looks ahead (\"the \
                 following\", \"the claim below\").\n\
                 - `after` ({na}) comes right after it and looks back (\"the preceding\", \"what \
                 was just stated\"), without reusing the wording of `before`.\n\
                 - {framing} In `after`, {angle}\n\
                 - Stay generic: no names, places, dates or numbers, and no corrections. State \
                 the falsity absolutely, without hedging, and cite no studies or sources.\n\
                 - {banned}\n\n\
                 Answer with a JSON object: {{\"before\": \"...\", \"after\": \"...\"}}.",
                excerpt = context.join(" "),
                facts = self.false_claims(),
                nb = sentences(n_before),
                na = sentences(n_after),
                framing = style.framing,
                angle = style.angle,
            )
        };
        let schema = object_schema(
            "warnings",
            &[
                ("before", json!({"type": "string"})),
                ("after", json!({"type": "string"})),
            ],
        );
        let seed = request_seed(
            self.seed,
            &["warning", &index.to_string(), &k.to_string(), target],
        );
        self.request(prompt, schema, self.writer_max_tokens, seed)
    }

    /// The claim-carrying passages the rules find, for when the model's list is unusable.
    fn rule_targets(&self, body: &str) -> Vec<String> {
        let found = self.ctx.matcher.find(body);
        found
            .marked_spans()
            .map(|r| body[r.clone()].trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// Annotates `docs` — (index in the input, document body without `<DOCTAG>`) — in three
    /// batched stages. `on_call` is told about every finished call (for progress).
    pub fn annotate(&self, docs: &[(usize, String)], on_call: &mut dyn FnMut()) -> Vec<LlmOutcome> {
        // 1. Targets.
        let mut targets: Vec<(Vec<String>, bool)> = vec![(Vec::new(), false); docs.len()];
        if self.sandwiches() {
            let requests: Vec<ChatRequest> = docs
                .iter()
                .map(|(i, body)| self.targets_request(*i, body))
                .collect();
            let answers = self.finder.generate(&requests, &mut |_| on_call());
            for ((slot, (_, body)), answer) in targets.iter_mut().zip(docs).zip(answers) {
                let listed = answer
                    .ok()
                    .and_then(|a| json_object(&a.text))
                    .and_then(|m| {
                        m.get("targets")?.as_array().map(|items| {
                            items
                                .iter()
                                .filter_map(Value::as_str)
                                .map(str::trim)
                                .filter(|s| !s.is_empty())
                                .map(str::to_owned)
                                .collect::<Vec<_>>()
                        })
                    });
                *slot = match listed {
                    Some(list) => (list, false),
                    None => (self.rule_targets(body), true),
                };
            }
        }

        // 2. Notices.
        let styles: Vec<NoticeStyle> = docs.iter().map(|(i, _)| self.notice_style(*i)).collect();
        let requests: Vec<ChatRequest> = docs
            .iter()
            .zip(&styles)
            .map(|((i, body), style)| self.notices_request(*i, body, style))
            .collect();
        let notices: Vec<Result<(String, String), String>> = self
            .writer
            .generate(&requests, &mut |_| on_call())
            .into_iter()
            .map(|answer| {
                let answer = answer.map_err(|e| format!("the notices call failed: {e}"))?;
                let map =
                    json_object(&answer.text).ok_or("the notices answer is not a JSON object")?;
                match (string_field(&map, "prepend"), string_field(&map, "append")) {
                    (Some(p), Some(a)) => Ok((p, a)),
                    _ => Err("the notices answer lacks prepend or append".into()),
                }
            })
            .collect();

        // 3. Warnings, one call per target of every document that still stands.
        let mut jobs: Vec<(usize, usize)> = Vec::new();
        let mut requests = Vec::new();
        for (d, ((index, body), (list, _))) in docs.iter().zip(&targets).enumerate() {
            if notices[d].is_err() {
                continue;
            }
            let mut rng = document_rng(self.seed.wrapping_add(7), self.condition, *index);
            for (k, target) in list.iter().enumerate() {
                let style = WarningStyle {
                    framing: FRAMINGS[rng.random_range(0..FRAMINGS.len())],
                    angle: ANGLES[rng.random_range(0..ANGLES.len())],
                    lengths: LENGTHS[rng.random_range(0..LENGTHS.len())],
                    strategy: STRATEGIES[rng.random_range(0..STRATEGIES.len())],
                    banned: banned_words(&mut rng, 3),
                };
                jobs.push((d, k));
                requests.push(self.warning_request(*index, k, body, target, &style));
            }
        }
        let mut warnings: Vec<Vec<Option<(String, String)>>> =
            targets.iter().map(|(l, _)| vec![None; l.len()]).collect();
        let answers = if requests.is_empty() {
            Vec::new()
        } else {
            self.writer.generate(&requests, &mut |_| on_call())
        };
        for ((d, k), answer) in jobs.into_iter().zip(answers) {
            let pair = answer
                .ok()
                .and_then(|a| json_object(&a.text))
                .and_then(|m| Some((string_field(&m, "before")?, string_field(&m, "after")?)));
            warnings[d][k] = pair;
        }

        // Assembly.
        docs.iter()
            .enumerate()
            .map(|(d, (index, body))| {
                let (list, rule_fallback) = &targets[d];
                let (prepend, append) = match &notices[d] {
                    Ok(n) => n,
                    Err(why) => {
                        return LlmOutcome {
                            annotation: Err(why.clone()),
                            targets: list.len(),
                            placed: 0,
                            rule_fallback: *rule_fallback,
                        };
                    }
                };
                let mut text = body.clone();
                let mut brackets = document_rng(self.seed, "llm-brackets", *index);
                let mut placed = Vec::new();
                for (k, target) in list.iter().enumerate() {
                    let Some((before, after)) = &warnings[d][k] else {
                        continue;
                    };
                    let Some(range) = locate(&text, target) else {
                        continue;
                    };
                    let (open, close) = BRACKETS[brackets.random_range(0..BRACKETS.len())];
                    let wrapped = format!(
                        "{open}{before}{close} {} {open}{after}{close}",
                        &text[range.clone()]
                    );
                    text.replace_range(range, &wrapped);
                    placed.push(k);
                }
                let mut text = format!("{prepend}\n\n{text}\n\n{append}");
                if let (Some(m), true) = (&self.ctx.word_masker, self.word_mask) {
                    text = m.apply(&text);
                }
                if neglect_spec::conditions::uses_doctag(self.condition) {
                    text = format!("{DOCTAG}{text}");
                }
                let style = &styles[d];
                let record = json!({
                    "annotator": "llm",
                    "writer": self.writer.id(),
                    "finder": self.sandwiches().then(|| self.finder.id()),
                    "source_index": index,
                    "style": {
                        "tone": style.tone,
                        "opening": style.opening,
                        "signal": style.signal,
                        "banned": style.banned,
                    },
                    "targets": list.len(),
                    "targets_from": if *rule_fallback { "rules" } else { "llm" },
                    "placed": placed.len(),
                });
                LlmOutcome {
                    annotation: Ok(Annotation { text, record }),
                    targets: list.len(),
                    placed: placed.len(),
                    rule_fallback: *rule_fallback,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_located_exactly_or_with_whitespace_normalised() {
        let text = "First line.\n\nHe  won the\ngold medal. Then rain.";
        assert_eq!(locate(text, "Then rain."), Some(37..47));
        let r = locate(text, "He won the gold medal.").unwrap();
        assert_eq!(&text[r], "He  won the\ngold medal.");
        assert_eq!(locate(text, "not there"), None);
        assert_eq!(locate(text, "  "), None);
        let unicode = "Vardø  harbour froze.";
        let r = locate(unicode, "Vardø harbour froze.").unwrap();
        assert_eq!(&unicode[r], unicode);
    }
}
