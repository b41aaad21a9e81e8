"""Prints the logits Hugging Face transformers computes for a saved checkpoint.

Used by the ignored test `hf_transformers_agrees` (crates/lm/tests/model.rs):
    python bench/hf_logits.py MODEL_DIR IDS_JSON  ->  JSON list of logits, [batch][time][vocab]
Needs torch 2.11 and transformers importable (a full torch install).
"""
import json
import sys

import torch
from transformers import AutoModelForCausalLM

model = AutoModelForCausalLM.from_pretrained(sys.argv[1], torch_dtype=torch.float32, attn_implementation="eager")
model.eval()
ids = torch.tensor(json.loads(sys.argv[2]))
with torch.no_grad():
    logits = model(input_ids=ids).logits
print(json.dumps(logits.tolist()))
