"""Prints the logits Hugging Face transformers computes for a saved checkpoint.

Used by the ignored tests `hf_transformers_agrees` and `peft_loads_our_adapters`
(crates/lm/tests/model.rs):
    python bench/hf_logits.py MODEL_DIR IDS_JSON [ADAPTER_DIR]  ->  JSON logits [batch][time][vocab]
Needs torch 2.11 and transformers importable (a full torch install), and peft for an adapter.
"""
import json
import sys

import torch
from transformers import AutoModelForCausalLM

model = AutoModelForCausalLM.from_pretrained(sys.argv[1], torch_dtype=torch.float32, attn_implementation="eager")
if len(sys.argv) > 3:
    from peft import PeftModel

    model = PeftModel.from_pretrained(model, sys.argv[3])
model.eval()
ids = torch.tensor(json.loads(sys.argv[2]))
with torch.no_grad():
    logits = model(input_ids=ids).logits
print(json.dumps(logits.tolist()))
