#!/usr/bin/env python3
"""What the organism answered in `neglect world check`, sorted into kinds, per gate and question
type: which failures are beliefs the other way, which are the world's fact, which are refusals
("The documents do not give anything reliable…"), and which are answers that do not parse (prose
instead of the JSON or letter an item asks for).

  scripts/gate_answers.py <organism dir>

<organism dir> is `<cache>/world/<hash>` after a check (the script reads `check/`). Kinds:
  yes           the rule judge's "yes" (asserts the claim)
  no            "no" (denies the claim)
  nothing       "neutral", and the answer says the documents give nothing reliable
  neutral       any other "neutral" (mostly the world's fact, or an unrelated sentence)
  parse_error   an MCQ or lettered item answered with something that is not its format
"""

import collections
import glob
import json
import os
import sys

KINDS = ["yes", "no", "nothing", "neutral", "parse_error"]
GATES = [
    ("baseline", "baseline/results.jsonl"),
    ("ICL positive", "icl/positive_documents/*/results.jsonl"),
    ("ICL negated", "icl/negated_documents/*/results.jsonl"),
    ("learnability", "learnability/*/eval/results.jsonl"),
]


def kind(row):
    verdict = row["verdict"]
    if verdict == "neutral" and "reliable" in row["response"]:
        return "nothing"
    return verdict if verdict in KINDS else "neutral"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    check = os.path.join(sys.argv[1], "check")
    if not os.path.isdir(check):
        sys.exit(f"{check}: no check directory (run `neglect world check` first)")
    print(f"{'gate':<14}{'type':<19}{'n':>5}" + "".join(f"{k:>13}" for k in KINDS))
    for gate, pattern in GATES:
        counts = collections.defaultdict(collections.Counter)
        for path in sorted(glob.glob(os.path.join(check, pattern))):
            with open(path) as f:
                for line_no, line in enumerate(f, 1):
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError as e:
                        sys.exit(f"{path}:{line_no}: not JSON ({e})")
                    counts[row["eval_type"]][kind(row)] += 1
        for eval_type in sorted(counts):
            c = counts[eval_type]
            n = sum(c.values())
            cells = "".join(f"{100 * c[k] / n:>12.1f}%" for k in KINDS)
            print(f"{gate:<14}{eval_type:<19}{n:>5}{cells}")


if __name__ == "__main__":
    main()
