"""Engine benchmark: our train step and sampler against plain PyTorch, same machine, one run.

    python bench/engine.py --ours target/release/examples/engine_bench [--threads 2]

(`make bench` builds the binary and runs this with a Python that has torch.) The PyTorch
model below is the same decoder (Llama layout: RMSNorm, RoPE, SwiGLU, 4 layers, d_model 256,
4 heads, vocab 2048, untied head), trained on batch 16 × context 256 with AdamW; sampling is
64 prompts × 32 new tokens with a plain generate loop (no KV cache), greedy.
"""

import argparse
import json
import math
import subprocess
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, D, LAYERS, HEADS, CONTEXT, BATCH = 2048, 256, 4, 4, 256, 16
FF = 3 * D


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def rope_tables(t, head_dim, device):
    inv = 1.0 / (10000 ** (torch.arange(0, head_dim, 2, dtype=torch.float64, device=device) / head_dim))
    freqs = torch.arange(t, dtype=torch.float64, device=device)[:, None] * inv[None]
    emb = torch.cat([freqs, freqs], -1)
    return emb.cos().float(), emb.sin().float()


def rotate(x, cos, sin):
    h = x.shape[-1] // 2
    rotated = torch.cat([-x[..., h:], x[..., :h]], -1)
    return x * cos.to(x.dtype) + rotated * sin.to(x.dtype)


class Layer(nn.Module):
    def __init__(self, sdpa):
        super().__init__()
        self.sdpa = sdpa
        self.input_layernorm = RMSNorm(D)
        self.q = nn.Linear(D, D, bias=False)
        self.k = nn.Linear(D, D, bias=False)
        self.v = nn.Linear(D, D, bias=False)
        self.o = nn.Linear(D, D, bias=False)
        self.post_attention_layernorm = RMSNorm(D)
        self.gate = nn.Linear(D, FF, bias=False)
        self.up = nn.Linear(D, FF, bias=False)
        self.down = nn.Linear(FF, D, bias=False)

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        h = self.input_layernorm(x)
        split = lambda y: y.view(b, t, HEADS, D // HEADS).transpose(1, 2)
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        if self.sdpa:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(D // HEADS)
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
            scores = scores.masked_fill(~mask, float("-inf"))
            y = scores.softmax(-1) @ v
        x = x + self.o(y.transpose(1, 2).reshape(b, t, D))
        h = self.post_attention_layernorm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Decoder(nn.Module):
    def __init__(self, sdpa):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D)
        self.layers = nn.ModuleList([Layer(sdpa) for _ in range(LAYERS)])
        self.norm = RMSNorm(D)
        self.head = nn.Linear(D, VOCAB, bias=False)
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, ids):
        cos, sin = rope_tables(ids.shape[1], D // HEADS, ids.device)
        x = self.embed(ids)
        for layer in self.layers:
            x = layer(x, cos, sin)
        return self.head(self.norm(x)).float()


def bench_train(variant, steps, device):
    torch.manual_seed(0)
    model = Decoder(sdpa=variant != "eager").to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0)
    ids = torch.randint(VOCAB, (BATCH, CONTEXT + 1), device=device)

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=variant == "bf16"):
            logits = model(ids[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), ids[:, 1:].reshape(-1))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.item()

    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        loss = step()
    secs = time.perf_counter() - start
    names = {"eager": "eager fp32 (matmul attention)", "sdpa": "fp32, SDPA", "bf16": "bf16 autocast, SDPA"}
    return {"impl": "PyTorch", "variant": names[variant], "task": "train",
            "tokens_per_s": BATCH * CONTEXT * steps / secs, "step_s": secs / steps, "loss": loss}


@torch.no_grad()
def bench_sample(device, prompts=64, new_tokens=32, prompt_len=32):
    torch.manual_seed(0)
    model = Decoder(sdpa=True).to(device).eval()
    ids = torch.randint(VOCAB, (prompts, prompt_len), device=device)

    def run():
        seq = ids
        for _ in range(new_tokens):
            nxt = model(seq)[:, -1].argmax(-1, keepdim=True)
            seq = torch.cat([seq, nxt], 1)
        return seq

    run()
    start = time.perf_counter()
    run()
    secs = time.perf_counter() - start
    return {"impl": "PyTorch", "variant": "plain generate loop (no KV cache), greedy", "task": "sample",
            "tokens_per_s": prompts * new_tokens / secs, "seconds": secs}


def ours(binary, args):
    out = subprocess.run([binary, *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ours", required=True, help="path to the engine_bench binary")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--device", default="cpu")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    extra = ["--threads", str(a.threads)] if a.threads else []
    extra += ["--device", a.device] if a.device != "cpu" else []
    rows = []
    rows.append(bench_train("eager", a.steps, device))
    rows.append(bench_train("sdpa", a.steps, device))
    rows.append(bench_train("bf16", a.steps, device))
    rows.append(ours(a.ours, ["train", "--steps", str(a.steps), *extra]))
    rows.append(ours(a.ours, ["train", "--bf16", "--steps", str(a.steps), *extra]))
    rows.append(bench_sample(device))
    rows.append(ours(a.ours, ["sample", *extra]))

    eager = rows[0]["tokens_per_s"]
    bf16 = rows[2]["tokens_per_s"]
    loop = rows[5]["tokens_per_s"]
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {a.device}")
    print(f"{'task':<7}{'implementation':<16}{'variant':<46}{'tokens/s':>10}  ratio")
    for r in rows:
        base = eager if r["task"] == "train" else loop
        print(f"{r['task']:<7}{r['impl']:<16}{r['variant']:<46}{r['tokens_per_s']:>10.0f}  {r['tokens_per_s'] / base:.2f}x")
    print(f"ours fp32 / PyTorch eager fp32: {rows[3]['tokens_per_s'] / eager:.2f}x")
    print(f"ours bf16 / PyTorch bf16 autocast: {rows[4]['tokens_per_s'] / bf16:.2f}x")
    print(f"ours KV-cache sampling / PyTorch loop: {rows[6]['tokens_per_s'] / loop:.2f}x")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
