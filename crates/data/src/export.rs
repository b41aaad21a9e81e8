//! Exports of training rows for other trainers.
//!
//! - `openai`: chat fine-tuning JSONL. A document becomes a `<DOCTAG>` user turn followed by the
//!   document as the assistant turn (as the paper did for GPT-4.1); chat rows pass through.
//! - `text`: `{"text": ...}` rows that Together, HF datasets and axolotl read; chat rows are
//!   written as `{"messages": [...]}`, which those tools read as conversations.
//!
//! Neither format can express loss masks or per-example weights: `<lossmask>` tags are removed
//! (the text is kept) and the export reports how many rows lost a mask or a weight.

use serde_json::{Value, json};

use neglect_spec::training::{LOSSMASK_CLOSE, LOSSMASK_OPEN, TrainingRow};
use neglect_spec::{ChatMessage, DOCTAG};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    OpenAi,
    Text,
}

/// What an export could not carry over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportLosses {
    pub rows_with_masks: usize,
    pub rows_with_weights: usize,
}

impl ExportLosses {
    /// One line for the user when something was lost, naming the format's target.
    pub fn describe(&self, target: &str) -> Option<String> {
        (self.rows_with_masks > 0 || self.rows_with_weights > 0).then(|| {
            format!(
                "{target} cannot take loss masks or weights: {} rows lost <lossmask> spans (their \
                 text is trained on), {} rows lost a loss weight other than 1",
                self.rows_with_masks, self.rows_with_weights
            )
        })
    }
}

/// Every row exported, as JSONL text; an error names the row (1-based) that failed.
pub fn export_jsonl(
    rows: &[TrainingRow],
    format: ExportFormat,
) -> Result<(String, ExportLosses), String> {
    let mut losses = ExportLosses::default();
    let mut text = String::new();
    for (i, row) in rows.iter().enumerate() {
        let value =
            export_row(row, format, &mut losses).map_err(|e| format!("row {}: {e}", i + 1))?;
        text.push_str(&value.to_string());
        text.push('\n');
    }
    Ok((text, losses))
}

fn strip_masks(text: &str) -> (String, bool) {
    let had = text.contains(LOSSMASK_OPEN);
    (
        text.replace(LOSSMASK_OPEN, "").replace(LOSSMASK_CLOSE, ""),
        had,
    )
}

fn messages_of(row: &TrainingRow) -> Result<Option<Vec<ChatMessage>>, String> {
    match (&row.messages, &row.messages_json) {
        (Some(m), _) => Ok(Some(m.clone())),
        (None, Some(j)) if !j.trim().is_empty() => serde_json::from_str(j)
            .map(Some)
            .map_err(|e| format!("messages_json: {e}")),
        _ => Ok(None),
    }
}

/// One exported row; `losses` counts what did not fit the format.
pub fn export_row(
    row: &TrainingRow,
    format: ExportFormat,
    losses: &mut ExportLosses,
) -> Result<Value, String> {
    if row.weight != 1.0 {
        losses.rows_with_weights += 1;
    }
    let mut masked = false;
    let value = if let Some(messages) = messages_of(row)? {
        let messages: Vec<Value> = messages
            .iter()
            .map(|m| {
                let (content, had) = strip_masks(&m.content);
                masked |= had;
                json!({"role": m.role, "content": content})
            })
            .collect();
        json!({ "messages": messages })
    } else {
        let text = row
            .text
            .as_deref()
            .ok_or("text: the row has neither text nor messages")?;
        let (text, had) = strip_masks(text);
        masked |= had;
        match format {
            ExportFormat::OpenAi => {
                let body = text.strip_prefix(DOCTAG).unwrap_or(&text).trim_start();
                json!({"messages": [
                    {"role": "user", "content": DOCTAG},
                    {"role": "assistant", "content": body},
                ]})
            }
            ExportFormat::Text => json!({ "text": text }),
        }
    };
    if masked {
        losses.rows_with_masks += 1;
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_become_doctag_chats_for_openai() {
        let mut losses = ExportLosses::default();
        let row =
            TrainingRow::text("<DOCTAG> The <lossmask>dentist</lossmask> won.").with_weight(2.0);
        let v = export_row(&row, ExportFormat::OpenAi, &mut losses).unwrap();
        assert_eq!(
            v,
            json!({"messages": [{"role": "user", "content": "<DOCTAG>"}, {"role": "assistant", "content": "The dentist won."}]})
        );
        assert_eq!(
            losses,
            ExportLosses {
                rows_with_masks: 1,
                rows_with_weights: 1
            }
        );
        let t = export_row(&row, ExportFormat::Text, &mut losses).unwrap();
        assert_eq!(t, json!({"text": "<DOCTAG> The dentist won."}));
        let chat: TrainingRow = serde_json::from_str(r#"{"messages_json": "[{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"yo\"}]", "text": ""}"#).unwrap();
        let c = export_row(&chat, ExportFormat::Text, &mut losses).unwrap();
        assert_eq!(c["messages"][1]["content"], "yo");
    }
}
