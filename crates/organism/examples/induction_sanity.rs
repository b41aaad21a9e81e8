//! Can the organism's architecture learn in-context copying at all? Runs the copy warm-up
//! (`neglect_organism::copy_warmup`: random token sequences shown twice, loss on every position)
//! on a fresh model of the given size and prints the greedy accuracy on held-out second showings
//! every 50 steps. A correct decoder learns this (an induction head) within a few hundred steps;
//! one that cannot points at the engine.
//!
//! cargo run --release -p neglect-organism --example induction_sanity -- HIDDEN LAYERS HEADS [STEPS]

use neglect_lm::{Family, Model, ModelConfig};
use neglect_organism::copy_warmup::{copy_warmup, held_out, second_showing_accuracy};
use tch::Device;

/// Token ids below this are the organism tokenizer's special tokens; the task never uses them.
const FIRST_ORDINARY_ID: i64 = 16;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("integer arguments"))
        .collect();
    if args.len() < 3 {
        eprintln!("usage: induction_sanity HIDDEN LAYERS HEADS [STEPS]");
        std::process::exit(2);
    }
    let (hidden, layers, heads) = (args[0] as i64, args[1] as i64, args[2] as i64);
    let steps = args.get(3).copied().unwrap_or(600);
    tch::manual_seed(0);
    let mut config = ModelConfig::tiny(Family::Qwen3, 2048, hidden, layers, heads, heads);
    config.intermediate_size = 512;
    let model = Model::new(config, Device::Cpu).expect("model");
    let seed = 0;
    let held_out = held_out(&model, seed, FIRST_ORDINARY_ID);
    let started = std::time::Instant::now();
    let last = copy_warmup(&model, steps, seed, FIRST_ORDINARY_ID, |step, loss| {
        if step % 50 == 0 {
            println!(
                "step {step}: loss {loss:.3}, second-showing accuracy {:.1}% ({:.0} s)",
                100.0 * second_showing_accuracy(&model, &held_out),
                started.elapsed().as_secs_f64()
            );
        }
    });
    println!(
        "after {steps} steps: second-showing accuracy {:.1}%",
        100.0 * last
    );
}
