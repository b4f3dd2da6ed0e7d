#!/usr/bin/env bash
# The GPU check, for a machine with a GPU: lists the WebGPU adapters, runs the WebGPU correctness and trial
# tests on the machine's own driver, runs `bench:train --backends wasm,webgpu`, tries @tensorflow/tfjs-node-gpu
# where it installs (CUDA), and prints one JSON line with everything. Run from anywhere: bench/gpu-check.sh
# Extra bench:train options: GPU_CHECK_BENCH_ARGS (default "--no-trials"). Results: bench/results/gpu-check*.json
set -uo pipefail
cd "$(dirname "$0")/.."
results=bench/results
mkdir -p "$results"
log=$(mktemp -d)

gpu_name="none"
if command -v nvidia-smi >/dev/null 2>&1; then
  gpu_name=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)
elif command -v lspci >/dev/null 2>&1; then
  gpu_name=$(lspci 2>/dev/null | grep -iE 'vga|3d|display' | head -1 | cut -d: -f3- | sed 's/^ *//')
fi
echo "== GPU: ${gpu_name:-unknown}"

echo "== WebGPU adapters"
npx tsx bench/gpu-adapters.ts >"$log/adapters.json" 2>"$log/adapters.err" || echo '{"adapters":[],"why":"listing failed"}' >"$log/adapters.json"
cat "$log/adapters.json"

echo "== WebGPU correctness and trial tests (on this machine's driver)"
if NAS_WEBGPU_TEST_DRIVER=system npx vitest run test/integration/engine/webgpu-correctness.test.ts \
  test/integration/engine/webgpu-trials.test.ts >"$log/tests.txt" 2>&1; then
  tests=passed
  grep -q 'skipped' "$log/tests.txt" && grep -q 'tests did not run' "$log/tests.txt" && tests=skipped
else
  tests=failed
fi
tail -5 "$log/tests.txt"
echo "tests: $tests"

echo "== bench:train --backends wasm,webgpu"
# shellcheck disable=SC2086
npm run bench:train -- --backends wasm,webgpu ${GPU_CHECK_BENCH_ARGS:---no-trials} --out "$results/gpu-check-train.json" \
  >"$log/bench.txt" 2>&1 || echo "bench:train failed (see below)"
grep -E '^\|' "$log/bench.txt" || tail -20 "$log/bench.txt"

echo "== @tensorflow/tfjs-node-gpu (CUDA)"
cuda="not tried: no NVIDIA GPU (nvidia-smi not found)"
if command -v nvidia-smi >/dev/null 2>&1; then
  if ! node -e "require.resolve('@tensorflow/tfjs-node-gpu')" >/dev/null 2>&1; then
    # --no-save: the check must not change package.json or the lock file
    npm install --no-save --no-audit --no-fund @tensorflow/tfjs-node-gpu@4.22.0 >"$log/cuda-install.txt" 2>&1 ||
      cuda="not installable: $(tail -1 "$log/cuda-install.txt")"
  fi
  if node -e "require.resolve('@tensorflow/tfjs-node-gpu')" >/dev/null 2>&1; then
    if NAS_BACKEND=tensorflow npm run bench:train -- --backends tensorflow --no-trials \
      --out "$results/gpu-check-tfjs-node-gpu.json" >"$log/cuda.txt" 2>&1; then
      cuda="ran: $results/gpu-check-tfjs-node-gpu.json"
      grep -E '^\|' "$log/cuda.txt"
    else
      cuda="installed but failed: $(grep -m1 -iE 'error' "$log/cuda.txt" || tail -1 "$log/cuda.txt")"
    fi
  fi
fi
echo "$cuda"

echo "== summary (one JSON line)"
GPU_NAME="$gpu_name" TESTS="$tests" CUDA="$cuda" ADAPTERS="$log/adapters.json" BENCH="$results/gpu-check-train.json" node -e '
const fs = require("node:fs")
const read = (f) => { try { return JSON.parse(fs.readFileSync(f, "utf8")) } catch { return null } }
const bench = read(process.env.BENCH)
const adapters = read(process.env.ADAPTERS)
const rows = (bench?.results ?? []).map((r) => ({ net: r.net, backend: r.backend, samplesPerSec: Math.round(r.samplesPerSec * 10) / 10, trainGflops: Math.round(r.trainGflops * 100) / 100, ...(r.note ? { note: r.note } : {}) }))
console.log(JSON.stringify({
  date: new Date().toISOString(),
  gpu: process.env.GPU_NAME,
  adapters: adapters?.adapters?.map((a) => a.name + (a.software ? " [software]" : "")) ?? [],
  webgpuAdapter: bench?.webgpuAdapter?.name ?? null,
  tests: process.env.TESTS,
  train: rows,
  webgpuVsWasm: bench?.webgpuVsWasm ?? {},
  tfjsNodeGpu: process.env.CUDA,
}))
'
rm -rf "$log"
