//! The transformer engine: one Llama/Qwen-family decoder on libtorch (through `tch`).
//!
//! - [`runtime`]: which libtorch this binary runs on, CUDA linkage, devices, threads.
//! - [`config`]: Hugging Face `config.json` for Llama, Qwen2 and Qwen3.
//! - [`model`]: the decoder, with parameters under HF tensor names.
//! - [`checkpoint`]: HF checkpoint directories (safetensors, single or sharded).
//! - [`tokenizer`], [`chat_template`], [`pretrained`]: the rest of an HF model directory.
//! - [`lora`]: LoRA adapters (PEFT format), merging.
//! - [`sampling`], [`scoring`]: KV-cache generation and continuation log-probs.
//! - [`chat_model`]: a local model behind the `ChatModel` seam (chat template + the two above).
//! - [`train`]: full and LoRA fine-tuning with checkpoints and resume.

pub mod chat_model;
pub mod chat_template;
pub mod checkpoint;
pub mod config;
pub mod error;
pub mod lora;
pub mod model;
pub mod pretrained;
pub mod runtime;
pub mod sampling;
pub mod scoring;
pub mod tokenizer;
pub mod train;

pub use config::{Family, ModelConfig};
pub use error::LmError;
pub use model::Model;
pub use runtime::{Device, DeviceError, RuntimeInfo, resolve_device};
pub use tch::Kind;
