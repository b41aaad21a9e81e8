//! Options shared by the commands that load a local model: where it is, an optional LoRA
//! adapter, the device and the thread count.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::bail;
use clap::Args;
use neglect_spec::{ChatModel, Device};

#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// A Hugging Face model directory (config.json, *.safetensors, tokenizer.json, ...).
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    /// A PEFT LoRA adapter directory to apply on top of --model.
    #[arg(long, value_name = "DIR")]
    pub adapter: Option<PathBuf>,
    /// cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: Device,
    /// CPU threads for libtorch (0: libtorch's default).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

/// Loads local models for the commands that take either a local or a hosted model (`eval`).
/// The seam keeps libtorch out of the `neglect` binary: it passes [`NoLocalModels`], the
/// engine passes its libtorch loader.
pub trait LocalModels {
    /// The local model in `args`, as a chat model named `id`, generating `batch_size` at once.
    fn chat_model(
        &self,
        id: String,
        args: &ModelArgs,
        batch_size: usize,
    ) -> anyhow::Result<Arc<dyn ChatModel>>;
}

/// No local models (the `neglect` binary, which hands every command needing one to the engine
/// before it gets here).
pub struct NoLocalModels;

impl LocalModels for NoLocalModels {
    fn chat_model(
        &self,
        _: String,
        args: &ModelArgs,
        _: usize,
    ) -> anyhow::Result<Arc<dyn ChatModel>> {
        bail!(
            "loading the local model {} needs neglect-engine (this binary has no libtorch)",
            args.model.display()
        )
    }
}

/// A progress bar in the house style, hidden when stderr is not a terminal.
pub fn progress_bar(total: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} {what} [{{bar:30}}] {{pos}}/{{len}} {{msg}} ({{elapsed}}, eta {{eta}})"
        ))
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar
}
