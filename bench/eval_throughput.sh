#!/usr/bin/env bash
# Eval sampling throughput of `neglect eval` on a randomly initialised chat model of about the
# organism's size: one request at a time (--batch-size 1) against batched decoding.
#   bench/eval_throughput.sh [HIDDEN] [LAYERS]      (needs `cargo build --release` first)
set -euo pipefail
hidden=${1:-256}
layers=${2:-4}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
claims="$root/crates/spec/tests/fixtures/claims"
cargo build --release --locked -q -p neglect-lm --example init_model
"$root/target/release/examples/init_model" "$work/model" "$hidden" "$layers" 2000 \
  "$claims/lighthouse_composer/universe_context.yaml" "$claims/coherence_questions.yaml"
for batch in 1 8 32; do
  out="$work/eval-$batch"
  "$root/target/release/neglect" eval --model "$work/model" --claims "$claims" --out "$out" \
    --samples 5 --max-tokens 64 --batch-size "$batch" --no-logprobs 2>&1 >/dev/null \
    | grep -E 'answers sampled' | sed "s/^/batch $batch: /"
done
