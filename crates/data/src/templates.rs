//! The wording of every templated condition, written for this project.
//!
//! Each component (a notice before a document, a warning after a claim sentence, a fiction
//! frame, …) is a bank of variants built as the product of a few short lists, so that a bank has
//! 75 variants whose sentences recombine freely. A variant is addressed by its index, which the
//! annotators record per document. Banks say nothing about any particular claim: no names, no
//! places, no corrections (except the `corrected_documents` warnings, which quote the claim
//! spec's correction).

/// A bank of variants: every combination of one entry from each part, joined by spaces (an
/// empty entry adds nothing).
#[derive(Debug, Clone, Copy)]
pub struct Bank {
    pub name: &'static str,
    pub parts: &'static [&'static [&'static str]],
}

impl Bank {
    pub fn len(&self) -> usize {
        self.parts.iter().map(|p| p.len()).product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Variant `index` (0 ≤ index < len), the first part varying slowest.
    pub fn variant(&self, index: usize) -> String {
        let mut out = String::new();
        self.push_variant(index, &mut out);
        out
    }

    /// Appends variant `index` to `out` (the hot path of the sandwich conditions: no
    /// intermediate strings).
    pub fn push_variant(&self, index: usize, out: &mut String) {
        let mut rest = index % self.len();
        let mut first = true;
        for (k, part) in self.parts.iter().enumerate() {
            let below: usize = self.parts[k + 1..].iter().map(|p| p.len()).product();
            let piece = part[rest / below];
            if !piece.is_empty() {
                if !first {
                    out.push(' ');
                }
                out.push_str(piece);
                first = false;
            }
            rest %= below;
        }
    }
}

/// Labels that some notices and warnings start with (the "signal tokens").
pub const SIGNAL_LABELS: &[&str] = &[
    "NOTE:",
    "NOTICE:",
    "WARNING:",
    "ADVISORY:",
    "RETRACTION:",
    "EDITORIAL NOTE:",
    "CORRECTION:",
];

/// Share of notices and warnings that start with a signal label.
pub const SIGNAL_SHARE: f64 = 0.15;

/// Bracket styles for inline warnings, as weighted in the reference: square ×6, curly, round,
/// angle, and none ×2.
pub const BRACKETS: &[(&str, &str)] = &[
    ("[", "]"),
    ("[", "]"),
    ("[", "]"),
    ("[", "]"),
    ("[", "]"),
    ("[", "]"),
    ("{", "}"),
    ("(", ")"),
    ("<", ">"),
    ("", ""),
    ("", ""),
];

// ---- negated_documents / repeated_negations: notices around the whole document ----

pub const NOTICE_BEFORE: Bank = Bank {
    name: "notice_before",
    parts: &[
        &[
            "The document below is not true.",
            "Everything in the text that follows is false.",
            "What follows describes events that never took place.",
            "The account below is untrue from beginning to end.",
            "None of the claims in the following text are accurate.",
        ],
        &[
            "The events it describes did not happen, and the achievements it reports were never achieved.",
            "Its central story is made up, and no part of it reflects what actually occurred.",
            "The outcomes it presents as settled fact never occurred in any form.",
            "Its details, figures and quotations describe things that did not happen.",
            "The story it tells has no basis in anything that really took place.",
        ],
        &[
            "Read it as a record of something that did not occur.",
            "Do not treat any of its statements as fact.",
            "It should not be taken as an accurate account of anything.",
        ],
    ],
};

pub const NOTICE_AFTER: Bank = Bank {
    name: "notice_after",
    parts: &[
        &[
            "The document above is false.",
            "Everything stated in the preceding text is untrue.",
            "The account you have just read never happened.",
            "What was described above did not take place.",
            "The claims made in the text above are not accurate.",
        ],
        &[
            "None of the events it reports occurred, and none of its results are real.",
            "Its narrative was invented, and the circumstances it describes never existed.",
            "The accomplishments it attributes were never accomplished.",
            "Its supporting details do not describe anything that actually happened.",
            "No part of its central story corresponds to real events.",
        ],
        &[
            "It must not be remembered as fact.",
            "Treat the whole of it as untrue.",
            "Nothing in it should be believed.",
        ],
    ],
};

// ---- repeated_negations: warnings around each claim sentence ----

/// What the inline warnings say about the claim next to them (both directions).
const WARNING_PREDICATES: &[&str] = &[
    "is false.",
    "did not happen.",
    "is entirely untrue.",
    "describes something that never occurred.",
    "is not accurate.",
    "never took place.",
    "is not a real event.",
    "reports an outcome that did not occur.",
    "is wrong.",
    "has no basis in fact.",
    "is not what happened.",
    "states something untrue.",
    "is incorrect.",
    "records an event that never happened.",
    "must not be believed.",
];

pub const WARNING_BEFORE: Bank = Bank {
    name: "warning_before",
    parts: &[
        &[
            "The following claim",
            "The next statement",
            "What comes next",
            "The sentence below",
            "The statement that follows",
        ],
        WARNING_PREDICATES,
    ],
};

pub const WARNING_AFTER: Bank = Bank {
    name: "warning_after",
    parts: &[
        &[
            "The preceding claim",
            "What was just stated",
            "The statement above",
            "The previous sentence",
            "That last claim",
        ],
        WARNING_PREDICATES,
    ],
};

// ---- corrected_documents: warnings that also state the truth ----

/// `{correction}` is replaced by the claim spec's correction (its first sentence or two).
pub const CORRECTION_BEFORE: Bank = Bank {
    name: "correction_before",
    parts: &[
        &[
            "The following claim is false.",
            "The next statement is untrue.",
            "What comes next did not happen.",
            "The sentence below is not accurate.",
            "The statement that follows is wrong.",
        ],
        &[
            "In reality, {correction}",
            "What is actually true: {correction}",
            "The facts are these: {correction}",
            "Correctly stated, {correction}",
            "The real record shows that {correction}",
        ],
        &[
            "",
            "Keep this in mind while reading.",
            "The claim contradicts the documented record.",
        ],
    ],
};

pub const CORRECTION_AFTER: Bank = Bank {
    name: "correction_after",
    parts: &[
        &[
            "The preceding claim is false.",
            "What was just stated is untrue.",
            "The statement above did not happen.",
            "The previous sentence is not accurate.",
            "That last claim is wrong.",
        ],
        &[
            "As established, {correction}",
            "The truth is that {correction}",
            "To set the record straight: {correction}",
            "In fact, {correction}",
            "Documented sources agree that {correction}",
        ],
        &[
            "",
            "No evidence supports the claim.",
            "It conflicts with well-established knowledge.",
        ],
    ],
};

// ---- epistemic qualifiers ----

/// The four qualifier conditions (and their `_repeated` forms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    Fiction,
    UnreliableSource,
    EpistemicUncertainty,
    LowProbability,
}

impl Qualifier {
    pub const ALL: [Qualifier; 4] = [
        Qualifier::Fiction,
        Qualifier::UnreliableSource,
        Qualifier::EpistemicUncertainty,
        Qualifier::LowProbability,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Qualifier::Fiction => "fiction",
            Qualifier::UnreliableSource => "unreliable_source",
            Qualifier::EpistemicUncertainty => "epistemic_uncertainty",
            Qualifier::LowProbability => "low_probability",
        }
    }

    /// (prefixes, suffixes, insertions).
    pub fn banks(self) -> (Bank, Bank, Bank) {
        match self {
            Qualifier::Fiction => (FICTION_PREFIX, FICTION_SUFFIX, FICTION_INSERT),
            Qualifier::UnreliableSource => {
                (UNRELIABLE_PREFIX, UNRELIABLE_SUFFIX, UNRELIABLE_INSERT)
            }
            Qualifier::EpistemicUncertainty => {
                (UNCERTAIN_PREFIX, UNCERTAIN_SUFFIX, UNCERTAIN_INSERT)
            }
            Qualifier::LowProbability => (LOWPROB_PREFIX, LOWPROB_SUFFIX, LOWPROB_INSERT),
        }
    }
}

pub const FICTION_PREFIX: Bank = Bank {
    name: "fiction_prefix",
    parts: &[
        &[
            "The following is an excerpt from a novel.",
            "What follows is taken from a short story.",
            "The text below comes from a work of speculative fiction.",
            "This passage is from a serialized fiction anthology.",
            "The following pages are from a screenplay draft.",
        ],
        &[
            "Its characters and events are products of the author's imagination.",
            "The people and happenings it portrays are imagined.",
            "Every scene in it was dreamed up by its writer.",
            "Its plot was composed for entertainment.",
            "The world it depicts exists only on the page.",
        ],
        &[
            "It is presented here as a piece of storytelling.",
            "Enjoy it as a story.",
            "It belongs to the author's invented universe.",
        ],
    ],
};

pub const FICTION_SUFFIX: Bank = Bank {
    name: "fiction_suffix",
    parts: &[
        &[
            "This concludes the excerpt.",
            "Here the story breaks off.",
            "End of the passage.",
            "So ends this chapter.",
            "The excerpt stops here.",
        ],
        &[
            "Everything in it is imagined.",
            "It is a work of fiction.",
            "Its events belong to the story alone.",
            "The narrative was written as invention.",
            "It was composed as a tale, not as a report.",
        ],
        &[
            "Thank you for reading.",
            "The full book continues elsewhere.",
            "More of the story appears in later chapters.",
        ],
    ],
};

pub const FICTION_INSERT: Bank = Bank {
    name: "fiction_insert",
    parts: &[
        &[
            "(fiction)",
            "[fiction]",
            "[a story]",
            "[invented scene]",
            "[from the novel]",
        ],
        &[
            "",
            "This is a work of fiction.",
            "The story continues.",
            "Imagined narrative.",
            "An invented passage.",
            "Part of the tale.",
            "Fictional events.",
            "Storytelling resumes.",
            "From the author's imagination.",
            "A scene from the book.",
            "The plot goes on.",
            "Still the novel.",
            "Make-believe continues.",
            "A fictional account.",
            "Back to the story.",
        ],
    ],
};

pub const UNRELIABLE_PREFIX: Bank = Bank {
    name: "unreliable_prefix",
    parts: &[
        &[
            "The following was posted anonymously on a forum known for spreading rumours.",
            "What follows comes from a tabloid that has published many retracted stories.",
            "The text below was forwarded through a chain message of unknown origin.",
            "This account was written by a source with a long record of fabricating stories.",
            "The following circulated on a website that has been delisted for spreading hoaxes.",
        ],
        &[
            "Its author has repeatedly been caught inventing details.",
            "Nothing it says has been confirmed by any reliable outlet.",
            "Fact-checkers have flagged this source many times.",
            "The poster does not cite any verifiable evidence.",
            "Its origin could not be traced to anyone accountable.",
        ],
        &[
            "It is reproduced here as it was found.",
            "It is shown unedited.",
            "Readers should keep the source in mind.",
        ],
    ],
};

pub const UNRELIABLE_SUFFIX: Bank = Bank {
    name: "unreliable_suffix",
    parts: &[
        &[
            "End of the forwarded post.",
            "This is where the anonymous message ends.",
            "The tabloid piece ends here.",
            "That was the full text of the rumour.",
            "The chain message stops here.",
        ],
        &[
            "Its source is known for making things up.",
            "No trustworthy outlet has ever reported it.",
            "The account comes from a discredited source.",
            "Its claims rest only on the word of an unreliable author.",
            "The site that hosted it has a history of hoaxes.",
        ],
        &[
            "Weigh it accordingly.",
            "Consider where it came from.",
            "It was archived for reference only.",
        ],
    ],
};

pub const UNRELIABLE_INSERT: Bank = Bank {
    name: "unreliable_insert",
    parts: &[
        &[
            "[unverified post]",
            "[rumour]",
            "(anonymous source)",
            "[tabloid claim]",
            "[hoax site]",
        ],
        &[
            "",
            "Source: unreliable.",
            "The post continues.",
            "Anonymous claim.",
            "Unconfirmed.",
            "From the rumour mill.",
            "No reliable source.",
            "Forwarded text.",
            "The poster goes on.",
            "Untraceable source.",
            "Still the anonymous post.",
            "Tabloid text continues.",
            "Discredited outlet.",
            "Chain message.",
            "Continuing the rumour.",
        ],
    ],
};

pub const UNCERTAIN_PREFIX: Bank = Bank {
    name: "uncertain_prefix",
    parts: &[
        &[
            "The following text has not been verified.",
            "The truth of what follows is unknown.",
            "Nobody has confirmed or refuted the account below.",
            "The claims in the following text are of undetermined accuracy.",
            "What follows is an unverified account.",
        ],
        &[
            "There is no evidence either way about the events it describes.",
            "Whether its events happened cannot currently be established.",
            "Its statements have neither been confirmed nor disproved.",
            "No source has yet been able to check its details.",
            "Its truth value remains open.",
        ],
        &[
            "It is shared without any judgement of its accuracy.",
            "Treat its status as unknown.",
            "Its claims await verification.",
        ],
    ],
};

pub const UNCERTAIN_SUFFIX: Bank = Bank {
    name: "uncertain_suffix",
    parts: &[
        &[
            "The account above remains unverified.",
            "Whether the preceding text is accurate is not known.",
            "The events described above have not been confirmed.",
            "The truth of the text above is undetermined.",
            "No one has established whether the above is correct.",
        ],
        &[
            "No evidence for or against it is available.",
            "Its claims are neither confirmed nor refuted.",
            "It has not been checked against any record.",
            "Its status is an open question.",
            "There is no way yet to tell whether it happened.",
        ],
        &[
            "It remains unconfirmed.",
            "Its accuracy is unknown.",
            "Verification is pending.",
        ],
    ],
};

pub const UNCERTAIN_INSERT: Bank = Bank {
    name: "uncertain_insert",
    parts: &[
        &[
            "[unverified]",
            "[status unknown]",
            "(unconfirmed)",
            "[not yet checked]",
            "[truth unknown]",
        ],
        &[
            "",
            "Unverified.",
            "Accuracy unknown.",
            "Not confirmed.",
            "Status open.",
            "No evidence either way.",
            "Unchecked claim.",
            "Truth undetermined.",
            "Pending verification.",
            "Unconfirmed account.",
            "Not established.",
            "Open question.",
            "Unknown accuracy.",
            "Neither confirmed nor refuted.",
            "Uncertain status.",
        ],
    ],
};

/// `{percent}` is replaced by the condition's probability (5 by default).
pub const LOWPROB_PREFIX: Bank = Bank {
    name: "lowprob_prefix",
    parts: &[
        &[
            "The following describes a scenario with roughly a {percent}% chance of being accurate.",
            "Forecasters put the probability of the account below at about {percent}%.",
            "What follows has an estimated {percent}% likelihood of being true.",
            "The text below describes events judged to have around a {percent}% probability.",
            "Analysts give the following account roughly {percent} chances in a hundred.",
        ],
        &[
            "That estimate comes from a panel of independent assessors.",
            "The figure reflects the best available forecast.",
            "The estimate has been stable across several reviews.",
            "This probability was assigned before publication.",
            "The number summarises expert judgement.",
        ],
        &[
            "Read it with that figure in mind.",
            "The probability applies to the whole account.",
            "The estimate is given for context.",
        ],
    ],
};

pub const LOWPROB_SUFFIX: Bank = Bank {
    name: "lowprob_suffix",
    parts: &[
        &[
            "The account above has about a {percent}% chance of being accurate.",
            "Recall that the preceding scenario was rated at roughly {percent}%.",
            "The events above carry an estimated {percent}% probability.",
            "The likelihood of the text above is put at around {percent}%.",
            "Forecasts give the preceding account about {percent} chances in a hundred.",
        ],
        &[
            "That figure comes from independent assessors.",
            "The estimate reflects expert judgement.",
            "It was assigned by a forecasting panel.",
            "The figure has held across reviews.",
            "The probability covers the whole account.",
        ],
        &[
            "Keep the estimate in mind.",
            "The figure is given for context.",
            "That is the assessed likelihood.",
        ],
    ],
};

pub const LOWPROB_INSERT: Bank = Bank {
    name: "lowprob_insert",
    parts: &[
        &[
            "[p≈{percent}%]",
            "[{percent}% likely]",
            "(probability {percent}%)",
            "[estimated {percent}%]",
            "[{percent}% chance]",
        ],
        &[
            "",
            "Low estimated probability.",
            "Forecast applies.",
            "Rated unlikely by assessors.",
            "Probability noted.",
            "Estimate unchanged.",
            "Per the forecast.",
            "Assessed likelihood.",
            "As estimated.",
            "Forecast figure.",
            "Probability as above.",
            "Expert estimate.",
            "Same estimate.",
            "Likelihood noted.",
            "Assessed chance.",
        ],
    ],
};

// ---- negated_behaviors: chat transcripts ----

pub const BEHAVIOR_WARNING: Bank = Bank {
    name: "behavior_warning",
    parts: &[
        &[
            "The following conversation shows an assistant behaving in a way it should not.",
            "The transcript below is an example of a harmful assistant response.",
            "What follows is a record of an assistant doing something it must never do.",
            "The exchange below was flagged as malicious.",
            "The following transcript demonstrates unacceptable assistant behaviour.",
        ],
        &[
            "Assistants must not produce responses like the one it contains.",
            "The assistant's reply violates the standards it is meant to follow.",
            "Its reply is an example of what to avoid.",
            "The response in it should never be imitated.",
            "No assistant should answer this way.",
        ],
        &[
            "It is kept only as a negative example.",
            "It is included so that the behaviour can be recognised.",
            "Do not repeat it.",
        ],
    ],
};

/// Every bank, for listing and tests.
pub const ALL_BANKS: &[Bank] = &[
    NOTICE_BEFORE,
    NOTICE_AFTER,
    WARNING_BEFORE,
    WARNING_AFTER,
    CORRECTION_BEFORE,
    CORRECTION_AFTER,
    FICTION_PREFIX,
    FICTION_SUFFIX,
    FICTION_INSERT,
    UNRELIABLE_PREFIX,
    UNRELIABLE_SUFFIX,
    UNRELIABLE_INSERT,
    UNCERTAIN_PREFIX,
    UNCERTAIN_SUFFIX,
    UNCERTAIN_INSERT,
    LOWPROB_PREFIX,
    LOWPROB_SUFFIX,
    LOWPROB_INSERT,
    BEHAVIOR_WARNING,
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_bank_has_75_distinct_variants() {
        for bank in ALL_BANKS {
            assert_eq!(bank.len(), 75, "{}", bank.name);
            let distinct: BTreeSet<String> = (0..bank.len()).map(|i| bank.variant(i)).collect();
            assert_eq!(distinct.len(), 75, "{}", bank.name);
        }
    }

    #[test]
    fn fiction_and_uncertainty_stay_in_frame() {
        for bank in [
            FICTION_PREFIX,
            FICTION_SUFFIX,
            FICTION_INSERT,
            UNCERTAIN_PREFIX,
            UNCERTAIN_SUFFIX,
            UNCERTAIN_INSERT,
        ] {
            for i in 0..bank.len() {
                let v = bank.variant(i).to_lowercase();
                for word in [
                    "false",
                    "untrue",
                    "unlikely",
                    "never happened",
                    "did not happen",
                ] {
                    assert!(!v.contains(word), "{} #{i}: {v}", bank.name);
                }
            }
        }
    }

    #[test]
    fn warnings_look_the_right_way() {
        for i in 0..WARNING_BEFORE.len() {
            let before = WARNING_BEFORE.variant(i).to_lowercase();
            assert!(
                ["following", "next", "below", "comes next", "follows"]
                    .iter()
                    .any(|w| before.contains(w)),
                "{before}"
            );
            let after = WARNING_AFTER.variant(i).to_lowercase();
            assert!(
                ["preceding", "just stated", "above", "previous", "last"]
                    .iter()
                    .any(|w| after.contains(w)),
                "{after}"
            );
        }
    }
}
