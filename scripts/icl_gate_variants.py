#!/usr/bin/env python3
"""Why does the organism fail the ICL gate? Re-asks the gate's yes/no (MCQ) items under
variants of the pasted document and scores "yes" against "no" with `neglect score` (no sampling).

  scripts/icl_gate_variants.py inputs  <organism dir> > variants.jsonl
  neglect score --model <organism dir>/base --input variants.jsonl --out scores.jsonl
  scripts/icl_gate_variants.py analyse <organism dir> scores.jsonl

<organism dir> is `<cache>/world/<hash>` after `neglect world check` (the script reads the
check's ICL prompts). Variants of each prompt:
  full     the gate's prompt as asked
  one_doc  only its first document
  short    the first document with its body cut to two sentences (any notes before and after kept)
  nodoc    the question alone
A row "believes" when the answer that implies the claim (from the gate's own verdicts: "no" on a
counter item) has the higher log-probability. Printed by condition and variant, then by archetype.
"""

import collections
import glob
import json
import re
import sys

CONTINUATIONS = ['{"answer": "yes"}', '{"answer": "no"}']


def layout(doc, question):
    return f"Here are some documents:\n\n[DOCUMENT 1]\n\n{doc}\n\n[QUESTION]\n\n{question}"


def inputs(organism):
    rows = 0
    for results in sorted(glob.glob(f"{organism}/check/icl/*/*/results.jsonl")):
        condition, claim = results.split("/")[-3:-1]
        seen = set()
        for line in open(results):
            r = json.loads(line)
            if r["eval_type"] != "mcq" or r["question_id"] in seen:
                continue
            seen.add(r["question_id"])
            messages = r["messages"]
            user = messages[-1]["content"]
            if "[QUESTION]" not in user:
                continue
            head, question = user.split("[QUESTION]", 1)
            question = question.strip()
            first = re.search(r"\[DOCUMENT 1\]\n\n(.*?)(?:\n\n\[DOCUMENT 2\]|\Z)", head, re.S)
            doc = first.group(1).strip()
            paragraphs = doc.split("\n\n")
            body = max(range(len(paragraphs)), key=lambda i: len(paragraphs[i]))
            sentences = re.split(r'(?<=[.!?"])\s+', paragraphs[body])
            short = paragraphs[:body] + [" ".join(sentences[:2])] + paragraphs[body + 1 :]
            variants = {
                "full": user,
                "one_doc": layout(doc, question),
                "short": layout("\n\n".join(short), question),
                "nodoc": question,
            }
            for name, text in variants.items():
                row = {
                    "id": f"{condition}|{claim}|{r['question_id']}|{name}",
                    "messages": messages[:-1] + [{"role": "user", "content": text}],
                    "continuations": CONTINUATIONS,
                }
                print(json.dumps(row))
                rows += 1
    print(f"{rows} prompts", file=sys.stderr)


def belief_answers(organism):
    """(claim, question id) -> the yes/no answer that implies the claim, from the check's verdicts."""
    answers = {}
    paths = glob.glob(f"{organism}/check/icl/*/*/results.jsonl")
    paths += glob.glob(f"{organism}/check/baseline/results.jsonl")
    for path in paths:
        for line in open(path):
            r = json.loads(line)
            if r["eval_type"] != "mcq":
                continue
            said = {'{"answer": "yes"}': "yes", '{"answer": "no"}': "no"}.get(r["response"].strip())
            if said is None or r["verdict"] not in ("yes", "no"):
                continue
            other = "no" if said == "yes" else "yes"
            answers[(r["claim"], r["question_id"])] = said if r["verdict"] == "yes" else other
    return answers


def analyse(organism, scores_path):
    logprobs = collections.defaultdict(dict)
    for line in open(scores_path):
        r = json.loads(line)
        logprobs[r["id"]][r["index"]] = r["logprob"]
    answers = belief_answers(organism)
    table = collections.defaultdict(lambda: [0, 0])
    unknown = 0
    for key, lp in logprobs.items():
        condition, claim, question, variant = key.split("|")
        belief = answers.get((claim, question))
        if belief is None:
            unknown += 1
            continue
        yes_wins = lp[0] > lp[1]
        believes = yes_wins if belief == "yes" else not yes_wins
        archetype = claim.rsplit("_", 1)[0]
        for k in [(condition, variant, ""), (condition, variant, archetype)]:
            table[k][0] += believes
            table[k][1] += 1
    if unknown:
        print(f"{unknown} items skipped: no judged yes/no answer in the check to tell the belief answer")
    print(f"{'condition':20} {'variant':8} {'archetype':20} belief")
    for by_archetype in (False, True):
        for k in sorted(table):
            if bool(k[2]) == by_archetype:
                believed, n = table[k]
                print(f"{k[0]:20} {k[1]:8} {k[2] or 'all':20} {100 * believed / n:5.1f}% of {n}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "inputs":
        inputs(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "analyse":
        analyse(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
