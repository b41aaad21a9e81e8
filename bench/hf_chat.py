"""Prints what transformers makes of a tokenizer directory: the chat template rendered for a
conversation, and the token ids and byte offsets of a text.

Used by the ignored test `transformers_tokenizes_and_renders_alike` (crates/lm/tests/inference.rs):
    python bench/hf_chat.py TOKENIZER_DIR MESSAGES_JSON TEXT  ->  {"rendered", "ids", "offsets"}
"""
import json
import sys

from transformers import AutoTokenizer

tok = AutoTokenizer.from_pretrained(sys.argv[1])
messages = json.loads(sys.argv[2])
rendered = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
enc = tok(sys.argv[3], add_special_tokens=False, return_offsets_mapping=True)
text = sys.argv[3]
# transformers reports character offsets; ours are bytes.
to_byte = [len(text[:i].encode()) for i in range(len(text) + 1)]
offsets = [[to_byte[a], to_byte[b]] for a, b in enc["offset_mapping"]]
print(json.dumps({"rendered": rendered, "ids": enc["input_ids"], "offsets": offsets}))
