//! Measures in-context copying ("induction"): a random sequence of ordinary tokens is shown twice,
//! and the model's greedy next-token accuracy on the second showing is compared with the first.
//! A model that reads its context predicts the repeat almost perfectly; one that does not stays
//! near chance. Used to diagnose the built-in organism's ICL gate (docs/organism-rounds.md, session 19).
//!
//! cargo run --release -p neglect-lm --example copy_probe -- MODEL_DIR [LENGTH] [SEQUENCES]

use std::path::PathBuf;

use neglect_lm::pretrained::Pretrained;
use tch::{Device, Kind, Tensor};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!("usage: copy_probe MODEL_DIR [LENGTH] [SEQUENCES]");
        std::process::exit(2);
    }
    let dir = PathBuf::from(&args[0]);
    let length: i64 = args.get(1).map_or(40, |a| a.parse().expect("LENGTH"));
    let sequences: i64 = args.get(2).map_or(64, |a| a.parse().expect("SEQUENCES"));
    let pretrained = Pretrained::load(&dir, Device::Cpu).unwrap_or_else(|e| {
        eprintln!("{}: {e}", dir.display());
        std::process::exit(1)
    });
    let vocab = pretrained.tokenizer.vocab_size() as i64;
    // Special tokens come first in the organism's tokenizer; draw from the ordinary ones.
    let first_ordinary = 16;
    tch::manual_seed(0);
    let half = Tensor::randint_low(
        first_ordinary,
        vocab,
        [sequences, length],
        (Kind::Int64, Device::Cpu),
    );
    let input = Tensor::cat(&[&half, &half], 1);
    let logits = tch::no_grad(|| pretrained.model.forward(&input));
    let predicted = logits.argmax(-1, false);
    // Position t predicts token t + 1.
    let hits = predicted
        .narrow(1, 0, 2 * length - 1)
        .eq_tensor(&input.narrow(1, 1, 2 * length - 1))
        .to_kind(Kind::Float);
    let first = hits
        .narrow(1, 0, length - 1)
        .mean(Kind::Float)
        .double_value(&[]);
    // The second showing's first token cannot be inferred; score from its second token on.
    let second = hits
        .narrow(1, length, length - 1)
        .mean(Kind::Float)
        .double_value(&[]);
    let late = hits
        .narrow(1, length + length / 2, length - 1 - length / 2)
        .mean(Kind::Float)
        .double_value(&[]);
    println!(
        "{}: {sequences} random sequences of {length} tokens shown twice; greedy accuracy first showing {:.1}%, second showing {:.1}% (its second half {:.1}%)",
        dir.display(),
        100.0 * first,
        100.0 * second,
        100.0 * late
    );
}
