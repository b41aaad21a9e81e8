//! Prompt rows for `neglect sample` and `neglect score`: raw text or a chat conversation.

use anyhow::bail;
use neglect_lm::pretrained::Pretrained;
use neglect_spec::ChatMessage;
use serde::Deserialize;

/// `{"id": ..., "prompt": "raw text"}` or `{"id": ..., "messages": [...]}`; `id` defaults to
/// the line number. Score rows add `"continuations": [...]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptRow {
    #[serde(default)]
    pub id: Option<serde_json::Value>,
    #[serde(default)]
    pub prompt: Option<String>,
    #[serde(default)]
    pub messages: Option<Vec<ChatMessage>>,
    #[serde(default)]
    pub continuations: Option<Vec<String>>,
}

impl PromptRow {
    /// The row's id as a string (the line number when absent).
    pub fn id(&self, line: usize) -> String {
        match &self.id {
            None | Some(serde_json::Value::Null) => line.to_string(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        }
    }

    /// Token ids of the prompt: raw text with the tokenizer's special tokens (e.g. BOS), or the
    /// conversation through the chat template with the generation prompt appended.
    pub fn encode(&self, model: &Pretrained) -> anyhow::Result<Vec<u32>> {
        match (&self.prompt, &self.messages) {
            (Some(text), None) => Ok(model.tokenizer.encode(text, true)?),
            (None, Some(messages)) => {
                let Some(template) = &model.chat_template else {
                    bail!("messages: the model has no chat template (give a raw \"prompt\")");
                };
                let text = template.render(messages, true, &Default::default())?;
                Ok(model.tokenizer.encode(&text, false)?)
            }
            (Some(_), Some(_)) => bail!("prompt: give either prompt or messages, not both"),
            (None, None) => bail!("prompt: the row has neither prompt nor messages"),
        }
    }
}

/// A seed for sample `sample` of prompt `id`: independent of order and batching.
pub fn sample_seed(base: u64, id: &str, sample: usize) -> u64 {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(base.to_le_bytes());
    h.update(id.as_bytes());
    h.update((sample as u64).to_le_bytes());
    let digest = h.finalize();
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}
