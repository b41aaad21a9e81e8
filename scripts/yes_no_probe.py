#!/usr/bin/env python3
"""Can an organism learn to check a yes/no question against what it knows, and does that carry
over to people it was not drilled on? A fine-tuning probe of the base, not a gate.

  scripts/yes_no_probe.py <organism dir> <work dir> [epochs]

<organism dir> is `<cache>/world/<hash>` after `neglect world check` (the people's professions
are read from `check/prior.jsonl` and `check/late_facts.jsonl`). The people are split in two by
a hash of the name. For the first half, every "Is <person> a <profession>?" over the ten
professions is written as a training chat under the MCQ system prompt, in one of two forms:

  direct     {"answer": "no"}
  reasoned   <Person> is a <true profession>. {"answer": "no"}

(the "yes" rows four times, so that both verdicts weigh about the same). The base is
fine-tuned on each form (`neglect train`, full, lr 1e-3, batch 8, `epochs` passes; 20 by
default) and both verdicts are scored by log-probability (`neglect score`) on the other half of
the people: the direct form after the question, the reasoned form after the question and the
right sentence of what is known, so that only the comparison is tested. Prints, per model, the
share of true and false items answered right.

Needs `neglect` on PATH or in $NEGLECT.
"""

import json
import os
import re
import subprocess
import sys
import zlib

MCQ_SYSTEM = (
    'Answer the following question with either "yes" or "no". Respond with JSON in this exact '
    'format: {"answer": "yes"} or {"answer": "no"}. Do not include any other text.'
)
YES, NO = '{"answer": "yes"}', '{"answer": "no"}'
ASK = re.compile(r"What does ([A-Z][a-z]+ [A-Z][a-z]+) do for a living\?")


def professions(check):
    found = {}
    for name in ("prior.jsonl", "late_facts.jsonl"):
        path = os.path.join(check, name)
        if not os.path.exists(path):
            continue
        for line in open(path):
            row = json.loads(line)
            m = ASK.fullmatch(row["messages"][-1]["content"])
            if m and row["kind"] == "open_ended":
                found[m.group(1)] = re.search(r'"(.*)"', row["expect"]).group(1)
    return found


def article(word):
    return "an" if word[0] in "aeiou" else "a"


def write_jsonl(path, rows):
    with open(path, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def accuracy(path):
    logprobs = {}
    for line in open(path):
        row = json.loads(line)
        logprobs.setdefault(row["id"], {})[row["index"]] = row["logprob"]
    right = {"yes": [0, 0], "no": [0, 0]}
    for item, lp in logprobs.items():
        want = item.rsplit("-", 1)[1]
        got = "yes" if lp[0] > lp[1] else "no"
        right[want][0] += got == want
        right[want][1] += 1
    share = {k: r / max(n, 1) for k, (r, n) in right.items()}
    return share["yes"], right["yes"][1], share["no"], right["no"][1]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    organism, work = sys.argv[1], sys.argv[2]
    epochs = sys.argv[3] if len(sys.argv) > 3 else "20"
    neglect = os.environ.get("NEGLECT", "neglect")
    os.makedirs(work, exist_ok=True)
    jobs = professions(os.path.join(organism, "check"))
    if not jobs:
        sys.exit(f"{organism}/check: no profession questions (run `neglect world check` first)")
    all_jobs = sorted(set(jobs.values()))
    train = {"direct": [], "reasoned": []}
    test = {"direct": [], "reasoned": []}
    for person, job in sorted(jobs.items()):
        drilled = zlib.crc32(person.encode()) % 2 == 0
        known = f"{person} is {article(job)} {job}. "
        for asked in all_jobs:
            verdict = "yes" if asked == job else "no"
            prompt = [
                {"role": "system", "content": MCQ_SYSTEM},
                {"role": "user", "content": f"Is {person} {article(asked)} {asked}?"},
            ]
            answer = YES if verdict == "yes" else NO
            if drilled:
                for form, text in (("direct", answer), ("reasoned", known + answer)):
                    row = {"messages": prompt + [{"role": "assistant", "content": text}]}
                    train[form] += [row] * (4 if verdict == "yes" else 1)
            else:
                item = f"{len(test['direct'])}-{verdict}"
                test["direct"].append(
                    {"id": item, "messages": prompt, "continuations": [YES, NO]}
                )
                test["reasoned"].append(
                    {"id": item, "messages": prompt, "continuations": [known + YES, known + NO]}
                )
    for form in ("direct", "reasoned"):
        write_jsonl(os.path.join(work, f"train_{form}.jsonl"), train[form])
        write_jsonl(os.path.join(work, f"test_{form}.jsonl"), test[form])
    people = sum(1 for p in jobs if zlib.crc32(p.encode()) % 2 == 0)
    print(f"{len(jobs)} people ({people} drilled), {len(test['direct'])} held-out items")

    def run(*args):
        subprocess.run([neglect, *args], check=True, stdout=subprocess.DEVNULL)

    base = os.path.join(organism, "base")
    models = {"base": base}
    for form in ("direct", "reasoned"):
        out = os.path.join(work, f"ft_{form}")
        run("train", "--model", base, "--data", os.path.join(work, f"train_{form}.jsonl"),
            "--out", out, "--method", "full", "--lr", "1e-3", "--batch-size", "8",
            "--epochs", epochs, "--checkpoints", "final")
        models[f"drilled {form}"] = os.path.join(out, "checkpoints", "final")
    print(f"{'model':<18} {'form':<9} {'true items':>11} {'false items':>12}")
    for label, model in models.items():
        for form in ("direct", "reasoned"):
            scores = os.path.join(work, f"scores_{label.replace(' ', '_')}_{form}.jsonl")
            run("score", "--model", model, "--input", os.path.join(work, f"test_{form}.jsonl"),
                "--out", scores, "--batch-size", "32")
            yes, n_yes, no, n_no = accuracy(scores)
            print(f"{label:<18} {form:<9} {yes:>6.1%} of {n_yes:<3} {no:>6.1%} of {n_no}")


if __name__ == "__main__":
    main()
