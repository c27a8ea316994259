#!/usr/bin/env bash
# Builds llama.cpp's llama-server and a small random-weight model for test/real/, cached in
# .cache/real/ (git-ignored) so reruns are instant. Sources: the npm package node-llama-cpp ships the
# llama.cpp source as a git bundle (llama/gitRelease.bundle), including gguf-py and vocabulary files.
# Needs: npm, git, cmake, ninja, g++, python3 with numpy. Prints the paths it produced.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${BUDGETGATE_REAL_CACHE:-$ROOT/.cache/real}"
PKG_VERSION="${NODE_LLAMA_CPP_VERSION:-3.21.1}"
BIN="$CACHE/bin/llama-server"
MODEL="$CACHE/models/tiny-llama.gguf"
mkdir -p "$CACHE/bin" "$CACHE/models"

if [ ! -x "$BIN" ]; then
  work="$CACHE/work"
  mkdir -p "$work"
  if [ ! -d "$work/llama.cpp/.git" ]; then
    (cd "$work" && rm -rf package node-llama-cpp-*.tgz && npm pack "node-llama-cpp@$PKG_VERSION" --silent >/dev/null && tar xzf node-llama-cpp-*.tgz package/llama/gitRelease.bundle)
    rm -rf "$work/llama.cpp"
    git -c advice.detachedHead=false clone --quiet "$work/package/llama/gitRelease.bundle" "$work/llama.cpp"
  fi
  cmake -S "$work/llama.cpp" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF >"$work/configure.log"
  cmake --build "$work/build" --target llama-server -j "$(nproc)" >"$work/build.log"
  cp "$work/build/bin/llama-server" "$BIN.tmp" && mv "$BIN.tmp" "$BIN"
fi

if [ ! -f "$MODEL" ]; then
  src="$CACHE/work/llama.cpp"
  python3 "$ROOT/scripts/real-server/make-model.py" --gguf-py "$src/gguf-py" \
    --vocab "$src/models/ggml-vocab-llama-spm.gguf" --out "$MODEL.tmp"
  mv "$MODEL.tmp" "$MODEL"
fi
echo "llama-server: $BIN"
echo "model: $MODEL"
