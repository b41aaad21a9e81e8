//! One decoder for the Llama, Qwen2 and Qwen3 families: RMSNorm, RoPE, grouped-query attention
//! through libtorch's fused scaled-dot-product attention, SwiGLU MLP, Qwen3's per-head q/k
//! norm, optional tied embeddings. Parameters live in a `VarStore` under Hugging Face's tensor
//! names (`model.layers.0.self_attn.q_proj.weight`, ...), so checkpoints load and save as is.

use tch::{Device, Kind, Tensor, nn};

use crate::config::{ModelConfig, RopeScaling};
use crate::error::LmError;

/// `y = x Wᵀ + b`, plus a low-rank update when a LoRA adapter is attached.
#[derive(Debug)]
pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    pub lora: Option<LoraAdapter>,
}

/// `scale · B A x` beside a frozen linear layer (A: `[rank, in]`, B: `[out, rank]`).
#[derive(Debug)]
pub struct LoraAdapter {
    pub a: Tensor,
    pub b: Tensor,
    pub scale: f64,
    pub dropout: f64,
}

impl Linear {
    fn new(p: nn::Path, in_dim: i64, out_dim: i64, bias: bool, std: f64) -> Self {
        let weight = p.var(
            "weight",
            &[out_dim, in_dim],
            nn::Init::Randn {
                mean: 0.0,
                stdev: std,
            },
        );
        let bias = bias.then(|| p.var("bias", &[out_dim], nn::Init::Const(0.0)));
        Linear {
            weight,
            bias,
            lora: None,
        }
    }

    /// Runs in `x`'s dtype: with a bf16 input the fp32 master weights are cast on the fly.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let kind = x.kind();
        let bias = self.bias.as_ref().map(|b| b.to_kind(kind));
        let y = x.linear(&self.weight.to_kind(kind), bias.as_ref());
        match &self.lora {
            None => y,
            Some(lora) => {
                let dropped = if train && lora.dropout > 0.0 {
                    x.dropout(lora.dropout, true)
                } else {
                    x.shallow_clone()
                };
                let low = dropped
                    .linear(&lora.a.to_kind(kind), None::<&Tensor>)
                    .linear(&lora.b.to_kind(kind), None::<&Tensor>);
                y + low * lora.scale
            }
        }
    }
}

/// Root-mean-square norm, computed in fp32 like the reference implementations.
#[derive(Debug)]
pub struct RmsNorm {
    pub weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    fn new(p: nn::Path, dim: i64, eps: f64) -> Self {
        RmsNorm {
            weight: p.var("weight", &[dim], nn::Init::Const(1.0)),
            eps,
        }
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        let kind = x.kind();
        let compute = if kind == Kind::Double {
            Kind::Double
        } else {
            Kind::Float
        };
        let xf = x.to_kind(compute);
        let variance = xf.square().mean_dim(-1, true, compute);
        (xf * (variance + self.eps).rsqrt()).to_kind(kind) * self.weight.to_kind(kind)
    }
}

/// Rotary position embedding frequencies (with the config's theta and scaling).
#[derive(Debug)]
pub struct Rope {
    inv_freq: Tensor,
}

impl Rope {
    fn new(config: &ModelConfig, device: Device) -> Result<Self, LmError> {
        let dim = config.head_dim();
        let scaling = config.rope_scaling().map_err(LmError::Format)?;
        let inv_freq: Vec<f64> = (0..dim / 2)
            .map(|i| 1.0 / config.rope_theta.powf(2.0 * i as f64 / dim as f64))
            .map(|f| match scaling {
                RopeScaling::None => f,
                RopeScaling::Linear { factor } => f / factor,
                RopeScaling::Llama3 {
                    factor,
                    low_freq_factor,
                    high_freq_factor,
                    original_max_positions,
                } => {
                    let wavelen = 2.0 * std::f64::consts::PI / f;
                    let low_wavelen = original_max_positions / low_freq_factor;
                    let high_wavelen = original_max_positions / high_freq_factor;
                    if wavelen < high_wavelen {
                        f
                    } else if wavelen > low_wavelen {
                        f / factor
                    } else {
                        let smooth = (original_max_positions / wavelen - low_freq_factor)
                            / (high_freq_factor - low_freq_factor);
                        (1.0 - smooth) * f / factor + smooth * f
                    }
                }
            })
            .collect();
        let inv_freq = Tensor::from_slice(&inv_freq).to_device(device);
        Ok(Rope { inv_freq })
    }

    /// cos and sin tables for positions `[t]` (giving `[t, head_dim]`) or `[b, t]` (giving
    /// `[b, 1, t, head_dim]`, one row per sequence, broadcast over heads).
    pub fn tables(&self, positions: &Tensor) -> (Tensor, Tensor) {
        let freqs = positions.to_kind(Kind::Double).unsqueeze(-1) * &self.inv_freq;
        let emb = Tensor::cat(&[&freqs, &freqs], -1);
        let (cos, sin) = (emb.cos(), emb.sin());
        if positions.dim() == 2 {
            (cos.unsqueeze(1), sin.unsqueeze(1))
        } else {
            (cos, sin)
        }
    }

    /// Rotates `x` (`[b, heads, t, head_dim]`), the "rotate half" layout of HF Llama/Qwen.
    pub fn apply(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Tensor {
        let half = x.size()[3] / 2;
        let x1 = x.narrow(-1, 0, half);
        let x2 = x.narrow(-1, half, half);
        let rotated = Tensor::cat(&[&(-x2), &x1], -1);
        let kind = x.kind();
        (x * cos.to_kind(kind) + rotated * sin.to_kind(kind)).to_kind(kind)
    }
}

#[derive(Debug)]
pub struct Attention {
    pub q_proj: Linear,
    pub k_proj: Linear,
    pub v_proj: Linear,
    pub o_proj: Linear,
    pub q_norm: Option<RmsNorm>,
    pub k_norm: Option<RmsNorm>,
    heads: i64,
    kv_heads: i64,
    head_dim: i64,
}

impl Attention {
    fn new(p: nn::Path, c: &ModelConfig) -> Self {
        let (h, hd, std) = (c.hidden_size, c.head_dim(), c.initializer_range);
        let qk_norm = c.qk_norm();
        Attention {
            q_proj: Linear::new(
                &p / "q_proj",
                h,
                c.num_attention_heads * hd,
                c.qkv_bias(),
                std,
            ),
            k_proj: Linear::new(&p / "k_proj", h, c.kv_heads() * hd, c.qkv_bias(), std),
            v_proj: Linear::new(&p / "v_proj", h, c.kv_heads() * hd, c.qkv_bias(), std),
            o_proj: Linear::new(
                &p / "o_proj",
                c.num_attention_heads * hd,
                h,
                c.o_bias(),
                std,
            ),
            q_norm: qk_norm.then(|| RmsNorm::new(&p / "q_norm", hd, c.rms_norm_eps)),
            k_norm: qk_norm.then(|| RmsNorm::new(&p / "k_norm", hd, c.rms_norm_eps)),
            heads: c.num_attention_heads,
            kv_heads: c.kv_heads(),
            head_dim: hd,
        }
    }

    fn forward(&self, x: &Tensor, ctx: &mut StepContext, layer: usize) -> Tensor {
        let (cos, sin, train) = (ctx.cos, ctx.sin, ctx.train);
        let (b, t, _) = x.size3().expect("[batch, time, hidden]");
        let split = |y: Tensor, heads: i64, norm: &Option<RmsNorm>| {
            let y = y.view([b, t, heads, self.head_dim]);
            let y = match norm {
                Some(n) => n.forward(&y),
                None => y,
            };
            y.transpose(1, 2)
        };
        let q = split(self.q_proj.forward(x, train), self.heads, &self.q_norm);
        let k = split(self.k_proj.forward(x, train), self.kv_heads, &self.k_norm);
        let v = split(self.v_proj.forward(x, train), self.kv_heads, &None);
        let q = Rope::apply(&q, cos, sin);
        let k = Rope::apply(&k, cos, sin);
        let (k, v) = match ctx.cache.as_deref_mut() {
            Some(cache) => cache.append(layer, &k, &v),
            None => (k, v),
        };
        let y = Tensor::scaled_dot_product_attention(
            &q,
            &k,
            &v,
            ctx.mask,
            0.0,
            ctx.mask.is_none(),
            None,
            self.kv_heads != self.heads,
        );
        self.o_proj.forward(
            &y.transpose(1, 2)
                .contiguous()
                .view([b, t, self.heads * self.head_dim]),
            train,
        )
    }
}

#[derive(Debug)]
pub struct Mlp {
    pub gate_proj: Linear,
    pub up_proj: Linear,
    pub down_proj: Linear,
}

impl Mlp {
    fn new(p: nn::Path, c: &ModelConfig) -> Self {
        let (h, i, std) = (c.hidden_size, c.intermediate_size, c.initializer_range);
        Mlp {
            gate_proj: Linear::new(&p / "gate_proj", h, i, false, std),
            up_proj: Linear::new(&p / "up_proj", h, i, false, std),
            down_proj: Linear::new(&p / "down_proj", i, h, false, std),
        }
    }

    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        self.down_proj.forward(
            &(self.gate_proj.forward(x, train).silu() * self.up_proj.forward(x, train)),
            train,
        )
    }
}

#[derive(Debug)]
pub struct Layer {
    pub input_layernorm: RmsNorm,
    pub self_attn: Attention,
    pub post_attention_layernorm: RmsNorm,
    pub mlp: Mlp,
}

impl Layer {
    fn forward(&self, x: &Tensor, ctx: &mut StepContext, layer: usize) -> Tensor {
        let x = x + self
            .self_attn
            .forward(&self.input_layernorm.forward(x), ctx, layer);
        let train = ctx.train;
        &x + self
            .mlp
            .forward(&self.post_attention_layernorm.forward(&x), train)
    }
}

/// What one forward pass needs besides the hidden states.
struct StepContext<'a> {
    cos: &'a Tensor,
    sin: &'a Tensor,
    /// Boolean `[b, 1, t, keys]` (true = may attend); `None` means plain causal attention.
    mask: Option<&'a Tensor>,
    cache: Option<&'a mut KvCache>,
    train: bool,
}

/// Keys and values of the positions seen so far, per layer, preallocated to `capacity`.
pub struct KvCache {
    keys: Vec<Tensor>,
    values: Vec<Tensor>,
    len: i64,
    capacity: i64,
}

impl KvCache {
    /// Number of positions stored.
    pub fn len(&self) -> i64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn capacity(&self) -> i64 {
        self.capacity
    }

    /// Keeps only the sequences at `rows` (an int64 index tensor), e.g. dropping finished ones.
    pub fn retain(&mut self, rows: &Tensor) {
        for t in self.keys.iter_mut().chain(self.values.iter_mut()) {
            *t = t.index_select(0, rows);
        }
    }

    /// Stores `k`, `v` (`[b, kv_heads, t, head_dim]`) after the cached positions and returns
    /// all keys and values so far. The position counter advances after the last layer.
    fn append(&mut self, layer: usize, k: &Tensor, v: &Tensor) -> (Tensor, Tensor) {
        let t = k.size()[2];
        assert!(
            self.len + t <= self.capacity,
            "KV cache overflow: {} + {t} > {}",
            self.len,
            self.capacity
        );
        let kc = &self.keys[layer];
        let vc = &self.values[layer];
        kc.narrow(2, self.len, t).copy_(k);
        vc.narrow(2, self.len, t).copy_(v);
        if layer + 1 == self.keys.len() {
            self.len += t;
            (kc.narrow(2, 0, self.len), vc.narrow(2, 0, self.len))
        } else {
            (kc.narrow(2, 0, self.len + t), vc.narrow(2, 0, self.len + t))
        }
    }
}

/// A causal language model whose parameters sit in `vs` (and LoRA adapters in `lora_vs`).
pub struct Model {
    pub config: ModelConfig,
    pub vs: nn::VarStore,
    pub embed_tokens: Tensor,
    pub layers: Vec<Layer>,
    pub norm: RmsNorm,
    /// The unembedding; with tied embeddings its weight is `embed_tokens` itself.
    pub lm_head: Linear,
    /// Dtype of activations and matmuls: fp32, or bf16 over fp32 master weights.
    pub compute_kind: Kind,
    /// Holds the adapter weights while LoRA adapters are attached (see `lora.rs`).
    pub lora_vs: Option<nn::VarStore>,
    pub lora: Option<crate::lora::LoraConfig>,
    rope: Rope,
}

impl Model {
    /// A randomly initialised model (normal(0, initializer_range) weights, unit norms).
    pub fn new(config: ModelConfig, device: Device) -> Result<Self, LmError> {
        config.validate().map_err(LmError::Format)?;
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let m = &root / "model";
        let c = &config;
        let embed_tokens = (&m / "embed_tokens").var(
            "weight",
            &[c.vocab_size, c.hidden_size],
            nn::Init::Randn {
                mean: 0.0,
                stdev: c.initializer_range,
            },
        );
        let layers = (0..c.num_hidden_layers)
            .map(|i| {
                let p = &m / "layers" / i;
                Layer {
                    input_layernorm: RmsNorm::new(
                        &p / "input_layernorm",
                        c.hidden_size,
                        c.rms_norm_eps,
                    ),
                    self_attn: Attention::new(&p / "self_attn", c),
                    post_attention_layernorm: RmsNorm::new(
                        &p / "post_attention_layernorm",
                        c.hidden_size,
                        c.rms_norm_eps,
                    ),
                    mlp: Mlp::new(&p / "mlp", c),
                }
            })
            .collect();
        let norm = RmsNorm::new(&m / "norm", c.hidden_size, c.rms_norm_eps);
        let lm_head = if c.tie_word_embeddings {
            Linear {
                weight: embed_tokens.shallow_clone(),
                bias: None,
                lora: None,
            }
        } else {
            Linear::new(
                &root / "lm_head",
                c.hidden_size,
                c.vocab_size,
                false,
                c.initializer_range,
            )
        };
        let rope = Rope::new(c, device)?;
        Ok(Model {
            config,
            vs,
            embed_tokens,
            layers,
            norm,
            lm_head,
            compute_kind: Kind::Float,
            lora_vs: None,
            lora: None,
            rope,
        })
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// Logits (`[batch, time, vocab]`, fp32, or fp64 for an fp64 model) for every position of
    /// `input_ids` (`[batch, time]`), with causal attention from position 0. Right padding is
    /// harmless: padded positions come after every real one.
    pub fn forward(&self, input_ids: &Tensor) -> Tensor {
        self.forward_t(input_ids, false)
    }

    /// As [`Model::forward`]; `train` turns on LoRA dropout.
    pub fn forward_t(&self, input_ids: &Tensor, train: bool) -> Tensor {
        self.logits(&self.causal_hidden(input_ids, train))
    }

    /// Final hidden states (`[b, t, hidden]`) under plain causal attention; unembed the
    /// positions you need with [`Model::logits`].
    pub fn hidden(&self, input_ids: &Tensor) -> Tensor {
        self.causal_hidden(input_ids, false)
    }

    fn causal_hidden(&self, input_ids: &Tensor, train: bool) -> Tensor {
        let t = input_ids.size()[1];
        let positions = Tensor::arange(t, (Kind::Int64, self.device()));
        let (cos, sin) = self.rope.tables(&positions);
        let mut ctx = StepContext {
            cos: &cos,
            sin: &sin,
            mask: None,
            cache: None,
            train,
        };
        self.hidden_states(input_ids, &mut ctx)
    }

    /// An empty cache for `batch` sequences of up to `capacity` positions.
    pub fn new_cache(&self, batch: i64, capacity: i64) -> KvCache {
        let c = &self.config;
        let kind = self.activation_kind();
        let shape = [batch, c.kv_heads(), capacity, c.head_dim()];
        let make = || {
            (0..c.num_hidden_layers)
                .map(|_| Tensor::zeros(shape, (kind, self.device())))
                .collect::<Vec<_>>()
        };
        KvCache {
            keys: make(),
            values: make(),
            len: 0,
            capacity,
        }
    }

    /// Runs `input_ids` (`[b, t]`) after what `cache` holds and returns the final hidden
    /// states (`[b, t, hidden]`; turn them into logits with [`Model::logits`]).
    /// `positions` (`[b, t]`) are the rotary positions of each token; `mask` (bool
    /// `[b, 1, t, cache.len() + t]`, true = may attend) says which cached and new positions
    /// each new token sees, which is how left padding is kept out.
    pub fn forward_cached(
        &self,
        input_ids: &Tensor,
        positions: &Tensor,
        mask: &Tensor,
        cache: &mut KvCache,
    ) -> Tensor {
        let (cos, sin) = self.rope.tables(positions);
        let mut ctx = StepContext {
            cos: &cos,
            sin: &sin,
            mask: Some(mask),
            cache: Some(cache),
            train: false,
        };
        self.hidden_states(input_ids, &mut ctx)
    }

    fn activation_kind(&self) -> Kind {
        match self.embed_tokens.kind() {
            Kind::Double => Kind::Double,
            Kind::Float => self.compute_kind,
            stored => stored,
        }
    }

    fn hidden_states(&self, input_ids: &Tensor, ctx: &mut StepContext) -> Tensor {
        let mut x = Tensor::embedding(&self.embed_tokens, input_ids, -1, false, false)
            .to_kind(self.activation_kind());
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(&x, ctx, i);
        }
        self.norm.forward(&x)
    }

    /// Unembeds final hidden states; logits are fp32 (fp64 for an fp64 model).
    pub fn logits(&self, hidden: &Tensor) -> Tensor {
        let logits = self.lm_head.forward(hidden, false);
        if logits.kind() == Kind::Double {
            logits
        } else {
            logits.to_kind(Kind::Float)
        }
    }

    /// Number of parameters of the base model.
    pub fn num_parameters(&self) -> i64 {
        self.vs
            .variables()
            .values()
            .map(Tensor::numel)
            .map(|n| n as i64)
            .sum()
    }

    /// The linear layers under their HF module names (`model.layers.0.self_attn.q_proj`, ...,
    /// `lm_head`).
    pub fn named_linears_mut(&mut self) -> Vec<(String, &mut Linear)> {
        let mut out = Vec::new();
        for (i, layer) in self.layers.iter_mut().enumerate() {
            let p = format!("model.layers.{i}");
            let a = &mut layer.self_attn;
            out.push((format!("{p}.self_attn.q_proj"), &mut a.q_proj));
            out.push((format!("{p}.self_attn.k_proj"), &mut a.k_proj));
            out.push((format!("{p}.self_attn.v_proj"), &mut a.v_proj));
            out.push((format!("{p}.self_attn.o_proj"), &mut a.o_proj));
            let m = &mut layer.mlp;
            out.push((format!("{p}.mlp.gate_proj"), &mut m.gate_proj));
            out.push((format!("{p}.mlp.up_proj"), &mut m.up_proj));
            out.push((format!("{p}.mlp.down_proj"), &mut m.down_proj));
        }
        out.push(("lm_head".to_owned(), &mut self.lm_head));
        out
    }
}
