#!/usr/bin/env bash
# The main job: build the zoo MobileNetV2, inspect it, run it on both backends with the
# same seeded input and check that they agree, benchmark the bundled models, then make
# optimized, quantized (INT8 dynamic/static, FP16, INT4) and pruned variants of the
# trained digits model and of MobileNetV2, compare them in one report each, and run the
# quantize/prune/fuse ablation. Reports go to out/demo/.
set -euo pipefail
build=${1:-build}
edgeperf="$build/edgeperf"
out=out/demo
mkdir -p "$out"

echo "== system"
"$edgeperf" sysinfo

echo "== building the zoo MobileNetV2"
"$edgeperf" zoo mobilenet_v2 -o "$out/mobilenet_v2.onnx"

echo "== inspect"
"$edgeperf" inspect "$out/mobilenet_v2.onnx"

for backend in reference onednn; do
  echo "== run on $backend"
  "$edgeperf" run "$out/mobilenet_v2.onnx" --backend "$backend" --seed 1 --output-dir "$out/$backend"
done

echo "== backends agree?"
/usr/bin/python3 scripts/compare_outputs.py "$out/reference" "$out/onednn"

echo "== benchmark: MobileNetV2 at 1 and 2 threads"
"$edgeperf" bench "$out/mobilenet_v2.onnx" --threads 1,2 --runs 200 --warmup 20 \
  --json "$out/report.json" --md "$out/report.md" --html "$out/report.html" --csv "$out/report.csv"

echo "== benchmark: the trained digits fixtures, with accuracy on their held-out set"
"$edgeperf" bench models/fixtures/digits_cnn.onnx --threads 1,2 --runs 500 --warmup 50 \
  --data models/fixtures/digits_eval \
  --json "$out/digits_report.json" --md "$out/digits_report.md" --html "$out/digits_report.html"

variants() {  # variants NAME MODEL CALIB: optimized, quantized and pruned variants of MODEL
  local name=$1 model=$2 calib=$3 dir="$out/variants"
  mkdir -p "$dir"
  "$edgeperf" optimize "$model" -o "$dir/${name}_optimized.onnx" >"$dir/${name}_optimized.log"
  # Dynamic INT8 quantizes every activation at run time: on convolutions it is far slower
  # than float, which quantize measures and refuses unless told to write it anyway.
  "$edgeperf" quantize "$model" -o "$dir/${name}_int8_dynamic.onnx" --mode dynamic --allow-slower
  "$edgeperf" quantize "$model" -o "$dir/${name}_int8_static_pc.onnx" --mode static --per-channel \
    --calib "$calib" --report "$dir/${name}_int8_static_pc.json"
  "$edgeperf" quantize "$model" -o "$dir/${name}_fp16.onnx" --mode fp16
  "$edgeperf" quantize "$model" -o "$dir/${name}_int4.onnx" --mode int4-weight
  "$edgeperf" prune "$model" -o "$dir/${name}_pruned50.onnx" --method magnitude --sparsity 0.5
  "$edgeperf" prune "$model" -o "$dir/${name}_channel30.onnx" --method channel --sparsity 0.3
  "$edgeperf" prune "$model" -o "$dir/${name}_2to4.onnx" --method 2:4 --sparsity 0.5
  "$edgeperf" quantize "$dir/${name}_pruned50.onnx" -o "$dir/${name}_pruned50_int8.onnx" \
    --mode static --per-channel --calib "$calib"
}
variant_files() {
  local name=$1 model=$2 dir="$out/variants"
  echo "$model"
  for v in optimized int8_dynamic int8_static_pc fp16 int4 pruned50 channel30 2to4 pruned50_int8; do
    echo "$dir/${name}_$v.onnx"
  done
}

echo "== variants of the trained digits model: optimized, INT8 dynamic/static, FP16, INT4, pruned"
variants digits_cnn models/fixtures/digits_cnn.onnx models/fixtures/digits_calib_inputs.npy
echo "== static INT8 with mixed precision (accuracy budget 0.5 points): per-layer SQNR and decisions"
"$edgeperf" quantize models/fixtures/digits_cnn.onnx -o "$out/variants/digits_cnn_int8_mixed.onnx" \
  --mode static --per-channel --calib models/fixtures/digits_calib_inputs.npy \
  --accuracy-budget 0.5 --data models/fixtures/digits_eval --report "$out/digits_cnn_quant_report.json"
mapfile -t digits_variants < <(variant_files digits_cnn models/fixtures/digits_cnn.onnx)
"$edgeperf" bench "${digits_variants[@]}" --threads 1 --runs 300 --warmup 30 \
  --data models/fixtures/digits_eval \
  --json "$out/digits_variants.json" --md "$out/digits_variants.md" --html "$out/digits_variants.html"

echo "== variants of MobileNetV2 (calibrated on 16 seeded random images: its weights are random too)"
/usr/bin/python3 -c "import numpy as np; np.save('$out/mobilenet_v2_calib.npy', np.random.default_rng(1).uniform(-1, 1, (16, 3, 224, 224)).astype(np.float32))"
variants mobilenet_v2 "$out/mobilenet_v2.onnx" "$out/mobilenet_v2_calib.npy"
mapfile -t mnv2_variants < <(variant_files mobilenet_v2 "$out/mobilenet_v2.onnx")
# The variants take turns (--interleave): in each of ten rounds every variant, at 1 and at
# 2 threads, runs in a process of its own, all twenty alive at once, one running at a time
# for about 50 ms of timed queries. This machine's speed drifts over seconds, enough that
# with twenty rounds of one process after another, variants running the very same plan as
# the float model read up to 1.07x its p50 at 2 threads (the twenty processes of a round
# took half a minute). Taking turns puts the variants in the same slow and fast stretches
# while they run; those that take about as long as the float model finish with it.
# The rounds still count: one process can be a few percent faster than the next.
# Thread i of every variant runs on the i-th CPU this script may use: a VM's vCPUs can run at
# different speeds (one measured 30% slower than the other), and a variant's ratio to the
# float model must not depend on which vCPU its processes landed on.
mapfile -t cpus < <(/usr/bin/python3 -c 'import os; print(*sorted(os.sched_getaffinity(0))[:2], sep="\n")')
pin=()
if [ "${#cpus[@]}" -ge 2 ]; then pin=(--pin-cores "${cpus[0]},${cpus[1]}"); fi
"$edgeperf" bench "${mnv2_variants[@]}" --threads 1,2 --runs 1000 --rounds 10 --max-secs 20 \
  --warmup 10 --interleave "${pin[@]}" \
  --reference "$out/mobilenet_v2.onnx" \
  --json "$out/mobilenet_v2_variants.json" --md "$out/mobilenet_v2_variants.md" \
  --html "$out/mobilenet_v2_variants.html"

echo "== ablation on the trained digits model: quantize, prune, fuse in both orders"
"$edgeperf" ablate models/fixtures/digits_cnn.onnx --steps quantize,prune,fuse \
  --data models/fixtures/digits_eval --calib models/fixtures/digits_calib_inputs.npy \
  --work-dir "$out/ablation" --json "$out/ablation.json" --md "$out/ablation.md"

echo "== reports written to $out/: report.*, digits_report.*, digits_variants.*, mobilenet_v2_variants.*, ablation.*"
