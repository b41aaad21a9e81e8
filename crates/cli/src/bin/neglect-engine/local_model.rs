//! Loading local models with libtorch: the engine's side of `commands::model_args`.

use std::sync::Arc;

use anyhow::Context;
use neglect_cli::commands::model_args::{LocalModels, ModelArgs};
use neglect_lm::chat_model::LocalChatModel;
use neglect_lm::pretrained::Pretrained;
use neglect_lm::{resolve_device, runtime};
use neglect_spec::ChatModel;

/// Loads the model (and adapter) named by `args` onto its device.
pub fn load(args: &ModelArgs) -> anyhow::Result<Pretrained> {
    runtime::set_threads(args.threads);
    let device = resolve_device(args.device)?;
    let mut pretrained = Pretrained::load(&args.model, device)
        .with_context(|| format!("loading the model in {}", args.model.display()))?;
    if let Some(adapter) = &args.adapter {
        pretrained
            .model
            .load_adapter(adapter)
            .with_context(|| format!("loading the adapter in {}", adapter.display()))?;
    }
    Ok(pretrained)
}

/// Local models through libtorch (the engine binary).
pub struct LibtorchModels;

impl LocalModels for LibtorchModels {
    fn chat_model(
        &self,
        id: String,
        args: &ModelArgs,
        batch_size: usize,
    ) -> anyhow::Result<Arc<dyn ChatModel>> {
        Ok(Arc::new(LocalChatModel::new(id, load(args)?, batch_size)))
    }
}
