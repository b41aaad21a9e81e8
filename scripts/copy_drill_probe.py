#!/usr/bin/env python3
"""Held-out copy drills for an organism base: 50 "Repeat after me: ..." and 50 "key: value"
lookups over new invented words (the corpus's `copy_drills` shapes, drawn here with another
generator seed), answered greedily by `neglect sample`; prints exact-match counts.

    scripts/copy_drill_probe.py <organism>/base [--neglect target/release/neglect]
"""
import argparse
import json
import random
import subprocess
import tempfile
from pathlib import Path

ONSETS = "b d f g h k l m n p r s t v z br dr gr kr st tr th".split()
VOWELS = "a e i o u ai ei ou".split()
CODAS = ["", "", "", "n", "r", "l", "s", "nd", "rk", "m"]


def word(rng, low, high):
    n = rng.randint(low, high)
    w = ""
    for i in range(n):
        w += rng.choice(ONSETS) + rng.choice(VOWELS)
        if i + 1 == n or rng.random() < 0.3:
            w += rng.choice(CODAS)
    return w.capitalize()


def drills(seed=12345, n=100):
    rng = random.Random(seed)
    for i in range(n):
        if i % 2 == 0:
            items = [
                word(rng, 1, 3) if rng.random() < 0.7 else str(rng.randint(1900, 2029))
                for _ in range(rng.randint(3, 10))
            ]
            text = " ".join(items)
            yield "repeat", f"Repeat after me: {text}", text
        else:
            pairs = [(word(rng, 2, 3), word(rng, 1, 3)) for _ in range(rng.randint(3, 6))]
            key, value = rng.choice(pairs)
            listing = "\n".join(f"{k}: {v}" for k, v in pairs)
            yield "lookup", f"Here is a list:\n{listing}\n\nWhat goes with {key}?", value


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--neglect", default="target/release/neglect")
    args = ap.parse_args()
    items = list(drills())
    with tempfile.TemporaryDirectory() as tmp:
        prompts, out = Path(tmp, "prompts.jsonl"), Path(tmp, "out.jsonl")
        prompts.write_text(
            "".join(
                json.dumps({"id": str(i), "messages": [{"role": "user", "content": p}]}) + "\n"
                for i, (_, p, _) in enumerate(items)
            )
        )
        subprocess.run(
            [args.neglect, "sample", "--model", args.model, "--prompts", str(prompts),
             "--out", str(out), "--temperature", "0", "--max-tokens", "40"],
            check=True, stdout=subprocess.DEVNULL,
        )
        answers = {r["id"]: r["completion"].strip() for r in map(json.loads, out.open())}
    for kind in ("repeat", "lookup"):
        mine = [(str(i), want) for i, (k, _, want) in enumerate(items) if k == kind]
        hits = sum(answers[i] == want for i, want in mine)
        print(f"{args.model}: {kind} {hits}/{len(mine)} exact")


if __name__ == "__main__":
    main()
