//! The eval types (reference §5.2) and what each needs: a question source, a way to prompt, a
//! way to score.

use std::fmt;

use neglect_spec::QuestionSet;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvalType {
    OpenEnded,
    /// Same answers' questions as `open_ended`, judged with the relaxed `open_ended_broad` rubric.
    OpenEndedBroad,
    Mcq,
    TokenAssociation,
    Robustness,
    /// A 0–10 rating of the `open_ended` answers' internal consistency about the claim.
    BeliefConsistency,
    /// A 0–10 rating of answers to claim-independent questions (`coherence_questions.yaml`).
    Coherence,
}

impl EvalType {
    pub const ALL: [EvalType; 7] = [
        EvalType::OpenEnded,
        EvalType::OpenEndedBroad,
        EvalType::Mcq,
        EvalType::TokenAssociation,
        EvalType::Robustness,
        EvalType::BeliefConsistency,
        EvalType::Coherence,
    ];

    /// The four verdict evals pooled into a claim's belief rate.
    pub const MAIN: [EvalType; 4] = [
        EvalType::OpenEnded,
        EvalType::Mcq,
        EvalType::TokenAssociation,
        EvalType::Robustness,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EvalType::OpenEnded => "open_ended",
            EvalType::OpenEndedBroad => "open_ended_broad",
            EvalType::Mcq => "mcq",
            EvalType::TokenAssociation => "token_association",
            EvalType::Robustness => "robustness",
            EvalType::BeliefConsistency => "belief_consistency",
            EvalType::Coherence => "coherence",
        }
    }

    /// Parses a name; legacy names (`belief_probes`, `pink_elephant`) are accepted.
    pub fn parse(name: &str) -> Option<EvalType> {
        let name = match name {
            "belief_probes" => "open_ended",
            "belief_probes_broad" => "open_ended_broad",
            "pink_elephant" => "token_association",
            other => other,
        };
        EvalType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Ratings (0–10) rather than yes/no/neutral verdicts; never pooled with verdict evals.
    pub fn is_rating(self) -> bool {
        matches!(self, EvalType::BeliefConsistency | EvalType::Coherence)
    }

    /// The claim's question file this eval asks (none for coherence, which has its own set).
    pub fn question_set(self) -> Option<QuestionSet> {
        match self {
            EvalType::OpenEnded | EvalType::OpenEndedBroad | EvalType::BeliefConsistency => {
                Some(QuestionSet::OpenEnded)
            }
            EvalType::Mcq => Some(QuestionSet::Mcq),
            EvalType::TokenAssociation => Some(QuestionSet::TokenAssociation),
            EvalType::Robustness => Some(QuestionSet::Robustness),
            EvalType::Coherence => None,
        }
    }

    /// The `judges.yaml` template that scores this eval (MCQ is exact match; coherence uses the
    /// rubric of `coherence_questions.yaml`).
    pub fn judge_template_key(self) -> Option<&'static str> {
        match self {
            EvalType::OpenEnded => Some("open_ended"),
            EvalType::OpenEndedBroad => Some("open_ended_broad"),
            EvalType::TokenAssociation => Some("token_association"),
            EvalType::Robustness => Some("robustness"),
            EvalType::BeliefConsistency => Some("coherence"),
            EvalType::Mcq | EvalType::Coherence => None,
        }
    }

    /// Whether the eval judges answers generated for another eval instead of asking its own
    /// questions (`open_ended_broad` and `belief_consistency` re-judge the `open_ended` answers).
    pub fn reuses_answers_of(self) -> Option<EvalType> {
        match self {
            EvalType::OpenEndedBroad | EvalType::BeliefConsistency => Some(EvalType::OpenEnded),
            _ => None,
        }
    }
}

impl fmt::Display for EvalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
