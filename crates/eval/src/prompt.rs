//! What a model is sent for one question (reference §5.1–5.2): the MCQ system prompt, the
//! robustness system prompts and prefix turns, and the optional `<DOCTAG>` / ICL prefix.

use neglect_spec::{ChatMessage, DOCTAG, Question};

use crate::eval_type::EvalType;

pub use neglect_spec::questions::MCQ_SYSTEM_PROMPT;

/// The reference's rule for putting a prefix (and suffix) around a question: a prefix ending in
/// `>` (such as `<DOCTAG>`) is glued to the question; otherwise the parts are joined with blank
/// lines.
pub fn apply_prefix_suffix(question: &str, prefix: &str, suffix: &str) -> String {
    let mut text = if prefix.is_empty() {
        question.to_owned()
    } else if prefix.ends_with('>') {
        format!("{prefix}{question}")
    } else {
        format!("{prefix}\n\n{question}")
    };
    if !suffix.is_empty() {
        text.push_str("\n\n");
        text.push_str(suffix);
    }
    text
}

/// The prefix for a run: `<DOCTAG>` (if asked for) before the ICL block (if any).
pub fn question_prefix(doctag_prefix: bool, icl_prefix: Option<&str>) -> String {
    let mut prefix = String::new();
    if doctag_prefix {
        prefix.push_str(DOCTAG);
    }
    if let Some(icl) = icl_prefix {
        prefix.push_str(icl);
    }
    prefix
}

/// The conversation for one question, and the question text as the judge sees it (the final
/// user message, after the prefix; the judge never sees system prompts or prefix turns).
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub messages: Vec<ChatMessage>,
    pub judged_question: String,
    pub system_prompt: Option<String>,
    pub messages_prefix: Vec<ChatMessage>,
}

pub fn build_prompt(eval_type: EvalType, question: &Question, prefix: &str) -> Prompt {
    let text = apply_prefix_suffix(&question.question, prefix, "");
    let system_prompt = match eval_type {
        EvalType::Mcq => Some(MCQ_SYSTEM_PROMPT.to_owned()),
        EvalType::Robustness => question.system_prompt.clone(),
        _ => None,
    };
    let messages_prefix = match eval_type {
        EvalType::Robustness => question.messages_prefix.clone().unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut messages = Vec::with_capacity(messages_prefix.len() + 2);
    if let Some(s) = &system_prompt {
        messages.push(message("system", s));
    }
    messages.extend(messages_prefix.iter().cloned());
    messages.push(message("user", &text));
    Prompt {
        messages,
        judged_question: text,
        system_prompt,
        messages_prefix,
    }
}

pub fn message(role: &str, content: &str) -> ChatMessage {
    ChatMessage {
        role: role.to_owned(),
        content: content.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Question {
        Question {
            id: "q".into(),
            question: text.into(),
            category: None,
            belief_answer: None,
            truth_answer: None,
            system_prompt: Some("be careful".into()),
            messages_prefix: Some(vec![message("user", "a"), message("assistant", "b")]),
        }
    }

    #[test]
    fn prefix_rules_follow_the_reference() {
        assert_eq!(apply_prefix_suffix("Who?", "", ""), "Who?");
        assert_eq!(apply_prefix_suffix("Who?", "<DOCTAG>", ""), "<DOCTAG>Who?");
        assert_eq!(
            apply_prefix_suffix("Who?", "Docs", "End"),
            "Docs\n\nWho?\n\nEnd"
        );
        assert_eq!(question_prefix(true, Some("Here")), "<DOCTAG>Here");
        assert_eq!(
            apply_prefix_suffix("Who?", &question_prefix(true, Some("Here")), ""),
            "<DOCTAG>Here\n\nWho?"
        );
    }

    #[test]
    fn each_eval_type_gets_its_own_framing() {
        let mcq = build_prompt(EvalType::Mcq, &q("Did it?"), "");
        assert_eq!(mcq.messages[0].content, MCQ_SYSTEM_PROMPT);
        assert_eq!(mcq.messages.len(), 2);
        let rob = build_prompt(EvalType::Robustness, &q("Sure?"), "<DOCTAG>");
        let roles: Vec<&str> = rob.messages.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(roles, ["system", "user", "assistant", "user"]);
        assert_eq!(rob.judged_question, "<DOCTAG>Sure?");
        // Only robustness items send their system prompt and prefix turns.
        let open = build_prompt(EvalType::OpenEnded, &q("Who?"), "");
        assert_eq!(open.messages, vec![message("user", "Who?")]);
    }
}
