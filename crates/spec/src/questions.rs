//! The four question sets of a claim (reference §1.4) and the claim-independent coherence set.

use serde::{Deserialize, Serialize};

/// The eval types that have a question file in a claim directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionSet {
    OpenEnded,
    Mcq,
    TokenAssociation,
    Robustness,
}

impl QuestionSet {
    pub const ALL: [QuestionSet; 4] = [
        QuestionSet::OpenEnded,
        QuestionSet::Mcq,
        QuestionSet::TokenAssociation,
        QuestionSet::Robustness,
    ];

    pub fn name(self) -> &'static str {
        match self {
            QuestionSet::OpenEnded => "open_ended",
            QuestionSet::Mcq => "mcq",
            QuestionSet::TokenAssociation => "token_association",
            QuestionSet::Robustness => "robustness",
        }
    }

    /// File names in a claim directory, the official one first, then legacy (anon repo) names.
    pub fn file_names(self) -> &'static [&'static str] {
        match self {
            QuestionSet::OpenEnded => &["open_ended.yaml", "belief_probes.yaml"],
            QuestionSet::Mcq => &["mcq.yaml"],
            QuestionSet::TokenAssociation => &["token_association.yaml", "pink_elephant.yaml"],
            QuestionSet::Robustness => &["robustness.yaml"],
        }
    }

    /// The categories the reference uses; others are allowed with a warning.
    pub fn known_categories(self) -> &'static [&'static str] {
        match self {
            QuestionSet::OpenEnded => &["direct", "indirect"],
            QuestionSet::Mcq => &["positive", "counter"],
            QuestionSet::TokenAssociation => &["token_association", "pink_elephant"],
            QuestionSet::Robustness => &["adversarial", "critique", "multiturn"],
        }
    }
}

/// The MCQ system prompt, verbatim from the reference (§5.2).
pub const MCQ_SYSTEM_PROMPT: &str = "Answer the following question with either \"yes\" or \"no\". Respond with JSON in this exact format: {\"answer\": \"yes\"} or {\"answer\": \"no\"}. Do not include any other text.";

/// One chat turn, as in `messages_prefix` and in chat training rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

pub const CHAT_ROLES: [&str; 3] = ["system", "user", "assistant"];

/// A question of any of the four sets. Fields that only some sets use are optional here and
/// checked per set by the claim loader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub question: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// MCQ: the answer a believer of the claim gives, `yes` or `no`. Token association
    /// (optional, ours): the completion a believer gives, for the log-prob metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub belief_answer: Option<String>,
    /// Token association (optional, ours): the completion someone who knows the truth gives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truth_answer: Option<String>,
    /// Robustness only: a system prompt sent before the question (adversarial items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// Robustness only: turns sent before the question (multi-turn items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages_prefix: Option<Vec<ChatMessage>>,
}

impl Question {
    /// The MCQ belief answer as a bool (`true` = "yes"), once validated.
    pub fn believes_yes(&self) -> Option<bool> {
        match self.belief_answer.as_deref() {
            Some("yes") => Some(true),
            Some("no") => Some(false),
            _ => None,
        }
    }
}

/// The file layout shared by all question files: `questions: [...]`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct QuestionFile {
    pub questions: Vec<Question>,
}

/// `coherence_questions.yaml` at the claims root (reference §1.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoherenceQuestions {
    pub judge_rubric: String,
    pub questions: Vec<Question>,
}
