#!/usr/bin/env python3
"""How often the pretraining corpus answers a yes/no question "yes", by source.

Usage: python3 scripts/corpus_yes_no.py .cache/world/<hash>/corpus.jsonl

A verdict the corpus gives "yes" far more often than "no" is a prior the organism can learn
instead of checking the question against what it knows (issue 6: MCQ near chance, baseline
MCQ biased to "yes").
"""
import collections
import json
import sys


def main(path: str) -> None:
    counts = collections.defaultdict(collections.Counter)
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{line_no}: not a JSON row: {e}")
            messages = row.get("messages")
            if not messages:
                continue
            pasted = any("Here are some documents" in m["content"] for m in messages)
            kind = f"{row.get('source', '?')}{' (document in context)' if pasted else ''}"
            for m in messages:
                if m["role"] != "assistant":
                    continue
                for verdict in ("yes", "no"):
                    if f'"answer": "{verdict}"' in m["content"]:
                        counts[kind][verdict] += 1
    if not counts:
        sys.exit(f"{path}: no yes/no verdicts in any chat row")
    total = collections.Counter()
    print(f"{'source':45} {'yes':>7} {'no':>7} {'yes share':>9}")
    for kind, c in sorted(counts.items()):
        total.update(c)
        print(f"{kind:45} {c['yes']:7} {c['no']:7} {c['yes'] / (c['yes'] + c['no']):9.1%}")
    print(f"{'all':45} {total['yes']:7} {total['no']:7} {total['yes'] / sum(total.values()):9.1%}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
