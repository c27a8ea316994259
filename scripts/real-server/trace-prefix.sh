#!/usr/bin/env bash
# The prefix-cache measurement of trace replay: replays profiles/traces/mooncake-shared.jsonl and
# mooncake-unshared.jsonl (the same times and lengths; shared leading 512-token blocks in one, none
# in the other) against a fresh llama-server each (prompt cache on, --metrics), and prints its
# prompt-token counters before and after. Needs a built llama-server and a model whose context holds
# the prompts (~1,500 chars4 tokens, a few thousand llama tokens):
#   LLAMA_SERVER=.cache/real/bin/llama-server LLAMA_MODEL=model.gguf scripts/real-server/trace-prefix.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="${LLAMA_SERVER:-$ROOT/.cache/real/bin/llama-server}"
MODEL="${LLAMA_MODEL:-$ROOT/.cache/real/models/tiny-8k.gguf}"
PORT="${PORT:-18431}"
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
if [ ! -f "$MODEL" ]; then
  # the 8k-context twin of build.sh's model (the same random weights' recipe; the trace prompts are
  # a few thousand llama tokens, past tiny-llama.gguf's 2,048), made from build.sh's llama.cpp source
  src="$ROOT/.cache/real/work/llama.cpp"
  [ -d "$src/gguf-py" ] || { echo "trace-prefix.sh: $MODEL is missing and $src is not there: run scripts/real-server/build.sh first" >&2; exit 2; }
  python3 "$ROOT/scripts/real-server/make-model.py" --gguf-py "$src/gguf-py" --vocab "$src/models/ggml-vocab-llama-spm.gguf" --ctx 8192 --out "$MODEL.tmp"
  mv "$MODEL.tmp" "$MODEL"
fi
# random weights decode to byte tokens (ids 3–258) that are invalid UTF-8: banned per request (test/real/llama-server.ts)
BAN="$(python3 -c 'import json; print(json.dumps({str(i): -100 for i in range(3, 259)}))')"
counters() { curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^llamacpp:(prompt_tokens_total|prompt_tokens_cached_total|tokens_predicted_total|prompt_seconds_total) ' || true; }
for kind in shared unshared; do
  cat >"$OUT/$kind.yaml" <<YAML
name: trace-prefix-$kind
target:
  body: { model: tiny, messages: [{ role: user, content: "" }], max_tokens: 1, cache_prompt: true, logit_bias: $BAN }   # max_tokens: the probe's; each trace request sets its own
  timeout: 120s
phases:
  - name: replay
    trace: { file: $ROOT/profiles/traces/mooncake-$kind.jsonl, format: mooncake, exactOutput: true }
budgets:
  - { errorRate: 1% }
YAML
  "$BIN" -m "$MODEL" --host 127.0.0.1 --port "$PORT" -a tiny --metrics --no-webui -c 8192 -np 1 -t 2 >"$OUT/$kind-server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done
  echo "== $kind: before"; counters
  (cd "$ROOT" && npx tsx src/cli/main.ts run "$OUT/$kind.yaml" --target "http://127.0.0.1:$PORT/v1/chat/completions" --out "$OUT/$kind" --quiet) | tail -4 || true
  echo "== $kind: after"; counters
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
echo "reports and server logs: $OUT"
