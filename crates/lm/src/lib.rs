//! The transformer engine: one Llama/Qwen-family decoder on libtorch (through `tch`).
//!
//! So far this crate owns the runtime: which libtorch this binary was built against, whether
//! CUDA is linked and usable, and device and thread selection. The model, training, LoRA and
//! sampling arrive with the engine issue.

pub mod runtime;

pub use runtime::{Device, DeviceError, RuntimeInfo};
