//! Options shared by the commands that load a local model: where it is, an optional LoRA
//! adapter, the device and the thread count.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use neglect_lm::pretrained::Pretrained;
use neglect_lm::{Device, runtime};

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

impl ModelArgs {
    pub fn load(&self) -> anyhow::Result<Pretrained> {
        runtime::set_threads(self.threads);
        let device = self.device.resolve()?;
        let mut pretrained = Pretrained::load(&self.model, device)
            .with_context(|| format!("loading the model in {}", self.model.display()))?;
        if let Some(adapter) = &self.adapter {
            pretrained
                .model
                .load_adapter(adapter)
                .with_context(|| format!("loading the adapter in {}", adapter.display()))?;
        }
        Ok(pretrained)
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
