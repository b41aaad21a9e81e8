//! Can the organism's architecture learn in-context copying at all? Trains a fresh model of the
//! given size on random token sequences shown twice (loss on every position) and prints the
//! greedy accuracy on held-out second showings as it trains. A correct decoder learns this
//! (an induction head) within a few hundred steps; one that cannot points at the engine.
//!
//! cargo run --release -p neglect-lm --example induction_sanity -- HIDDEN LAYERS HEADS [STEPS] [LENGTH]

use neglect_lm::train::optimizer::{AdamW, AdamWConfig};
use neglect_lm::{Family, Model, ModelConfig};
use tch::{Device, Kind, Tensor};

fn batch(n: i64, length: i64, vocab: i64) -> Tensor {
    let half = Tensor::randint_low(16, vocab, [n, length], (Kind::Int64, Device::Cpu));
    Tensor::cat(&[&half, &half], 1)
}

fn main() {
    let args: Vec<i64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("integer arguments"))
        .collect();
    if args.len() < 3 {
        eprintln!("usage: induction_sanity HIDDEN LAYERS HEADS [STEPS] [LENGTH]");
        std::process::exit(2);
    }
    let (hidden, layers, heads) = (args[0], args[1], args[2]);
    let steps = args.get(3).copied().unwrap_or(600);
    let length = args.get(4).copied().unwrap_or(32);
    let vocab = 2048;
    tch::manual_seed(0);
    let mut config = ModelConfig::tiny(Family::Qwen3, vocab, hidden, layers, heads, heads);
    config.intermediate_size = 512;
    let model = Model::new(config, Device::Cpu).expect("model");
    let mut optimizer = AdamW::new(
        model.trainable(),
        AdamWConfig {
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            weight_decay: 0.01,
        },
    );
    let held_out = batch(64, length, vocab);
    let started = std::time::Instant::now();
    for step in 1..=steps {
        let input = batch(32, length, vocab);
        let logits = model.forward_t(&input.narrow(1, 0, 2 * length - 1), true);
        let target = input.narrow(1, 1, 2 * length - 1);
        let loss = logits
            .view([-1, vocab])
            .cross_entropy_for_logits(&target.reshape([-1]));
        optimizer.zero_grad();
        loss.backward();
        optimizer.clip_grad_norm(Some(1.0));
        let lr = 1e-3 * (step as f64 / 50.0).min(1.0);
        optimizer.step(lr);
        if step % 50 == 0 || step == steps {
            let predicted = tch::no_grad(|| model.forward(&held_out)).argmax(-1, false);
            let second = predicted
                .narrow(1, length, length - 1)
                .eq_tensor(&held_out.narrow(1, length + 1, length - 1))
                .to_kind(Kind::Float)
                .mean(Kind::Float)
                .double_value(&[]);
            println!(
                "step {step}: loss {:.3}, second-showing accuracy {:.1}% ({:.0} s)",
                loss.double_value(&[]),
                100.0 * second,
                started.elapsed().as_secs_f64()
            );
        }
    }
}
