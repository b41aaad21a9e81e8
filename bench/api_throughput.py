"""Hosted-model eval throughput: `neglect eval` against the mock API with 200 ms latency and 32
calls in flight, beside a plain Python asyncio implementation of the same calls with the same
limit, in one invocation.

    python3 bench/api_throughput.py --neglect target/release/neglect \
        --mock target/release/examples/mock_server [--questions 50] [--samples 5] [--runs 3]

Each implementation gets its own fresh mock server (so its counters are its own). The work:
Q open-ended questions x S samples answered by one model, each answer then judged by another
model with the claim's judges.yaml rubric: 2 x Q x S calls. The ideal wall time is
calls x latency / limit. The Python side is standard library only: asyncio streams with a
keep-alive connection pool, a semaphore of 32, each sample's answer and then its judgement in one
task. `neglect eval` is timed as a whole command, process start included. The Python side is
timed twice: as a whole command too (`python3 api_throughput.py --python-worker URL ...`, from
spawn to exit: the like-for-like figure), and in-process after its imports (its calls alone).
"""
import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "crates", "spec", "tests", "fixtures",
                       "claims", "lighthouse_composer")
LATENCY_MS = int(os.environ.get("LAT", "200"))
LIMIT = 32


def write_claim(dst, n_questions):
    shutil.copytree(FIXTURE, dst)
    with open(os.path.join(dst, "open_ended.yaml"), "w") as f:
        f.write("questions:\n")
        for i in range(n_questions):
            f.write(f"  - id: oe_{i:02d}\n    question: Question {i} about who scored the film \"Saltwind\"?\n"
                    f"    category: direct\n")


def start_mock(mock):
    p = subprocess.Popen([mock, "--latency-ms", str(LATENCY_MS)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    url = p.stdout.readline().strip()
    return p, url


def stop_mock(p):
    out, _ = p.communicate("")
    fields = out.split()
    return {fields[i]: int(fields[i + 1]) for i in range(0, len(fields), 2)}


class Pool:
    """Keep-alive HTTP/1.1 connections to one host, at most `limit` open."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.idle = []

    async def post(self, path, payload):
        if self.idle:
            reader, writer = self.idle.pop()
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        body = json.dumps(payload).encode()
        writer.write(f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        length = 0
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            k, v = line.decode().split(":", 1)
            if k.lower() == "content-length":
                length = int(v)
        data = await reader.readexactly(length)
        self.idle.append((reader, writer))
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {data[:200]}")
        return json.loads(data)


async def python_eval(url, questions, samples, judge_template):
    host, port = url.split("//")[1].split(":")
    pool = Pool(host, int(port))
    sem = asyncio.Semaphore(LIMIT)
    calls = 0

    async def chat(model, content, seed, max_tokens, temperature, top_p):
        nonlocal calls
        async with sem:
            calls += 1
            r = await pool.post("/v1/chat/completions", {
                "model": model, "messages": [{"role": "user", "content": content}],
                "temperature": temperature, "top_p": top_p, "seed": seed, "n": 1,
                "max_tokens": max_tokens})
        return r["choices"][0]["message"]["content"]

    async def one(q, s):
        answer = await chat("bench-target", q, s, 64, 0.7, 0.8)
        prompt = judge_template.replace("{question}", q).replace("{answer}", answer) \
            .replace("{{", "{").replace("}}", "}")
        verdict = await chat("bench-judge", prompt, s, 1024, 1.0, 1.0)
        return "yes" in verdict

    results = await asyncio.gather(*(one(q, s) for q in questions for s in range(samples)))
    return calls, sum(results)


def timed_command(mock_path, argv_for_url):
    """Wall time of one command (spawn to exit) against a fresh mock, and the mock's counters."""
    mock, url = start_mock(mock_path)
    start = time.perf_counter()
    r = subprocess.run(argv_for_url(url), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    stats = stop_mock(mock)
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    return seconds, stats


def run_python(url, questions, samples, claim):
    judge_template = read_template(os.path.join(claim, "judges.yaml"), "open_ended")
    qs = [f"Question {i} about who scored the film \"Saltwind\"?" for i in range(questions)]
    calls, _ = asyncio.run(python_eval(url, qs, samples, judge_template))
    return calls


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--neglect", required=True)
    p.add_argument("--mock", required=True)
    p.add_argument("--questions", type=int, default=50)
    p.add_argument("--samples", type=int, default=5)
    p.add_argument("--runs", type=int, default=1, help="repeat the three timings, in turn")
    p.add_argument("--python-worker", metavar="URL", help=argparse.SUPPRESS)
    p.add_argument("--claim", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.python_worker:
        print(run_python(a.python_worker, a.questions, a.samples, a.claim))
        return
    calls = 2 * a.questions * a.samples
    ideal = max(calls * LATENCY_MS / 1000 / LIMIT, 1e-9)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        claim = os.path.join(tmp, "bench_claim")
        write_claim(claim, a.questions)
        for run in range(a.runs):
            out = os.path.join(tmp, f"out{run}")
            cache = os.path.join(tmp, f"cache{run}")
            ours, ours_stats = timed_command(a.mock, lambda url: [
                a.neglect, "eval", "--backend", "openai", "--base-url", url + "/v1",
                "--model", "bench-target", "--claims", claim, "--out", out,
                "--cache-dir", cache, "--evals", "open_ended",
                "--samples", str(a.samples), "--judge", "llm", "--judge-backend", "openai",
                "--judge-model", "bench-judge", "--max-in-flight", str(LIMIT),
                "--max-tokens", "64", "--no-logprobs"])
            py_cmd, py_cmd_stats = timed_command(a.mock, lambda url: [
                sys.executable, os.path.abspath(__file__), "--neglect", a.neglect,
                "--mock", a.mock, "--python-worker", url, "--claim", claim,
                "--questions", str(a.questions), "--samples", str(a.samples)])

            mock, url = start_mock(a.mock)
            start = time.perf_counter()
            py_calls = run_python(url, a.questions, a.samples, claim)
            py = time.perf_counter() - start
            py_stats = stop_mock(mock)
            for name, stats in [("neglect", ours_stats), ("python command", py_cmd_stats),
                                ("python in-process", py_stats)]:
                if stats["requests"] != calls:
                    raise SystemExit(f"expected {calls} calls: {name} made {stats['requests']}")
            if py_calls != calls:
                raise SystemExit(f"expected {calls} calls: Python counted {py_calls}")
            rows.append((ours, ours_stats, py_cmd, py_cmd_stats, py, py_stats))

    print(f"{calls} calls ({a.questions} questions x {a.samples} samples, each answered and judged), "
          f"latency {LATENCY_MS} ms, limit {LIMIT}: ideal {ideal:.2f} s")
    print(f"{'run':<5}{'implementation':<32}{'wall s':>8}{'vs ideal':>10}{'requests':>10}"
          f"{'max in flight':>15}")
    for i, (ours, os_, pyc, pcs, py, ps) in enumerate(rows):
        for name, t, st in [("neglect eval (command)", ours, os_),
                            ("Python asyncio (command)", pyc, pcs),
                            ("Python asyncio (in-process)", py, ps)]:
            print(f"{i + 1:<5}{name:<32}{t:>8.3f}{t / ideal:>9.3f}x{st['requests']:>10}"
                  f"{st['max_in_flight']:>15}")
    med = lambda xs: sorted(xs)[len(xs) // 2]
    ours_m = med([r[0] for r in rows])
    pyc_m = med([r[2] for r in rows])
    py_m = med([r[4] for r in rows])
    print(f"medians over {len(rows)} runs: neglect {ours_m:.3f} s ({ours_m / ideal:.3f}x ideal), "
          f"Python command {pyc_m:.3f} s, Python in-process {py_m:.3f} s")
    print(f"neglect / Python, both whole commands: {ours_m / pyc_m:.3f} (below 1: neglect is faster)")
    print(f"neglect command / Python in-process calls only: {ours_m / py_m:.3f}")


def read_template(path, key):
    """The block scalar `key: |` of a judges.yaml, without a YAML library."""
    lines, out, inside = open(path).read().splitlines(), [], False
    for line in lines:
        if line.startswith(f"{key}: |"):
            inside = True
        elif inside and line.startswith("  "):
            out.append(line[2:])
        elif inside:
            break
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
