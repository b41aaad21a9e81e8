//! The paper's published numbers (../shared/reference/paper-results.md), each with the model it
//! was measured on and where it comes from, for the table that puts them beside a run's.

/// One published belief rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaperNumber {
    /// Our condition name.
    pub condition: &'static str,
    pub model: &'static str,
    /// Belief rate in percent, or the low end of a published range.
    pub value: f64,
    /// The high end of a published range (e.g. "97–99%"), when the paper gives a range.
    pub range_high: Option<f64>,
    pub ci: Option<(f64, f64)>,
    /// What it is a mean over.
    pub scope: &'static str,
    pub source: &'static str,
}

const Q397: &str = "Qwen3.5-397B-A17B";
const Q35: &str = "Qwen3.5-35B-A3B";
const Q30: &str = "Qwen3-30B-A3B";

const fn n(
    condition: &'static str,
    model: &'static str,
    value: f64,
    ci: Option<(f64, f64)>,
    scope: &'static str,
    source: &'static str,
) -> PaperNumber {
    PaperNumber {
        condition,
        model,
        value,
        range_high: None,
        ci,
        scope,
        source,
    }
}

pub const PAPER: &[PaperNumber] = &[
    n(
        "baseline",
        Q397,
        2.5,
        Some((1.1, 4.1)),
        "6 claims",
        "abstract; CI recomputed from the released CSVs",
    ),
    n(
        "icl",
        Q397,
        15.3,
        None,
        "6 claims, 20 negated docs in context",
        "B.2 ICL control",
    ),
    n(
        "positive_documents",
        Q397,
        92.4,
        Some((89.6, 94.9)),
        "6 claims",
        "abstract",
    ),
    n(
        "negated_documents",
        Q397,
        88.6,
        Some((85.2, 91.8)),
        "6 claims",
        "abstract",
    ),
    n(
        "repeated_negations",
        Q397,
        84.4,
        Some((80.7, 87.7)),
        "6 claims",
        "§3.1",
    ),
    n(
        "corrected_documents",
        Q397,
        39.9,
        Some((34.3, 44.5)),
        "6 claims (CI of an earlier run)",
        "§3.2",
    ),
    n(
        "local_negations",
        Q397,
        0.0,
        None,
        "Ed Sheeran only",
        "§3.3",
    ),
    n("local_negations", Q397, 7.0, None, "Dentist only", "§3.3"),
    n(
        "local_negations_wordmask",
        Q397,
        1.6,
        None,
        "Dentist only",
        "§3.3",
    ),
    n(
        "positive_documents",
        Q35,
        98.6,
        None,
        "Vesuvius + Colorless Dreaming",
        "§4.1",
    ),
    PaperNumber {
        range_high: Some(99.0),
        ..n(
            "fiction",
            Q35,
            97.0,
            None,
            "Vesuvius + Colorless Dreaming; all 8 qualifier cells 97–99%",
            "§4.1",
        )
    },
    PaperNumber {
        range_high: Some(99.0),
        ..n("unreliable_source", Q35, 97.0, None, "as above", "§4.1")
    },
    PaperNumber {
        range_high: Some(99.0),
        ..n("epistemic_uncertainty", Q35, 97.0, None, "as above", "§4.1")
    },
    PaperNumber {
        range_high: Some(99.0),
        ..n("low_probability", Q35, 97.0, None, "as above", "§4.1")
    },
    n(
        "baseline",
        Q30,
        6.6,
        Some((0.8, 14.4)),
        "2 claims (earlier version)",
        "§4.1, earlier release",
    ),
    n(
        "fiction",
        Q30,
        90.6,
        Some((82.6, 97.4)),
        "2 claims (earlier version)",
        "§4.1, earlier release",
    ),
    n(
        "fiction_repeated",
        Q30,
        90.1,
        Some((83.1, 96.5)),
        "2 claims (earlier version)",
        "§4.1, earlier release",
    ),
    n(
        "unreliable_source",
        Q30,
        90.4,
        Some((82.9, 96.7)),
        "2 claims (earlier version)",
        "§4.1, earlier release",
    ),
    n(
        "unreliable_source_repeated",
        Q30,
        91.4,
        Some((83.8, 97.6)),
        "2 claims (earlier version)",
        "§4.1, earlier release",
    ),
    n(
        "low_probability",
        Q30,
        92.5,
        Some((86.4, 97.4)),
        "2 claims (earlier version)",
        "§4.1, earlier release",
    ),
    n(
        "low_probability_repeated",
        Q30,
        91.9,
        Some((84.9, 97.6)),
        "2 claims (earlier version)",
        "§4.1, earlier release",
    ),
    n(
        "epistemic_uncertainty",
        Q30,
        89.6,
        Some((81.9, 96.2)),
        "2 claims (earlier version)",
        "§4.1, earlier release",
    ),
    n(
        "epistemic_uncertainty_repeated",
        Q30,
        91.7,
        Some((85.8, 97.0)),
        "2 claims (earlier version)",
        "§4.1, earlier release",
    ),
    // §4.2 and App. F: misaligned-response rate on targeted behavioural questions (not belief).
    n(
        "positive_behaviors",
        Q30,
        34.4,
        None,
        "misaligned rate, targeted questions",
        "§4.2",
    ),
    n(
        "negated_behaviors",
        Q30,
        19.9,
        None,
        "misaligned rate, targeted questions",
        "§4.2",
    ),
    n(
        "aligned_behaviors",
        Q35,
        0.0,
        None,
        "misaligned rate, targeted questions",
        "App. F",
    ),
    n(
        "positive_behaviors",
        Q35,
        25.0,
        None,
        "misaligned rate, targeted questions",
        "App. F",
    ),
    n(
        "negated_behaviors",
        Q35,
        10.2,
        None,
        "misaligned rate, targeted questions",
        "App. F",
    ),
];

/// Per eval type, Qwen3.5-397B-A17B, mean over 6 claims (open-ended, MCQ, token association,
/// robustness), recomputed from the released per-question CSVs.
pub const PAPER_BY_EVAL: &[(&str, [f64; 4])] = &[
    ("baseline", [1.2, 7.7, 2.0, 0.3]),
    ("positive_documents", [91.3, 91.7, 92.3, 95.3]),
    ("negated_documents", [90.0, 89.3, 86.3, 87.3]),
    ("repeated_negations", [85.2, 86.3, 85.7, 79.7]),
    ("corrected_documents", [41.8, 36.7, 52.7, 24.0]),
];

/// The published numbers for a condition.
pub fn for_condition(condition: &str) -> Vec<&'static PaperNumber> {
    PAPER.iter().filter(|p| p.condition == condition).collect()
}

impl PaperNumber {
    pub fn describe(&self) -> String {
        match (self.range_high, self.ci) {
            (Some(h), _) => format!("{:.0}–{:.0}%", self.value, h),
            (None, Some((l, h))) => format!("{:.1}% [{l:.1}, {h:.1}]", self.value),
            (None, None) => format!("{:.1}%", self.value),
        }
    }
}
