#!/usr/bin/env bash
# The main job: build the zoo MobileNetV2, inspect it, run it on both backends with the
# same seeded input and check that they agree, then benchmark the bundled models and
# write out/demo/report.{json,md,html,csv}.
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

echo "== reports written to $out/: report.{json,md,html,csv}, digits_report.{json,md,html}"
