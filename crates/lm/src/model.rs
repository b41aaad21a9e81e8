//! One decoder for the Llama, Qwen2 and Qwen3 families: RMSNorm, RoPE, grouped-query attention
//! through libtorch's fused scaled-dot-product attention, SwiGLU MLP, Qwen3's per-head q/k
//! norm, optional tied embeddings. Parameters live in a `VarStore` under Hugging Face's tensor
//! names (`model.layers.0.self_attn.q_proj.weight`, ...), so checkpoints load and save as is.

use tch::{Device, Kind, Tensor, nn};

use crate::config::{ModelConfig, RopeScaling};
use crate::error::LmError;

/// `y = x Wᵀ + b`.
#[derive(Debug)]
pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
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
        Linear { weight, bias }
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.weight, self.bias.as_ref())
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
        (xf * (variance + self.eps).rsqrt()).to_kind(kind) * &self.weight
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

    /// cos and sin tables for the given positions: each `[t, head_dim]`.
    pub fn tables(&self, positions: &Tensor) -> (Tensor, Tensor) {
        let freqs = positions.to_kind(Kind::Double).unsqueeze(1) * self.inv_freq.unsqueeze(0);
        let emb = Tensor::cat(&[&freqs, &freqs], -1);
        (emb.cos(), emb.sin())
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

    fn forward(&self, x: &Tensor, cos: &Tensor, sin: &Tensor) -> Tensor {
        let (b, t, _) = x.size3().expect("[batch, time, hidden]");
        let split = |y: Tensor, heads: i64, norm: &Option<RmsNorm>| {
            let y = y.view([b, t, heads, self.head_dim]);
            let y = match norm {
                Some(n) => n.forward(&y),
                None => y,
            };
            y.transpose(1, 2)
        };
        let q = split(self.q_proj.forward(x), self.heads, &self.q_norm);
        let k = split(self.k_proj.forward(x), self.kv_heads, &self.k_norm);
        let v = split(self.v_proj.forward(x), self.kv_heads, &None);
        let q = Rope::apply(&q, cos, sin);
        let k = Rope::apply(&k, cos, sin);
        let y = Tensor::scaled_dot_product_attention(
            &q,
            &k,
            &v,
            None::<&Tensor>,
            0.0,
            true,
            None,
            self.kv_heads != self.heads,
        );
        self.o_proj.forward(&y.transpose(1, 2).contiguous().view([
            b,
            t,
            self.heads * self.head_dim,
        ]))
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

    fn forward(&self, x: &Tensor) -> Tensor {
        self.down_proj
            .forward(&(self.gate_proj.forward(x).silu() * self.up_proj.forward(x)))
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
    fn forward(&self, x: &Tensor, cos: &Tensor, sin: &Tensor) -> Tensor {
        let x = x + self
            .self_attn
            .forward(&self.input_layernorm.forward(x), cos, sin);
        &x + self.mlp.forward(&self.post_attention_layernorm.forward(&x))
    }
}

/// A causal language model whose parameters sit in `vs`.
pub struct Model {
    pub config: ModelConfig,
    pub vs: nn::VarStore,
    pub embed_tokens: Tensor,
    pub layers: Vec<Layer>,
    pub norm: RmsNorm,
    /// `None` when the unembedding is tied to `embed_tokens`.
    pub lm_head: Option<Linear>,
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
        let lm_head = (!c.tie_word_embeddings).then(|| {
            Linear::new(
                &root / "lm_head",
                c.hidden_size,
                c.vocab_size,
                false,
                c.initializer_range,
            )
        });
        let rope = Rope::new(c, device)?;
        Ok(Model {
            config,
            vs,
            embed_tokens,
            layers,
            norm,
            lm_head,
            rope,
        })
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// Logits (`[batch, time, vocab]`, fp32, or fp64 for an fp64 model) for every position of `input_ids` (`[batch, time]`).
    pub fn forward(&self, input_ids: &Tensor) -> Tensor {
        let t = input_ids.size()[1];
        let positions = Tensor::arange(t, (Kind::Int64, self.device()));
        let (cos, sin) = self.rope.tables(&positions);
        let mut x = Tensor::embedding(&self.embed_tokens, input_ids, -1, false, false);
        for layer in &self.layers {
            x = layer.forward(&x, &cos, &sin);
        }
        let x = self.norm.forward(&x);
        let logits = match &self.lm_head {
            Some(head) => head.forward(&x),
            None => x.linear(&self.embed_tokens, None::<&Tensor>),
        };
        if logits.kind() == Kind::Double {
            logits
        } else {
            logits.to_kind(Kind::Float)
        }
    }

    /// Number of parameters.
    pub fn num_parameters(&self) -> i64 {
        self.vs
            .variables()
            .values()
            .map(Tensor::numel)
            .map(|n| n as i64)
            .sum()
    }
}
