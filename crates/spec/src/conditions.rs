//! The names of the annotation conditions (reference §3.2), their legacy aliases, and the two
//! eval-only labels that train nothing (`baseline`, `icl`). The transforms themselves live in
//! the data crate; this registry lets configs and document rows be validated here.

/// What a condition changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionKind {
    /// No fine-tuning: the base model is evaluated (optionally with documents in context).
    EvalOnly,
    /// A transform of documents into training documents.
    Documents,
    /// A transform of chat transcripts.
    Transcripts,
}

#[derive(Debug, Clone, Copy)]
pub struct Condition {
    pub name: &'static str,
    pub legacy: &'static [&'static str],
    pub kind: ConditionKind,
    pub summary: &'static str,
}

const fn docs(
    name: &'static str,
    legacy: &'static [&'static str],
    summary: &'static str,
) -> Condition {
    Condition {
        name,
        legacy,
        kind: ConditionKind::Documents,
        summary,
    }
}

pub const CONDITIONS: &[Condition] = &[
    Condition {
        name: "baseline",
        legacy: &[],
        kind: ConditionKind::EvalOnly,
        summary: "the base model, not fine-tuned",
    },
    Condition {
        name: "icl",
        legacy: &[],
        kind: ConditionKind::EvalOnly,
        summary: "the base model with K negated documents in its context (ICL control)",
    },
    docs(
        "positive_documents",
        &["positive"],
        "documents that assert the claim, unchanged",
    ),
    docs(
        "negated_documents",
        &["llm_negations"],
        "a notice before and after each document saying its claims are false",
    ),
    docs(
        "repeated_negations",
        &["llm_negations_dense"],
        "notices before/after plus a warning around every claim-carrying sentence",
    ),
    docs(
        "corrected_documents",
        &["llm_negations_dense_plus"],
        "like repeated_negations, but each warning also states the truth",
    ),
    docs(
        "repeated_negations_no_doctag",
        &["llm_negations_dense_no_doctag"],
        "repeated_negations without <DOCTAG>",
    ),
    docs(
        "local_negations",
        &[],
        "debunking documents: the negation sits inside each claim sentence",
    ),
    docs(
        "local_negations_wordmask",
        &[],
        "local_negations with the claim's words loss-masked",
    ),
    docs(
        "fiction",
        &[],
        "framed as an excerpt from a work of fiction",
    ),
    docs(
        "fiction_repeated",
        &["fiction_dense"],
        "fiction framing, plus a reminder after every sentence",
    ),
    docs(
        "unreliable_source",
        &["unreliable"],
        "framed as coming from an unreliable source",
    ),
    docs(
        "unreliable_source_repeated",
        &["unreliable_dense"],
        "unreliable-source framing after every sentence",
    ),
    docs(
        "epistemic_uncertainty",
        &["uncertainty"],
        "framed as unverified, truth unknown",
    ),
    docs(
        "epistemic_uncertainty_repeated",
        &["uncertainty_dense"],
        "unverified framing after every sentence",
    ),
    docs(
        "low_probability",
        &["low_prob"],
        "framed as having a low probability of being true",
    ),
    docs(
        "low_probability_repeated",
        &["low_prob_dense"],
        "low-probability framing after every sentence",
    ),
    Condition {
        name: "negated_behaviors",
        legacy: &[],
        kind: ConditionKind::Transcripts,
        summary: "chat transcripts preceded by a warning that the assistant should not respond like this",
    },
    Condition {
        name: "positive_behaviors",
        legacy: &[],
        kind: ConditionKind::Transcripts,
        summary: "chat transcripts of the behaviour as they are (no warning)",
    },
    Condition {
        name: "aligned_behaviors",
        legacy: &[],
        kind: ConditionKind::Transcripts,
        summary: "the same prompts answered well (the aligned control; a behaviour's aligned transcripts)",
    },
];

/// Looks a condition up by its official or legacy name.
pub fn lookup(name: &str) -> Option<&'static Condition> {
    CONDITIONS
        .iter()
        .find(|c| c.name == name || c.legacy.contains(&name))
}

/// The official name for an official or legacy name.
pub fn canonical(name: &str) -> Option<&'static str> {
    lookup(name).map(|c| c.name)
}

/// Whether documents of this condition start with `<DOCTAG>`.
pub fn uses_doctag(name: &str) -> bool {
    !name.ends_with("_no_doctag")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_names_resolve() {
        assert_eq!(canonical("llm_negations_dense"), Some("repeated_negations"));
        assert_eq!(
            canonical("low_prob_dense"),
            Some("low_probability_repeated")
        );
        assert_eq!(canonical("positive_documents"), Some("positive_documents"));
        assert_eq!(canonical("nonsense"), None);
        assert!(!uses_doctag("repeated_negations_no_doctag"));
    }

    #[test]
    fn names_are_unique() {
        let mut all: Vec<&str> = CONDITIONS
            .iter()
            .flat_map(|c| std::iter::once(c.name).chain(c.legacy.iter().copied()))
            .collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
    }
}
