//! Hugging Face checkpoints: `config.json` + `model.safetensors`, or shards listed in
//! `model.safetensors.index.json`. Weights are copied into the model's (fp32) variables
//! whatever their stored dtype; saving writes the `{"format": "pt"}` metadata that
//! `transformers` expects.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, View};
use tch::{Device, Kind, Tensor};

use crate::config::ModelConfig;
use crate::error::LmError;
use crate::model::Model;

pub const CONFIG_FILE: &str = "config.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const INDEX_FILE: &str = "model.safetensors.index.json";

/// Tensors that may sit in a checkpoint without being parameters of ours.
fn ignorable(name: &str, config: &ModelConfig) -> bool {
    name.ends_with("rotary_emb.inv_freq")
        || (config.tie_word_embeddings && name == "lm_head.weight")
}

fn kind_of(dtype: Dtype) -> Result<Kind, LmError> {
    Ok(match dtype {
        Dtype::F32 => Kind::Float,
        Dtype::F16 => Kind::Half,
        Dtype::BF16 => Kind::BFloat16,
        Dtype::F64 => Kind::Double,
        Dtype::I64 => Kind::Int64,
        Dtype::I32 => Kind::Int,
        other => {
            return Err(LmError::Format(format!(
                "unsupported tensor dtype {other:?}"
            )));
        }
    })
}

fn dtype_of(kind: Kind) -> Result<Dtype, LmError> {
    Ok(match kind {
        Kind::Float => Dtype::F32,
        Kind::Half => Dtype::F16,
        Kind::BFloat16 => Dtype::BF16,
        Kind::Double => Dtype::F64,
        Kind::Int64 => Dtype::I64,
        Kind::Int => Dtype::I32,
        other => {
            return Err(LmError::Format(format!(
                "cannot save tensors of kind {other:?}"
            )));
        }
    })
}

/// The weight files of a checkpoint directory, single-file or sharded.
fn weight_files(dir: &Path) -> Result<Vec<PathBuf>, LmError> {
    let single = dir.join(WEIGHTS_FILE);
    if single.is_file() {
        return Ok(vec![single]);
    }
    let index = dir.join(INDEX_FILE);
    let text = std::fs::read_to_string(&index).map_err(|_| {
        LmError::Format(format!(
            "{}: neither {WEIGHTS_FILE} nor {INDEX_FILE} found",
            dir.display()
        ))
    })?;
    let parsed: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| LmError::Format(format!("{}: {e}", index.display())))?;
    let map = parsed["weight_map"]
        .as_object()
        .ok_or_else(|| LmError::Format(format!("{}: no weight_map", index.display())))?;
    let mut files: Vec<PathBuf> = map
        .values()
        .filter_map(|v| v.as_str())
        .map(|f| dir.join(f))
        .collect();
    files.sort();
    files.dedup();
    Ok(files)
}

/// Copies the tensors of safetensors `files` into `vars` by name (converting dtypes). Every
/// variable must be found with its shape; names neither in `vars` nor `ignorable` are errors.
pub fn load_into(
    vars: &mut HashMap<String, Tensor>,
    files: &[PathBuf],
    ignorable: impl Fn(&str) -> bool,
) -> Result<(), LmError> {
    let mut missing: BTreeMap<String, ()> = vars.keys().map(|k| (k.clone(), ())).collect();
    let mut unexpected = Vec::new();
    for file in files {
        let handle = File::open(file).map_err(|e| LmError::io(file, e))?;
        // SAFETY: the file is only read, and not expected to change while we copy from it.
        let mmap = unsafe { memmap2::Mmap::map(&handle) }.map_err(|e| LmError::io(file, e))?;
        let tensors = SafeTensors::deserialize(&mmap)
            .map_err(|e| LmError::Format(format!("{}: {e}", file.display())))?;
        for (name, view) in tensors.tensors() {
            let Some(var) = vars.get_mut(&name) else {
                if !ignorable(&name) {
                    unexpected.push(name);
                }
                continue;
            };
            let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
            if shape != var.size() {
                return Err(LmError::Format(format!(
                    "{}: {name} has shape {shape:?}, the config implies {:?}",
                    file.display(),
                    var.size()
                )));
            }
            let src = Tensor::from_data_size(view.data(), &shape, kind_of(view.dtype())?);
            tch::no_grad(|| var.copy_(&src.to_kind(var.kind())));
            missing.remove(&name);
        }
    }
    if !missing.is_empty() || !unexpected.is_empty() {
        let list = |v: Vec<String>| v.into_iter().take(5).collect::<Vec<_>>().join(", ");
        return Err(LmError::Format(format!(
            "checkpoint does not match the config (missing: [{}]; unexpected: [{}])",
            list(missing.into_keys().collect()),
            list(unexpected)
        )));
    }
    Ok(())
}

/// Writes `tensors` (converted to `kind`) as one safetensors file with `{"format": "pt"}`.
pub fn write_safetensors(
    path: &Path,
    tensors: &BTreeMap<String, Tensor>,
    kind: Kind,
) -> Result<(), LmError> {
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .map(|(name, t)| {
            let t = t.detach().to_kind(kind).to_device(Device::Cpu).contiguous();
            Ok((name.clone(), TensorView::new(&t)?))
        })
        .collect::<Result<_, LmError>>()?;
    let metadata = Some(HashMap::from([("format".to_owned(), "pt".to_owned())]));
    safetensors::serialize_to_file(views, metadata, path)
        .map_err(|e| LmError::Format(format!("{}: {e}", path.display())))
}

/// Reads every tensor of one safetensors file (as stored, on the CPU).
pub fn read_safetensors(path: &Path) -> Result<BTreeMap<String, Tensor>, LmError> {
    let bytes = std::fs::read(path).map_err(|e| LmError::io(path, e))?;
    let tensors = SafeTensors::deserialize(&bytes)
        .map_err(|e| LmError::Format(format!("{}: {e}", path.display())))?;
    tensors
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
            Ok((
                name,
                Tensor::from_data_size(view.data(), &shape, kind_of(view.dtype())?),
            ))
        })
        .collect()
}

impl Model {
    /// Loads `config.json` and the weights of an HF checkpoint directory.
    pub fn load(dir: &Path, device: Device) -> Result<Model, LmError> {
        let config = ModelConfig::load(&dir.join(CONFIG_FILE))?;
        let mut model = Model::new(config, device)?;
        model.load_weights(dir)?;
        Ok(model)
    }

    /// Copies every tensor of the checkpoint into the matching variable. Every variable must
    /// be found with the right shape, and no unknown tensor may be left over.
    pub fn load_weights(&mut self, dir: &Path) -> Result<(), LmError> {
        let files = weight_files(dir)?;
        let config = &self.config;
        load_into(&mut self.vs.variables(), &files, |name| {
            ignorable(name, config)
        })
        .map_err(|e| match e {
            LmError::Format(m) => LmError::Format(format!("{}: {m}", dir.display())),
            other => other,
        })
    }

    /// Writes `config.json` and the weights (as `kind`, e.g. fp32 or bf16), sharded into files
    /// of at most `max_shard_bytes` with an index when they do not fit in one.
    pub fn save(&self, dir: &Path, kind: Kind, max_shard_bytes: usize) -> Result<(), LmError> {
        std::fs::create_dir_all(dir).map_err(|e| LmError::io(dir, e))?;
        self.config.save(&dir.join(CONFIG_FILE))?;
        let vars: BTreeMap<String, Tensor> = self.vs.variables().into_iter().collect();
        let mut shards: Vec<Vec<(String, Tensor)>> = vec![Vec::new()];
        let mut shard_bytes = 0;
        for (name, var) in vars {
            let t = var
                .detach()
                .to_kind(kind)
                .to_device(Device::Cpu)
                .contiguous();
            let bytes = t.numel() * kind.elt_size_in_bytes();
            if shard_bytes > 0 && shard_bytes + bytes > max_shard_bytes {
                shards.push(Vec::new());
                shard_bytes = 0;
            }
            shard_bytes += bytes;
            shards.last_mut().expect("one shard").push((name, t));
        }
        let metadata = Some(HashMap::from([("format".to_owned(), "pt".to_owned())]));
        let n = shards.len();
        let mut weight_map = serde_json::Map::new();
        let mut total = 0usize;
        for (i, shard) in shards.iter().enumerate() {
            let file_name = if n == 1 {
                WEIGHTS_FILE.to_owned()
            } else {
                format!("model-{:05}-of-{n:05}.safetensors", i + 1)
            };
            let views: Vec<(String, TensorView)> = shard
                .iter()
                .map(|(name, t)| Ok((name.clone(), TensorView::new(t)?)))
                .collect::<Result<_, LmError>>()?;
            for (name, view) in &views {
                weight_map.insert(name.clone(), file_name.clone().into());
                total += view.data.len();
            }
            let path = dir.join(&file_name);
            safetensors::serialize_to_file(views, metadata.clone(), &path)
                .map_err(|e| LmError::Format(format!("{}: {e}", path.display())))?;
        }
        let index = dir.join(INDEX_FILE);
        if n > 1 {
            let json =
                serde_json::json!({"metadata": {"total_size": total}, "weight_map": weight_map});
            std::fs::write(&index, serde_json::to_string_pretty(&json).expect("json"))
                .map_err(|e| LmError::io(&index, e))?;
        } else if index.exists() {
            std::fs::remove_file(&index).map_err(|e| LmError::io(&index, e))?;
        }
        Ok(())
    }
}

/// A CPU tensor's bytes, as safetensors wants them.
struct TensorView {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl TensorView {
    fn new(t: &Tensor) -> Result<Self, LmError> {
        let kind = t.kind();
        let numel = t.numel();
        let mut data = vec![0u8; numel * kind.elt_size_in_bytes()];
        t.f_copy_data_u8(&mut data, numel)?;
        Ok(TensorView {
            dtype: dtype_of(kind)?,
            shape: t.size().iter().map(|&d| d as usize).collect(),
            data,
        })
    }
}

impl View for TensorView {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}
