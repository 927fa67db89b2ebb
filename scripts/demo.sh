#!/usr/bin/env bash
# The main job (first version): build the zoo MobileNetV2, inspect it, run it on
# both backends with the same seeded input, check that they agree, print latency.
set -euo pipefail
build=${1:-build}
edgeperf="$build/edgeperf"
out=out/demo
mkdir -p "$out"

echo "== building the zoo MobileNetV2"
"$edgeperf" zoo mobilenet_v2 -o "$out/mobilenet_v2.onnx"

echo "== inspect"
"$edgeperf" inspect "$out/mobilenet_v2.onnx"

for backend in reference onednn; do
  echo "== run on $backend"
  repeat=50; [ "$backend" = reference ] && repeat=3
  "$edgeperf" run "$out/mobilenet_v2.onnx" --backend "$backend" --seed 1 \
    --output-dir "$out/$backend" --repeat "$repeat" --warmup 3
done

echo "== backends agree?"
/usr/bin/python3 scripts/compare_outputs.py "$out/reference" "$out/onednn"
