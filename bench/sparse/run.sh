#!/usr/bin/env bash
# Sparse vs dense (oneDNN) on ResNet-18's 1x1 and FC layers at 80% magnitude sparsity,
# 1 and 2 threads, then the whole pruned model with --sparse off/auto/force.
# Usage: bench/sparse/run.sh [BUILD_DIR] [extra sparse_layers_bench flags...]
# The machine's load is printed before and after: compare the two paths' ratio, which
# is measured with interleaved runs in one process, rather than absolute times.
set -euo pipefail
build_dir="${1:-build}"
shift || true
binary="$build_dir/bench/sparse/sparse_layers_bench"
if [[ ! -x "$binary" ]]; then
  echo "run.sh: $binary not found; build it with: cmake --build $build_dir --target sparse_layers_bench" >&2
  exit 1
fi
echo "before: $(uptime)"
"$binary" --sparsity 0.8 --runs 300 --threads 1,2 "$@"
echo "after: $(uptime)"
