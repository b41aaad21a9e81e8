//! AdamW over named tensors, with its state saved and restored exactly (for resuming).

use std::collections::BTreeMap;
use std::path::Path;

use tch::{Kind, Tensor};

use crate::checkpoint::{read_safetensors, write_safetensors};
use crate::error::LmError;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

/// Decoupled-weight-decay Adam (Loshchilov & Hutter), as `torch.optim.AdamW` computes it.
pub struct AdamW {
    pub config: AdamWConfig,
    /// Parameters by name, sorted so that every run visits them in the same order.
    params: BTreeMap<String, Tensor>,
    m: BTreeMap<String, Tensor>,
    v: BTreeMap<String, Tensor>,
    /// Number of updates applied so far.
    pub steps: i64,
}

impl AdamW {
    pub fn new(params: impl IntoIterator<Item = (String, Tensor)>, config: AdamWConfig) -> AdamW {
        let params: BTreeMap<String, Tensor> = params.into_iter().collect();
        let zeros = |p: &Tensor| Tensor::zeros_like(p).to_kind(Kind::Float);
        let m = params.iter().map(|(k, p)| (k.clone(), zeros(p))).collect();
        let v = params.iter().map(|(k, p)| (k.clone(), zeros(p))).collect();
        AdamW {
            config,
            params,
            m,
            v,
            steps: 0,
        }
    }

    pub fn params(&self) -> impl Iterator<Item = (&String, &Tensor)> {
        self.params.iter()
    }

    pub fn zero_grad(&mut self) {
        for p in self.params.values_mut() {
            p.zero_grad();
        }
    }

    /// The global L2 norm of the gradients; scales them down to `max_norm` when given and
    /// exceeded. Returns the norm before clipping.
    pub fn clip_grad_norm(&mut self, max_norm: Option<f64>) -> f64 {
        let grads: Vec<Tensor> = self
            .params
            .values()
            .map(|p| p.grad())
            .filter(|g| g.defined())
            .collect();
        if grads.is_empty() {
            return 0.0;
        }
        let squares: Vec<Tensor> = grads
            .iter()
            .map(|g| g.to_kind(Kind::Double).square().sum(Kind::Double))
            .collect();
        let norm = Tensor::stack(&squares, 0)
            .sum(Kind::Double)
            .sqrt()
            .double_value(&[]);
        if let Some(max) = max_norm
            && norm > max
        {
            let factor = max / (norm + 1e-6);
            for mut g in grads {
                let _ = g.g_mul_scalar_(factor);
            }
        }
        norm
    }

    /// One update with learning rate `lr`.
    pub fn step(&mut self, lr: f64) {
        self.steps += 1;
        let c = self.config;
        let t = self.steps as i32;
        let bias1 = 1.0 - c.beta1.powi(t);
        let bias2 = 1.0 - c.beta2.powi(t);
        tch::no_grad(|| {
            for (name, p) in self.params.iter_mut() {
                let g = p.grad();
                if !g.defined() {
                    continue;
                }
                let g = g.to_kind(Kind::Float);
                let m = self.m.get_mut(name).expect("state for every param");
                let v = self.v.get_mut(name).expect("state for every param");
                let _ = m.lerp_(&g, 1.0 - c.beta1);
                let _ = v.g_mul_scalar_(c.beta2);
                let _ = v.g_add_(&(g.square() * (1.0 - c.beta2)));
                if c.weight_decay > 0.0 {
                    let _ = p.g_mul_scalar_(1.0 - lr * c.weight_decay);
                }
                let denom = (&*v / bias2).sqrt() + c.eps;
                let update = (&*m / denom) * (lr / bias1);
                let _ = p.g_sub_(&update.to_kind(p.kind()));
            }
        });
    }

    /// Writes the moments (`m.<name>`, `v.<name>`) and the step count to `path`.
    pub fn save(&self, path: &Path) -> Result<(), LmError> {
        let mut tensors = BTreeMap::new();
        for (k, t) in &self.m {
            tensors.insert(format!("m.{k}"), t.shallow_clone());
        }
        for (k, t) in &self.v {
            tensors.insert(format!("v.{k}"), t.shallow_clone());
        }
        tensors.insert("steps".into(), Tensor::from_slice(&[self.steps]));
        // (The step count is stored as fp32 too, which holds it exactly.)
        write_safetensors(path, &tensors, Kind::Float)
    }

    /// Restores what [`AdamW::save`] wrote; the parameter names must match.
    pub fn load(&mut self, path: &Path) -> Result<(), LmError> {
        let stored = read_safetensors(path)?;
        let device = self.params.values().next().map(|p| p.device());
        for (prefix, states) in [("m", &mut self.m), ("v", &mut self.v)] {
            for (name, state) in states.iter_mut() {
                let key = format!("{prefix}.{name}");
                let src = stored.get(&key).ok_or_else(|| {
                    LmError::Format(format!("{}: no optimizer state for {name}", path.display()))
                })?;
                if src.size() != state.size() {
                    return Err(LmError::Format(format!(
                        "{}: {key} has shape {:?}, expected {:?}",
                        path.display(),
                        src.size(),
                        state.size()
                    )));
                }
                tch::no_grad(|| state.copy_(&src.to_device(device.unwrap_or(tch::Device::Cpu))));
            }
        }
        let steps = stored
            .get("steps")
            .ok_or_else(|| LmError::Format(format!("{}: no step count", path.display())))?;
        self.steps = steps.double_value(&[0]) as i64;
        Ok(())
    }
}
