//! A whole Hugging Face model directory: weights and config ([`Model`]), tokenizer, chat
//! template and `generation_config.json`.

use std::path::Path;

use tch::{Device, Kind};

use crate::chat_template::{CHAT_TEMPLATE_FILE, ChatTemplate};
use crate::error::LmError;
use crate::model::Model;
use crate::tokenizer::Tokenizer;

pub const GENERATION_CONFIG_FILE: &str = "generation_config.json";

/// The fields of `generation_config.json` we use; everything else is kept verbatim.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenerationConfig {
    pub raw: serde_json::Map<String, serde_json::Value>,
}

impl GenerationConfig {
    pub fn load(path: &Path) -> Result<GenerationConfig, LmError> {
        if !path.is_file() {
            return Ok(GenerationConfig::default());
        }
        let text = std::fs::read_to_string(path).map_err(|e| LmError::io(path, e))?;
        match serde_json::from_str(&text)
            .map_err(|e| LmError::Format(format!("{}: {e}", path.display())))?
        {
            serde_json::Value::Object(raw) => Ok(GenerationConfig { raw }),
            _ => Err(LmError::Format(format!(
                "{}: expected a JSON object",
                path.display()
            ))),
        }
    }

    pub fn save(&self, path: &Path) -> Result<(), LmError> {
        let text = serde_json::to_string_pretty(&self.raw).expect("json map");
        std::fs::write(path, text).map_err(|e| LmError::io(path, e))
    }

    /// `eos_token_id`, which HF allows to be one id or a list.
    pub fn eos_ids(&self) -> Vec<u32> {
        match self.raw.get("eos_token_id") {
            Some(serde_json::Value::Number(n)) => {
                n.as_u64().map(|n| n as u32).into_iter().collect()
            }
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_u64())
                .map(|n| n as u32)
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn temperature(&self) -> Option<f64> {
        self.raw.get("temperature").and_then(|v| v.as_f64())
    }

    pub fn top_p(&self) -> Option<f64> {
        self.raw.get("top_p").and_then(|v| v.as_f64())
    }
}

/// A model with everything needed to talk to it.
pub struct Pretrained {
    pub model: Model,
    pub tokenizer: Tokenizer,
    pub chat_template: Option<ChatTemplate>,
    pub generation: GenerationConfig,
}

impl Pretrained {
    pub fn load(dir: &Path, device: Device) -> Result<Pretrained, LmError> {
        let tokenizer = Tokenizer::load(dir)?;
        let chat_template = ChatTemplate::load(dir, &tokenizer)?;
        let generation = GenerationConfig::load(&dir.join(GENERATION_CONFIG_FILE))?;
        let model = Model::load(dir, device)?;
        let vocab = tokenizer.vocab_size() as i64;
        if vocab > model.config.vocab_size {
            return Err(LmError::Format(format!(
                "{}: the tokenizer has {vocab} tokens but the model's vocab_size is {}",
                dir.display(),
                model.config.vocab_size
            )));
        }
        Ok(Pretrained {
            model,
            tokenizer,
            chat_template,
            generation,
        })
    }

    /// Writes a complete HF model directory (weights as `kind`).
    pub fn save(&self, dir: &Path, kind: Kind) -> Result<(), LmError> {
        self.model.save(dir, kind, DEFAULT_SHARD_BYTES)?;
        self.save_companions(dir)
    }

    /// Everything but the weights: tokenizer, chat template, generation config.
    pub fn save_companions(&self, dir: &Path) -> Result<(), LmError> {
        self.tokenizer.save(dir)?;
        // The template travels inside tokenizer_config.json already when it came from there.
        if let Some(t) = &self.chat_template
            && !self.tokenizer.config.contains_key("chat_template")
        {
            let path = dir.join(CHAT_TEMPLATE_FILE);
            std::fs::write(&path, &t.source).map_err(|e| LmError::io(&path, e))?;
        }
        if !self.generation.raw.is_empty() {
            self.generation.save(&dir.join(GENERATION_CONFIG_FILE))?;
        }
        Ok(())
    }

    /// Token ids that end a generation: the generation config's, else the tokenizer's EOS.
    pub fn stop_ids(&self) -> Vec<u32> {
        let ids = self.generation.eos_ids();
        if ids.is_empty() {
            self.tokenizer.eos_ids()
        } else {
            ids
        }
    }
}

/// Shard size used when saving (HF's default is 5 GB; we keep files under 2 GiB).
pub const DEFAULT_SHARD_BYTES: usize = 2 << 30;
