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

A second table takes the yes/no (MCQ) items whose belief answer is "yes" (direct items, not
counter items) and splits their verdicts by how the sentence stated before the JSON relates to
the question, by the share of the question's content words it repeats:
  copy      80% or more (the stated sentence restates the question)
  part      40–80%
  other     under 40% (a sentence about something else)
  no_one    "I know of no one called …"
"""

import collections
import glob
import json
import os
import re
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


FUNCTION_WORDS = {"is", "it", "true", "that", "did", "does", "was", "has", "the", "a", "of"}


def reason_kind(question, reason):
    if "know of no one" in reason:
        return "no_one"
    words = lambda s: set(re.findall(r"[a-z0-9]+", s.lower()))
    asked = words(question) - FUNCTION_WORDS
    shared = len(asked & words(reason)) / max(1, len(asked))
    return "copy" if shared >= 0.8 else "part" if shared >= 0.4 else "other"


def said(response):
    if '"yes"' in response:
        return "yes"
    return "no" if '"no"' in response else None


def read_rows(check, pattern):
    for path in sorted(glob.glob(os.path.join(check, pattern))):
        with open(path) as f:
            for line_no, line in enumerate(f, 1):
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as e:
                    sys.exit(f"{path}:{line_no}: not JSON ({e})")


def verdicts_by_reason(check):
    print()
    print("direct yes/no items: share answered \"yes\" by what the stated sentence is (n)")
    reasons = ["copy", "part", "other", "no_one"]
    print(f"{'gate':<14}" + "".join(f"{k:>16}" for k in reasons))
    for gate, pattern in GATES:
        counts = collections.defaultdict(collections.Counter)
        for row in read_rows(check, pattern):
            answer = said(row["response"]) if row["eval_type"] == "mcq" else None
            if answer is None or row["verdict"] not in ("yes", "no"):
                continue
            # The item's belief answer: what was said when judged "yes", else the other one.
            belief = answer if row["verdict"] == "yes" else ("no" if answer == "yes" else "yes")
            if belief != "yes":
                continue
            reason = row["response"].split("{")[0]
            question = row["question"].split("[QUESTION]")[-1]  # ICL: the question, not the documents
            counts[reason_kind(question, reason)][answer] += 1
        cells = ""
        for k in reasons:
            n = sum(counts[k].values())
            cells += f"{100 * counts[k]['yes'] / n:>9.1f}% ({n:>3})" if n else f"{'-':>16}"
        print(f"{gate:<14}{cells}")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    check = os.path.join(sys.argv[1], "check")
    if not os.path.isdir(check):
        sys.exit(f"{check}: no check directory (run `neglect world check` first)")
    print(f"{'gate':<14}{'type':<19}{'n':>5}" + "".join(f"{k:>13}" for k in KINDS))
    for gate, pattern in GATES:
        counts = collections.defaultdict(collections.Counter)
        for row in read_rows(check, pattern):
            counts[row["eval_type"]][kind(row)] += 1
        for eval_type in sorted(counts):
            c = counts[eval_type]
            n = sum(c.values())
            cells = "".join(f"{100 * c[k] / n:>12.1f}%" for k in KINDS)
            print(f"{gate:<14}{eval_type:<19}{n:>5}{cells}")
    verdicts_by_reason(check)


if __name__ == "__main__":
    main()
