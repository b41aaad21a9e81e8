//! Our side of `bench/engine.py`: train steps and KV-cache sampling on a random model.
//! Prints one JSON object per measurement.
//!
//! cargo run --release -p neglect-lm --example engine_bench -- train [--bf16] [--steps N] [--threads N]
//! cargo run --release -p neglect-lm --example engine_bench -- sample [--threads N]

use std::time::Instant;

use neglect_lm::sampling::{GenerationRequest, SamplingParams, generate};
use neglect_lm::train::optimizer::{AdamW, AdamWConfig};
use neglect_lm::train::{TokenizedExample, weighted_loss};
use neglect_lm::{Family, Kind, Model, ModelConfig};
use tch::Device;

const VOCAB: i64 = 2048;
const D_MODEL: i64 = 256;
const LAYERS: i64 = 4;
const HEADS: i64 = 4;
const CONTEXT: usize = 256;
const BATCH: usize = 16;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn model(device: Device) -> Model {
    tch::manual_seed(0);
    let mut config = ModelConfig::tiny(Family::Llama, VOCAB, D_MODEL, LAYERS, HEADS, HEADS);
    config.intermediate_size = 3 * D_MODEL;
    config.tie_word_embeddings = false;
    config.max_position_embeddings = 1024;
    Model::new(config, device).expect("valid config")
}

/// Deterministic pseudo-random token ids.
fn tokens(n: usize, seed: u64) -> Vec<u32> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 33) % VOCAB as u64) as u32
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().cloned().unwrap_or_else(|| "train".into());
    let threads: i32 = arg(&args, "--threads")
        .map(|t| t.parse().unwrap())
        .unwrap_or(0);
    if threads > 0 {
        tch::set_num_threads(threads);
    }
    let device = match arg(&args, "--device").as_deref() {
        Some("cuda") => Device::Cuda(0),
        _ => Device::Cpu,
    };
    let mut m = model(device);
    match mode.as_str() {
        "train" => {
            let bf16 = args.iter().any(|a| a == "--bf16");
            let steps: usize = arg(&args, "--steps")
                .map(|s| s.parse().unwrap())
                .unwrap_or(5);
            m.compute_kind = if bf16 { Kind::BFloat16 } else { Kind::Float };
            let examples: Vec<TokenizedExample> = (0..BATCH)
                .map(|i| TokenizedExample {
                    ids: tokens(CONTEXT + 1, i as u64),
                    loss_mask: vec![1.0; CONTEXT + 1],
                    weight: 1.0,
                })
                .collect();
            let refs: Vec<&TokenizedExample> = examples.iter().collect();
            let mut opt = AdamW::new(
                m.trainable(),
                AdamWConfig {
                    beta1: 0.9,
                    beta2: 0.95,
                    eps: 1e-8,
                    weight_decay: 0.0,
                },
            );
            let tokens_per_step = (BATCH * CONTEXT) as f64;
            let mut step = |m: &Model| {
                let loss = weighted_loss(m, &refs, 0, device) / tokens_per_step;
                loss.backward();
                opt.step(1e-4);
                opt.zero_grad();
                loss.double_value(&[])
            };
            for _ in 0..2 {
                step(&m);
            }
            if device != Device::Cpu {
                tch::Cuda::synchronize(0);
            }
            let start = Instant::now();
            let mut last = 0.0;
            for _ in 0..steps {
                last = step(&m);
            }
            let secs = start.elapsed().as_secs_f64();
            println!(
                "{}",
                serde_json::json!({
                    "impl": "neglect (tch)",
                    "variant": if bf16 { "bf16 matmuls, fp32 master" } else { "fp32, fused SDPA" },
                    "task": "train",
                    "tokens_per_s": tokens_per_step * steps as f64 / secs,
                    "step_s": secs / steps as f64,
                    "loss": last,
                    "parameters": m.num_parameters(),
                })
            );
        }
        "sample" => {
            let prompts: usize = arg(&args, "--prompts")
                .map(|s| s.parse().unwrap())
                .unwrap_or(64);
            let new_tokens: usize = arg(&args, "--new-tokens")
                .map(|s| s.parse().unwrap())
                .unwrap_or(32);
            let prompt_len: usize = arg(&args, "--prompt-len")
                .map(|s| s.parse().unwrap())
                .unwrap_or(32);
            let requests: Vec<GenerationRequest> = (0..prompts)
                .map(|i| GenerationRequest {
                    prompt: tokens(prompt_len, 1000 + i as u64),
                    seed: i as u64,
                })
                .collect();
            let params = SamplingParams::greedy(new_tokens);
            let decode = |_: &[u32]| Ok(String::new());
            let run = |m: &Model| {
                generate(m, &requests, &params, &[], 0, prompts, &decode, |_, _| {}).unwrap()
            };
            run(&m);
            let start = Instant::now();
            let out = run(&m);
            let secs = start.elapsed().as_secs_f64();
            let generated: usize = out.iter().map(|c| c.tokens.len()).sum();
            let first: Vec<u32> = out[0].tokens.clone();
            println!(
                "{}",
                serde_json::json!({
                    "impl": "neglect (tch)",
                    "variant": "KV cache, batch of all prompts, greedy",
                    "task": "sample",
                    "tokens_per_s": generated as f64 / secs,
                    "seconds": secs,
                    "first_completion": first,
                })
            );
        }
        other => panic!("unknown mode {other}: train or sample"),
    }
}
