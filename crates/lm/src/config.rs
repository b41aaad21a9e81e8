//! The model's `config.json`, in Hugging Face's format, for the Llama, Qwen2 and Qwen3 families.
//!
//! Unknown keys are kept and written back, so a config we save still carries everything the
//! original had.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::LmError;

/// The architecture families this engine implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Llama,
    /// Qwen2: biases on the q, k and v projections.
    Qwen2,
    /// Qwen3: RMSNorm on each head of q and k, no biases.
    Qwen3,
}

fn default_eps() -> f64 {
    1e-6
}
fn default_theta() -> f64 {
    10_000.0
}
fn default_max_positions() -> i64 {
    2048
}
fn default_act() -> String {
    "silu".into()
}
fn default_init() -> f64 {
    0.02
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub architectures: Vec<String>,
    pub model_type: String,
    pub vocab_size: i64,
    pub hidden_size: i64,
    pub intermediate_size: i64,
    pub num_hidden_layers: i64,
    pub num_attention_heads: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_key_value_heads: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_dim: Option<i64>,
    #[serde(default = "default_eps")]
    pub rms_norm_eps: f64,
    #[serde(default = "default_theta")]
    pub rope_theta: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rope_scaling: Option<Value>,
    #[serde(default = "default_max_positions")]
    pub max_position_embeddings: i64,
    #[serde(default)]
    pub tie_word_embeddings: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention_bias: Option<bool>,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default = "default_init")]
    pub initializer_range: f64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// How RoPE frequencies are rescaled (`rope_scaling` in the config).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RopeScaling {
    None,
    Linear {
        factor: f64,
    },
    Llama3 {
        factor: f64,
        low_freq_factor: f64,
        high_freq_factor: f64,
        original_max_positions: f64,
    },
}

impl ModelConfig {
    pub fn load(path: &Path) -> Result<Self, LmError> {
        let text = std::fs::read_to_string(path).map_err(|e| LmError::io(path, e))?;
        let config: ModelConfig = serde_json::from_str(&text)
            .map_err(|e| LmError::Format(format!("{}: {e}", path.display())))?;
        config
            .validate()
            .map_err(|e| LmError::Format(format!("{}: {e}", path.display())))?;
        Ok(config)
    }

    pub fn save(&self, path: &Path) -> Result<(), LmError> {
        let text = serde_json::to_string_pretty(self).expect("config serialises");
        std::fs::write(path, text + "\n").map_err(|e| LmError::io(path, e))
    }

    pub fn family(&self) -> Result<Family, String> {
        match self.model_type.as_str() {
            "llama" | "mistral" => Ok(Family::Llama),
            "qwen2" => Ok(Family::Qwen2),
            "qwen3" => Ok(Family::Qwen3),
            other => Err(format!(
                "model_type '{other}' is not supported (supported: llama, qwen2, qwen3)"
            )),
        }
    }

    pub fn kv_heads(&self) -> i64 {
        self.num_key_value_heads.unwrap_or(self.num_attention_heads)
    }

    pub fn head_dim(&self) -> i64 {
        self.head_dim
            .unwrap_or(self.hidden_size / self.num_attention_heads)
    }

    /// Whether q, k and v projections carry biases.
    pub fn qkv_bias(&self) -> bool {
        match self.family() {
            Ok(Family::Qwen2) => true,
            _ => self.attention_bias.unwrap_or(false),
        }
    }

    /// Whether the output projection carries a bias (only with `attention_bias` in Llama).
    pub fn o_bias(&self) -> bool {
        matches!(self.family(), Ok(Family::Llama)) && self.attention_bias.unwrap_or(false)
    }

    pub fn qk_norm(&self) -> bool {
        matches!(self.family(), Ok(Family::Qwen3))
    }

    pub fn rope_scaling(&self) -> Result<RopeScaling, String> {
        let Some(Value::Object(s)) = &self.rope_scaling else {
            return Ok(RopeScaling::None);
        };
        let kind = s
            .get("rope_type")
            .or_else(|| s.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("default");
        let num = |k: &str| {
            s.get(k)
                .and_then(Value::as_f64)
                .ok_or_else(|| format!("rope_scaling.{k} is missing"))
        };
        match kind {
            "default" => Ok(RopeScaling::None),
            "linear" => Ok(RopeScaling::Linear {
                factor: num("factor")?,
            }),
            "llama3" => Ok(RopeScaling::Llama3 {
                factor: num("factor")?,
                low_freq_factor: num("low_freq_factor")?,
                high_freq_factor: num("high_freq_factor")?,
                original_max_positions: num("original_max_position_embeddings")?,
            }),
            other => Err(format!(
                "rope_scaling type '{other}' is not supported (default, linear, llama3)"
            )),
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        self.family()?;
        self.rope_scaling()?;
        if self.hidden_act != "silu" {
            return Err(format!(
                "hidden_act '{}' is not supported (silu)",
                self.hidden_act
            ));
        }
        for (name, v) in [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("intermediate_size", self.intermediate_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("num_key_value_heads", self.kv_heads()),
            ("head_dim", self.head_dim()),
        ] {
            if v <= 0 {
                return Err(format!("{name} must be positive, got {v}"));
            }
        }
        if self.num_attention_heads % self.kv_heads() != 0 {
            return Err(format!(
                "num_attention_heads ({}) must be a multiple of num_key_value_heads ({})",
                self.num_attention_heads,
                self.kv_heads()
            ));
        }
        if self.head_dim() % 2 != 0 {
            return Err(format!(
                "head_dim must be even for RoPE, got {}",
                self.head_dim()
            ));
        }
        Ok(())
    }

    /// A small config of the given family, for the organism and for tests.
    pub fn tiny(
        family: Family,
        vocab_size: i64,
        hidden: i64,
        layers: i64,
        heads: i64,
        kv_heads: i64,
    ) -> Self {
        let (model_type, arch) = match family {
            Family::Llama => ("llama", "LlamaForCausalLM"),
            Family::Qwen2 => ("qwen2", "Qwen2ForCausalLM"),
            Family::Qwen3 => ("qwen3", "Qwen3ForCausalLM"),
        };
        ModelConfig {
            architectures: vec![arch.into()],
            model_type: model_type.into(),
            vocab_size,
            hidden_size: hidden,
            intermediate_size: hidden * 3,
            num_hidden_layers: layers,
            num_attention_heads: heads,
            num_key_value_heads: Some(kv_heads),
            head_dim: Some(hidden / heads),
            rms_norm_eps: 1e-6,
            rope_theta: 10_000.0,
            rope_scaling: None,
            max_position_embeddings: 512,
            tie_word_embeddings: true,
            attention_bias: Some(false),
            hidden_act: "silu".into(),
            initializer_range: 0.02,
            extra: Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_qwen3_config_and_keeps_unknown_keys() {
        let text = r#"{"architectures":["Qwen3ForCausalLM"],"model_type":"qwen3","vocab_size":151936,
            "hidden_size":1024,"intermediate_size":3072,"num_hidden_layers":28,"num_attention_heads":16,
            "num_key_value_heads":8,"head_dim":128,"rms_norm_eps":1e-6,"rope_theta":1000000,
            "max_position_embeddings":40960,"tie_word_embeddings":true,"torch_dtype":"bfloat16",
            "attention_bias":false,"hidden_act":"silu","rope_scaling":null}"#;
        let c: ModelConfig = serde_json::from_str(text).unwrap();
        c.validate().unwrap();
        assert_eq!(c.family().unwrap(), Family::Qwen3);
        assert_eq!(
            (c.head_dim(), c.kv_heads(), c.qk_norm(), c.qkv_bias()),
            (128, 8, true, false)
        );
        assert_eq!(c.extra["torch_dtype"], "bfloat16");
        let back: Value = serde_json::to_value(&c).unwrap();
        assert_eq!(back["torch_dtype"], "bfloat16");
    }

    #[test]
    fn llama3_rope_scaling_and_errors() {
        let mut c = ModelConfig::tiny(Family::Llama, 100, 32, 1, 4, 2);
        c.rope_scaling = Some(
            serde_json::json!({"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,
            "high_freq_factor":4.0,"original_max_position_embeddings":8192}),
        );
        assert!(matches!(
            c.rope_scaling().unwrap(),
            RopeScaling::Llama3 { .. }
        ));
        c.rope_scaling = Some(serde_json::json!({"rope_type":"yarn","factor":4.0}));
        assert!(c.validate().unwrap_err().contains("yarn"));
        let mut c = ModelConfig::tiny(Family::Qwen2, 100, 32, 1, 4, 3);
        assert!(c.validate().unwrap_err().contains("multiple"));
        c.num_key_value_heads = Some(2);
        assert!(c.qkv_bias());
        c.model_type = "gpt2".into();
        assert!(c.validate().unwrap_err().contains("gpt2"));
    }
}
