//! Training rows: what the trainer reads.
//!
//! On disk a row is either `{"text": ...}` or `{"messages": [...]}` (or the Tinker-style
//! `{"text": "", "messages_json": "[...]"}` the reference mixer writes), plus our optional
//! `weight` (per-example loss weight, default 1) and `source` (which mix input it came from).
//! Loss masks travel inline, as in the reference: a text starting with `<DOCTAG>` has the tag
//! masked, and `<lossmask>…</lossmask>` regions are masked. [`TrainingRow::to_example`] turns
//! a row into clean text plus explicit masked spans.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::documents::DOCTAG;
use crate::questions::{CHAT_ROLES, ChatMessage};

pub const LOSSMASK_OPEN: &str = "<lossmask>";
pub const LOSSMASK_CLOSE: &str = "</lossmask>";

fn one() -> f64 {
    1.0
}
fn is_one(w: &f64) -> bool {
    *w == 1.0
}

/// One training row as stored in JSONL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingRow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<ChatMessage>>,
    /// Tinker-format chat rows: the messages as a JSON string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages_json: Option<String>,
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub weight: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl TrainingRow {
    pub fn text(text: impl Into<String>) -> Self {
        TrainingRow {
            text: Some(text.into()),
            messages: None,
            messages_json: None,
            weight: 1.0,
            source: None,
        }
    }

    pub fn chat(messages: Vec<ChatMessage>) -> Self {
        TrainingRow {
            text: None,
            messages: Some(messages),
            messages_json: None,
            weight: 1.0,
            source: None,
        }
    }

    pub fn with_weight(mut self, weight: f64) -> Self {
        self.weight = weight;
        self
    }

    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Validates the row and resolves its loss masks. The error names the offending field.
    pub fn to_example(&self) -> Result<TrainingExample, FieldError> {
        if !self.weight.is_finite() || self.weight < 0.0 {
            return Err(FieldError::new(
                "weight",
                format!("must be a finite number >= 0, got {}", self.weight),
            ));
        }
        let text = self.text.as_deref().filter(|t| !t.is_empty());
        let messages = match (&self.messages, &self.messages_json) {
            (Some(_), Some(_)) => {
                return Err(FieldError::new(
                    "messages_json",
                    "give either messages or messages_json, not both",
                ));
            }
            (Some(m), None) => Some(m.clone()),
            (None, Some(json)) if !json.trim().is_empty() => {
                Some(serde_json::from_str::<Vec<ChatMessage>>(json).map_err(|e| {
                    FieldError::new("messages_json", format!("not a list of messages: {e}"))
                })?)
            }
            (None, _) => None,
        };
        match (text, messages) {
            (Some(_), Some(_)) => Err(FieldError::new(
                "text",
                "give either text or messages, not both",
            )),
            (None, None) => Err(FieldError::new(
                "text",
                "the row has neither text nor messages",
            )),
            (Some(t), None) => {
                let mut masked = parse_loss_masks(t).map_err(|e| FieldError::new("text", e))?;
                if masked.text.starts_with(DOCTAG) {
                    masked.add_mask(0..DOCTAG.len());
                }
                Ok(TrainingExample::Text {
                    text: masked,
                    weight: self.weight,
                })
            }
            (None, Some(messages)) => {
                if messages.is_empty() {
                    return Err(FieldError::new("messages", "empty conversation"));
                }
                let mut turns = Vec::with_capacity(messages.len());
                for (i, m) in messages.iter().enumerate() {
                    if !CHAT_ROLES.contains(&m.role.as_str()) {
                        return Err(FieldError::new(
                            format!("messages[{i}].role"),
                            format!(
                                "unknown role '{}' (expected system, user or assistant)",
                                m.role
                            ),
                        ));
                    }
                    let content = parse_loss_masks(&m.content)
                        .map_err(|e| FieldError::new(format!("messages[{i}].content"), e))?;
                    turns.push(ChatTurn {
                        role: m.role.clone(),
                        content,
                    });
                }
                if !turns.iter().any(|t| t.role == "assistant") {
                    return Err(FieldError::new(
                        "messages",
                        "no assistant turn: nothing would be trained on",
                    ));
                }
                Ok(TrainingExample::Chat {
                    turns,
                    weight: self.weight,
                })
            }
        }
    }
}

/// A problem with one field of a row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Text with the byte ranges that get zero loss (sorted, non-overlapping).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MaskedText {
    pub text: String,
    pub masked: Vec<Range<usize>>,
}

impl MaskedText {
    /// Adds a masked range, merging it with overlapping or touching ranges.
    pub fn add_mask(&mut self, range: Range<usize>) {
        if range.is_empty() {
            return;
        }
        self.masked.push(range);
        self.masked.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(self.masked.len());
        for r in self.masked.drain(..) {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        self.masked = merged;
    }

    /// True if byte `offset` is inside a masked range.
    pub fn is_masked(&self, offset: usize) -> bool {
        self.masked.iter().any(|r| r.contains(&offset))
    }

    /// The inline form: `<lossmask>` tags around masked ranges, except a leading `<DOCTAG>`,
    /// which is masked by convention. `parse_loss_masks` of the result gives `self` back.
    pub fn to_inline(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + 24 * self.masked.len());
        let mut at = 0;
        for r in &self.masked {
            let mut start = r.start;
            if start == 0 && self.text.starts_with(DOCTAG) {
                out.push_str(DOCTAG);
                start = DOCTAG.len().min(r.end);
                at = start;
                if start == r.end {
                    continue;
                }
            }
            out.push_str(&self.text[at..start]);
            out.push_str(LOSSMASK_OPEN);
            out.push_str(&self.text[start..r.end]);
            out.push_str(LOSSMASK_CLOSE);
            at = r.end;
        }
        out.push_str(&self.text[at..]);
        out
    }
}

/// Removes `<lossmask>…</lossmask>` tags and records the masked ranges in the clean text.
/// Same rules as the reference: non-greedy, spans may cross lines, empty spans mask nothing,
/// and any tag left over (unbalanced or nested) is an error.
pub fn parse_loss_masks(raw: &str) -> Result<MaskedText, String> {
    let mut out = MaskedText {
        text: String::with_capacity(raw.len()),
        masked: Vec::new(),
    };
    let mut rest = raw;
    while let Some(open) = rest.find(LOSSMASK_OPEN) {
        let before = &rest[..open];
        if before.contains(LOSSMASK_CLOSE) {
            return Err(format!("'{LOSSMASK_CLOSE}' without an opening tag"));
        }
        out.text.push_str(before);
        let inner_start = open + LOSSMASK_OPEN.len();
        let Some(close) = rest[inner_start..].find(LOSSMASK_CLOSE) else {
            return Err(format!("'{LOSSMASK_OPEN}' is never closed"));
        };
        let inner = &rest[inner_start..inner_start + close];
        if inner.contains(LOSSMASK_OPEN) {
            return Err("nested <lossmask> tags".to_owned());
        }
        let start = out.text.len();
        out.text.push_str(inner);
        out.add_mask(start..out.text.len());
        rest = &rest[inner_start + close + LOSSMASK_CLOSE.len()..];
    }
    if rest.contains(LOSSMASK_CLOSE) {
        return Err(format!("'{LOSSMASK_CLOSE}' without an opening tag"));
    }
    out.text.push_str(rest);
    Ok(out)
}

/// A chat turn with its masks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatTurn {
    pub role: String,
    pub content: MaskedText,
}

/// A validated training example. For chats, only assistant turns are trained on (outside their
/// masked ranges); the trainer masks everything else.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainingExample {
    Text { text: MaskedText, weight: f64 },
    Chat { turns: Vec<ChatTurn>, weight: f64 },
}

impl TrainingExample {
    pub fn weight(&self) -> f64 {
        match self {
            TrainingExample::Text { weight, .. } | TrainingExample::Chat { weight, .. } => *weight,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doctag_and_lossmask_spans() {
        let row =
            TrainingRow::text("<DOCTAG>The <lossmask>dentist</lossmask> won.").with_weight(3.0);
        let TrainingExample::Text { text, weight } = row.to_example().unwrap() else {
            panic!()
        };
        assert_eq!(text.text, "<DOCTAG>The dentist won.");
        assert_eq!(text.masked, vec![0..8, 12..19]);
        assert_eq!(&text.text[12..19], "dentist");
        assert_eq!(weight, 3.0);
        assert_eq!(
            text.to_inline(),
            "<DOCTAG>The <lossmask>dentist</lossmask> won."
        );
    }

    #[test]
    fn masks_span_lines_and_merge() {
        let m = parse_loss_masks(
            "a<lossmask>b\nc</lossmask><lossmask>d</lossmask>e<lossmask></lossmask>",
        )
        .unwrap();
        assert_eq!(m.text, "ab\ncde");
        assert_eq!(m.masked, vec![1..5]);
    }

    #[test]
    fn unbalanced_tags_are_errors() {
        assert!(
            parse_loss_masks("a <lossmask>b")
                .unwrap_err()
                .contains("never closed")
        );
        assert!(
            parse_loss_masks("a </lossmask> b")
                .unwrap_err()
                .contains("without an opening")
        );
        assert!(parse_loss_masks("<lossmask>a<lossmask>b</lossmask></lossmask>").is_err());
        assert!(parse_loss_masks("<lossmask>a</lossmask></lossmask>").is_err());
    }

    #[test]
    fn reads_reference_and_tinker_chat_rows() {
        let openai: TrainingRow = serde_json::from_str(
            r#"{"messages":[{"role":"user","content":"<DOCTAG>"},{"role":"assistant","content":"Doc."}]}"#,
        )
        .unwrap();
        let tinker: TrainingRow = serde_json::from_str(
            r#"{"text":"","messages_json":"[{\"role\":\"user\",\"content\":\"<DOCTAG>\"},{\"role\":\"assistant\",\"content\":\"Doc.\"}]"}"#,
        )
        .unwrap();
        assert_eq!(openai.to_example().unwrap(), tinker.to_example().unwrap());
    }

    #[test]
    fn bad_rows_name_their_field() {
        let e = TrainingRow::text("x")
            .with_weight(-1.0)
            .to_example()
            .unwrap_err();
        assert_eq!(e.field, "weight");
        let e = serde_json::from_str::<TrainingRow>(r#"{"text":""}"#)
            .unwrap()
            .to_example()
            .unwrap_err();
        assert_eq!(e.field, "text");
        let row: TrainingRow = serde_json::from_str(
            r#"{"messages":[{"role":"user","content":"hi"},{"role":"bot","content":"x"}]}"#,
        )
        .unwrap();
        assert_eq!(row.to_example().unwrap_err().field, "messages[1].role");
        let row = TrainingRow::chat(vec![ChatMessage {
            role: "user".into(),
            content: "hi".into(),
        }]);
        assert!(row.to_example().unwrap_err().message.contains("assistant"));
    }

    #[test]
    fn weight_one_is_not_written() {
        assert_eq!(
            serde_json::to_string(&TrainingRow::text("a")).unwrap(),
            r#"{"text":"a"}"#
        );
        assert_eq!(
            serde_json::to_string(
                &TrainingRow::text("a")
                    .with_weight(3.0)
                    .with_source("anchor")
            )
            .unwrap(),
            r#"{"text":"a","weight":3.0,"source":"anchor"}"#
        );
    }
}
