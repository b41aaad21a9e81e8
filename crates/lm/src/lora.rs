//! LoRA adapters: attach to chosen linear layers, train only them, save and load them as a
//! PEFT adapter (`adapter_config.json` + `adapter_model.safetensors`), or merge them into the
//! base weights.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor, nn};

use crate::error::LmError;
use crate::model::{LoraAdapter, Model};

pub const ADAPTER_CONFIG_FILE: &str = "adapter_config.json";
pub const ADAPTER_WEIGHTS_FILE: &str = "adapter_model.safetensors";

/// The attention and MLP projections; add `lm_head` to adapt the unembedding too.
pub const DEFAULT_TARGETS: [&str; 7] = [
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
];

/// Adapter shape and training settings, as PEFT's `LoraConfig` names them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoraConfig {
    pub r: i64,
    pub lora_alpha: f64,
    #[serde(default)]
    pub lora_dropout: f64,
    /// Module names (the last component, e.g. `q_proj`, or `lm_head`).
    pub target_modules: Vec<String>,
    #[serde(default)]
    pub use_rslora: bool,
}

impl LoraConfig {
    pub fn new(rank: i64, alpha: f64, dropout: f64, train_unembed: bool) -> LoraConfig {
        let mut target_modules: Vec<String> = DEFAULT_TARGETS.map(String::from).to_vec();
        if train_unembed {
            target_modules.push("lm_head".into());
        }
        LoraConfig {
            r: rank,
            lora_alpha: alpha,
            lora_dropout: dropout,
            target_modules,
            use_rslora: false,
        }
    }

    pub fn scale(&self) -> f64 {
        if self.use_rslora {
            self.lora_alpha / (self.r as f64).sqrt()
        } else {
            self.lora_alpha / self.r as f64
        }
    }

    fn targets(&self, module: &str) -> bool {
        let last = module.rsplit('.').next().unwrap_or(module);
        self.target_modules.iter().any(|t| t == last || t == module)
    }

    fn validate(&self) -> Result<(), LmError> {
        if self.r < 1 {
            return Err(LmError::Format(format!(
                "LoRA rank must be >= 1, got {}",
                self.r
            )));
        }
        if !(0.0..1.0).contains(&self.lora_dropout) {
            return Err(LmError::Format(format!(
                "LoRA dropout must be in [0, 1), got {}",
                self.lora_dropout
            )));
        }
        let known: Vec<&str> = DEFAULT_TARGETS.iter().copied().chain(["lm_head"]).collect();
        for t in &self.target_modules {
            let last = t.rsplit('.').next().unwrap_or(t);
            if !known.contains(&last) {
                return Err(LmError::Format(format!(
                    "unknown LoRA target module '{t}' (known: {})",
                    known.join(", ")
                )));
            }
        }
        Ok(())
    }
}

impl Model {
    /// Attaches fresh adapters (A: PEFT's Kaiming-uniform init, B: zeros, so the model's
    /// outputs do not change) and freezes the base weights. `seed` fixes A's init.
    pub fn attach_lora(&mut self, config: &LoraConfig, seed: i64) -> Result<(), LmError> {
        config.validate()?;
        if self.lora.is_some() {
            return Err(LmError::Format("LoRA adapters are already attached".into()));
        }
        tch::manual_seed(seed);
        let lora_vs = nn::VarStore::new(self.device());
        let root = lora_vs.root();
        let (r, scale, dropout) = (config.r, config.scale(), config.lora_dropout);
        for (name, linear) in self.named_linears_mut() {
            if !config.targets(&name) {
                continue;
            }
            let (out_dim, in_dim) = (linear.weight.size()[0], linear.weight.size()[1]);
            let bound = 1.0 / (in_dim as f64).sqrt();
            let module = name
                .split('.')
                .fold(root.sub("base_model").sub("model"), |p, part| p.sub(part));
            let a = module.sub("lora_A").var(
                "weight",
                &[r, in_dim],
                nn::Init::Uniform {
                    lo: -bound,
                    up: bound,
                },
            );
            let b = module
                .sub("lora_B")
                .var("weight", &[out_dim, r], nn::Init::Const(0.0));
            linear.lora = Some(LoraAdapter {
                a,
                b,
                scale,
                dropout,
            });
        }
        self.vs.freeze();
        self.lora_vs = Some(lora_vs);
        self.lora = Some(config.clone());
        Ok(())
    }

    /// Writes `adapter_config.json` and `adapter_model.safetensors` (fp32) in PEFT's layout.
    pub fn save_adapter(&self, dir: &Path, base_model: &str) -> Result<(), LmError> {
        let (Some(config), Some(vs)) = (&self.lora, &self.lora_vs) else {
            return Err(LmError::Format("no LoRA adapters are attached".into()));
        };
        std::fs::create_dir_all(dir).map_err(|e| LmError::io(dir, e))?;
        let json = serde_json::json!({
            "peft_type": "LORA",
            "task_type": "CAUSAL_LM",
            "base_model_name_or_path": base_model,
            "r": config.r,
            "lora_alpha": config.lora_alpha,
            "lora_dropout": config.lora_dropout,
            "target_modules": config.target_modules,
            "use_rslora": config.use_rslora,
            "bias": "none",
            "fan_in_fan_out": false,
            "inference_mode": true,
            "init_lora_weights": true,
            "modules_to_save": null,
            "use_dora": false,
        });
        let path = dir.join(ADAPTER_CONFIG_FILE);
        std::fs::write(&path, serde_json::to_string_pretty(&json).expect("json"))
            .map_err(|e| LmError::io(&path, e))?;
        let tensors: BTreeMap<String, Tensor> = vs.variables().into_iter().collect();
        crate::checkpoint::write_safetensors(&dir.join(ADAPTER_WEIGHTS_FILE), &tensors, Kind::Float)
    }

    /// Attaches the adapter saved in `dir` (PEFT layout) and loads its weights.
    pub fn load_adapter(&mut self, dir: &Path) -> Result<(), LmError> {
        let path = dir.join(ADAPTER_CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| LmError::io(&path, e))?;
        let config: LoraConfig = serde_json::from_str(&text)
            .map_err(|e| LmError::Format(format!("{}: {e}", path.display())))?;
        self.attach_lora(&config, 0)?;
        let vs = self.lora_vs.as_mut().expect("just attached");
        let weights = dir.join(ADAPTER_WEIGHTS_FILE);
        crate::checkpoint::load_into(&mut vs.variables(), &[weights], |_| false)
    }

    /// Adds every adapter's `scale · B A` into its base weight and detaches the adapters.
    /// With tied embeddings and an adapted unembedding, the head is untied first (the config's
    /// `tie_word_embeddings` becomes false) so that the input embeddings stay as they were.
    pub fn merge_lora(&mut self) -> Result<(), LmError> {
        if self.lora.is_none() {
            return Err(LmError::Format("no LoRA adapters are attached".into()));
        }
        if self.config.tie_word_embeddings && self.lm_head.lora.is_some() {
            let head = self
                .vs
                .root()
                .sub("lm_head")
                .var_copy("weight", &self.embed_tokens.detach());
            self.lm_head.weight = head;
            self.config.tie_word_embeddings = false;
        }
        tch::no_grad(|| {
            for (_, linear) in self.named_linears_mut() {
                if let Some(lora) = linear.lora.take() {
                    let delta = lora.b.matmul(&lora.a) * lora.scale;
                    let _ = linear.weight.g_add_(&delta.to_kind(linear.weight.kind()));
                }
            }
        });
        self.vs.unfreeze();
        self.lora_vs = None;
        self.lora = None;
        Ok(())
    }

    /// The tensors training updates, by name: the adapters when LoRA is attached, else every
    /// base parameter.
    pub fn trainable(&self) -> HashMap<String, Tensor> {
        match &self.lora_vs {
            Some(vs) => vs.variables(),
            None => self.vs.variables(),
        }
    }
}
