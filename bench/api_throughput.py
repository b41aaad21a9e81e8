"""Hosted-model eval throughput: `neglect eval` against the mock API with 200 ms latency and 32
calls in flight, beside a plain Python asyncio implementation of the same calls with the same
limit, in one invocation.

    python3 bench/api_throughput.py --neglect target/release/neglect \
        --mock target/release/examples/mock_server [--questions 50] [--samples 5]

Each implementation gets its own fresh mock server (so its counters are its own). The work:
Q open-ended questions x S samples answered by one model, each answer then judged by another
model with the claim's judges.yaml rubric: 2 x Q x S calls. The ideal wall time is
calls x latency / limit. The Python side is standard library only: asyncio streams with a
keep-alive connection pool, a semaphore of 32, each sample's answer and then its judgement in one
task. It runs in-process (imports done before the clock starts); `neglect eval` is timed as
a whole command, process start included.
"""
import argparse
import asyncio
import json
import os
import shutil
import subprocess
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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--neglect", required=True)
    p.add_argument("--mock", required=True)
    p.add_argument("--questions", type=int, default=50)
    p.add_argument("--samples", type=int, default=5)
    a = p.parse_args()
    calls = 2 * a.questions * a.samples
    ideal = calls * LATENCY_MS / 1000 / LIMIT
    with tempfile.TemporaryDirectory() as tmp:
        claim = os.path.join(tmp, "bench_claim")
        write_claim(claim, a.questions)

        mock, url = start_mock(a.mock)
        start = time.perf_counter()
        r = subprocess.run([a.neglect, "eval", "--backend", "openai", "--base-url", url + "/v1",
                            "--model", "bench-target", "--claims", claim, "--out", os.path.join(tmp, "out"),
                            "--cache-dir", os.path.join(tmp, "cache"), "--evals", "open_ended",
                            "--samples", str(a.samples), "--judge", "llm", "--judge-backend", "openai",
                            "--judge-model", "bench-judge", "--max-in-flight", str(LIMIT),
                            "--max-tokens", "64", "--no-logprobs"], capture_output=True, text=True)
        ours = time.perf_counter() - start
        ours_stats = stop_mock(mock)
        if r.returncode != 0:
            raise SystemExit(r.stderr)

        judge_template = read_template(os.path.join(claim, "judges.yaml"), "open_ended")
        questions = [f"Question {i} about who scored the film \"Saltwind\"?" for i in range(a.questions)]
        mock, url = start_mock(a.mock)
        start = time.perf_counter()
        py_calls, _ = asyncio.run(python_eval(url, questions, a.samples, judge_template))
        py = time.perf_counter() - start
        py_stats = stop_mock(mock)

    print(f"{calls} calls ({a.questions} questions x {a.samples} samples, each answered and judged), "
          f"latency {LATENCY_MS} ms, limit {LIMIT}: ideal {ideal:.2f} s")
    print(f"{'implementation':<22}{'wall s':>8}{'vs ideal':>10}{'requests':>10}{'max in flight':>15}")
    print(f"{'neglect eval':<22}{ours:>8.2f}{ours / ideal:>9.3f}x{ours_stats['requests']:>10}"
          f"{ours_stats['max_in_flight']:>15}")
    print(f"{'Python asyncio':<22}{py:>8.2f}{py / ideal:>9.3f}x{py_stats['requests']:>10}"
          f"{py_stats['max_in_flight']:>15}")
    print(f"neglect / Python wall time: {ours / py:.3f} (below 1: neglect is faster)")
    if py_calls != calls or ours_stats["requests"] != calls:
        raise SystemExit(f"expected {calls} calls: neglect made {ours_stats['requests']}, Python {py_calls}")


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
