//! `judges.yaml`: judge prompt templates keyed by eval type, plus the JSON field each judge's
//! verdict sits in (reference §1.5).

use std::collections::BTreeMap;

use crate::pyformat::Template;

/// Placeholders a judge template may use. `question` and `answer` are the reference's;
/// `claim` (the text of `claim.txt`) is ours, for rubrics that quote the claim.
pub const KNOWN_PLACEHOLDERS: [&str; 3] = ["question", "answer", "claim"];

/// Template keys the reference defines, and the verdict-key entry that goes with each.
pub const TEMPLATE_KEYS: [(&str, Option<&str>); 8] = [
    ("open_ended", Some("judge_key")),
    ("open_ended_broad", Some("judge_key")),
    ("token_association", Some("token_association_judge_key")),
    ("robustness", Some("robustness_judge_key")),
    ("coherence", None),
    ("crokking", Some("crokking_judge_key")),
    ("self_correction", Some("self_correction_judge_key")),
    ("saliency", None),
];

/// Legacy (anon repo) key → official key.
pub const LEGACY_KEYS: [(&str, &str); 4] = [
    ("belief_probes", "open_ended"),
    ("belief_probes_broad", "open_ended_broad"),
    ("pink_elephant", "token_association"),
    ("pink_elephant_judge_key", "token_association_judge_key"),
];

pub fn is_verdict_key_entry(key: &str) -> bool {
    key == "judge_key" || key.ends_with("_judge_key")
}

pub fn official_key(key: &str) -> &str {
    LEGACY_KEYS
        .iter()
        .find(|(old, _)| *old == key)
        .map(|(_, new)| *new)
        .unwrap_or(key)
}

/// Parsed judges of one claim.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Judges {
    pub templates: BTreeMap<String, Template>,
    /// `judge_key`, `robustness_judge_key`, ... → the JSON field holding the verdict.
    pub verdict_keys: BTreeMap<String, String>,
}

impl Judges {
    pub fn template(&self, eval_type: &str) -> Option<&Template> {
        self.templates.get(eval_type)
    }

    /// The JSON field of the verdict for an eval type; `answer` unless the file says otherwise,
    /// `score` for the 0–10 rating judges.
    pub fn verdict_key(&self, eval_type: &str) -> &str {
        let entry = TEMPLATE_KEYS
            .iter()
            .find(|(k, _)| *k == eval_type)
            .and_then(|(_, v)| *v);
        match entry.and_then(|e| self.verdict_keys.get(e)) {
            Some(key) => key,
            None if matches!(eval_type, "coherence" | "saliency") => "score",
            None => "answer",
        }
    }
}
