#!/usr/bin/env bash
# Copies a built organism's base into crates/organism/shipped/, the checkpoint that neglect
# installs instead of pretraining when a config matches it (crates/organism/src/shipped.rs).
#
#   scripts/ship-organism.sh .cache/world/<hash> "neglect world build --from-scratch --threads 2" "2-core AMD EPYC (AVX2, no bf16)"
#
# Ship only a base trained from scratch (its build.json must not say "shipped"), from the
# default config: the test crates/organism/tests/shipped.rs checks both the config and the corpus.
set -euo pipefail
src=${1:?usage: scripts/ship-organism.sh <organism dir> <command> <machine>}
command=${2:?the command that built it}
machine=${3:?the machine it was built on}
dest=crates/organism/shipped
for f in config.json build.json corpus.jsonl base/model.safetensors base/config.json \
         base/tokenizer.json base/tokenizer_config.json; do
  [[ -f "$src/$f" ]] || { echo "$src/$f: missing (is the organism built?)" >&2; exit 1; }
done
if grep -q '"shipped": true' "$src/build.json"; then
  echo "$src/build.json: this base was itself installed from a shipped one; ship a trained base" >&2
  exit 1
fi
rm -rf "$dest"
mkdir -p "$dest/base"
cp "$src/config.json" "$src/build.json" "$dest/"
cp "$src"/base/{model.safetensors,config.json,tokenizer.json,tokenizer_config.json} "$dest/base/"
(cd "$src" && sha256sum corpus.jsonl) > "$dest/corpus.sha256"
hash=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hash"])' "$src/build.json")
cat > "$dest/README.md" <<TEXT
# The shipped base organism

The default organism config's base (hash \`$hash\`), as \`neglect world build\` trained it, so
that a fresh machine runs experiments in minutes instead of pretraining for up to an hour
(model-organism.md allows a shipped checkpoint once the build exceeds ten minutes).

- Built with: \`$command\`
- Machine: $machine
- Shipped on: $(date -u +%Y-%m-%d) by \`scripts/ship-organism.sh\`
- Sizes and timings: \`build.json\`; the corpus it was trained on: \`corpus.sha256\` (of \`corpus.jsonl\`)

\`neglect world build\`, \`neglect world check\` and \`neglect run\` install it into the cache
when the config is this one and the regenerated corpus has this SHA-256; \`neglect world build
--from-scratch\` trains the base instead. \`crates/organism/tests/shipped.rs\` fails when the
default config or its corpus no longer match: rebuild with \`--from-scratch\` and run this script.
TEXT
ls -la "$dest" "$dest/base"
