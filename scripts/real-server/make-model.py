#!/usr/bin/env python3
"""Writes a tiny llama-architecture GGUF model with random F16 weights (std 0.02) for test/real/.

The tokenizer comes from a vocabulary-only GGUF shipped in llama.cpp's source (models/ggml-vocab-llama-spm.gguf);
gguf-py comes from the same source tree. Random weights generate gibberish, which is all a load test needs:
llama-server still schedules slots, streams tokens and counts them in /metrics.
"""
import argparse
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--gguf-py", required=True, help="path to llama.cpp's gguf-py directory")
parser.add_argument("--vocab", required=True, help="vocabulary-only GGUF to take the tokenizer from")
parser.add_argument("--out", required=True)
parser.add_argument("--embd", type=int, default=64)
parser.add_argument("--layers", type=int, default=2)
parser.add_argument("--heads", type=int, default=4)
parser.add_argument("--ff", type=int, default=192)
parser.add_argument("--ctx", type=int, default=2048)
parser.add_argument("--seed", type=int, default=14)
args = parser.parse_args()

sys.path.insert(0, args.gguf_py)
import numpy as np  # noqa: E402
import gguf  # noqa: E402

reader = gguf.GGUFReader(args.vocab)
def field(name):
    f = reader.get_field(name)
    if f is None:
        sys.exit(f"{args.vocab}: no field {name}")
    return f
tokens = [bytes(field("tokenizer.ggml.tokens").parts[i]) for i in field("tokenizer.ggml.tokens").data]
scores = [float(field("tokenizer.ggml.scores").parts[i][0]) for i in field("tokenizer.ggml.scores").data]
types = [int(field("tokenizer.ggml.token_type").parts[i][0]) for i in field("tokenizer.ggml.token_type").data]
n_vocab = len(tokens)

rng = np.random.default_rng(args.seed)
def weight(*shape):
    return (rng.standard_normal(shape) * 0.02).astype(np.float16)
def ones(n):
    return np.ones(n, dtype=np.float32)

w = gguf.GGUFWriter(args.out, "llama")
w.add_name("budgetgate-tiny-random")
w.add_context_length(args.ctx)
w.add_embedding_length(args.embd)
w.add_block_count(args.layers)
w.add_feed_forward_length(args.ff)
w.add_head_count(args.heads)
w.add_head_count_kv(args.heads)
w.add_layer_norm_rms_eps(1e-5)
w.add_rope_dimension_count(args.embd // args.heads)
w.add_vocab_size(n_vocab)
w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
w.add_tokenizer_model("llama")
w.add_token_list(tokens)
w.add_token_scores(scores)
w.add_token_types(types)
w.add_bos_token_id(1)
w.add_eos_token_id(2)
w.add_unk_token_id(0)
w.add_add_bos_token(True)
w.add_chat_template(
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# GGUF stores shapes reversed from numpy: a numpy (rows, cols) array is ggml ne = [cols, rows].
e, f = args.embd, args.ff
w.add_tensor("token_embd.weight", weight(n_vocab, e))
for i in range(args.layers):
    w.add_tensor(f"blk.{i}.attn_norm.weight", ones(e))
    for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
        w.add_tensor(f"blk.{i}.{name}.weight", weight(e, e))
    w.add_tensor(f"blk.{i}.ffn_norm.weight", ones(e))
    w.add_tensor(f"blk.{i}.ffn_gate.weight", weight(f, e))
    w.add_tensor(f"blk.{i}.ffn_up.weight", weight(f, e))
    w.add_tensor(f"blk.{i}.ffn_down.weight", weight(e, f))
w.add_tensor("output_norm.weight", ones(e))
w.add_tensor("output.weight", weight(n_vocab, e))

w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
print(f"{args.out}: vocab {n_vocab}, embd {e}, layers {args.layers}, heads {args.heads}, ff {f}")
