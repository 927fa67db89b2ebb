#!/usr/bin/env bash
# The CI subset of the model suite: 9 models, one per family and opset band (old
# opsets, 11-17, relabelled 18-21, Constant-node weights, NHWC input, dynamic H/W,
# detection with If, NonZero, TopK and NMS),
# built with Debian's torch and compared with ONNX Runtime. `make suite-parity` runs
# the whole suite.
# Usage: suite_parity_ci.sh EDGEPERF SOURCE_DIR WORK_DIR
set -euo pipefail
edgeperf=$1 source_dir=$2 work=$3
mkdir -p "$work"
/usr/bin/python3 "$source_dir/bench/suite/build_suite.py" --out "$work" --set ci
exec /usr/bin/python3 "$source_dir/bench/suite/parity.py" --suite "$work" --edgeperf "$edgeperf" \
  --skip-sources --json "$work/parity.json"
