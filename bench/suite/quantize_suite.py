#!/usr/bin/python3
"""Quantizes the suite's CNN classifiers for the INT8 suite benchmark of "Speed that
generalizes": `edgeperf quantize --mode static --per-channel` on 16 seeded random images,
one file per architecture (its opset-13 export, resnet18 from opset 8), into OUT with a
manifest.json that bench/peers/suite_vs_ort.py reads (--suite OUT).

  quantize_suite.py --suite DIR --out OUT [--edgeperf build/edgeperf]
  suite_vs_ort.py --suite OUT --target-geomean 0.70
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

CNNS = ["mobilenet_v3_small_op13", "mobilenet_v3_large_op13", "efficientnet_b0_op13",
        "shufflenet_v2_x1_0_op13", "squeezenet1_1_op13", "mnasnet1_0_op13",
        "regnet_y_400mf_op13", "densenet121_op13", "googlenet_op13", "convnext_tiny_op13",
        "resnet50_op13", "resnet18_op8"]
REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench" / "peers"))
from speed_vs_ort import write_atomic  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--edgeperf", default=str(REPO / "build" / "edgeperf"))
    args = parser.parse_args()
    try:
        manifest = {e["id"]: e for e in json.loads((args.suite / "manifest.json").read_text())}
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.exit(f"quantize_suite: {args.suite}/manifest.json: {e} (run bench/suite/build_suite.py)")
    missing = [m for m in CNNS if m not in manifest]
    if missing:
        sys.exit(f"quantize_suite: not in {args.suite}/manifest.json: {', '.join(missing)}")
    args.out.mkdir(parents=True, exist_ok=True)
    calib = args.out / "calib.npy"
    rng = np.random.default_rng(0)
    np.save(calib, rng.random((16, 3, 224, 224), dtype=np.float32))
    entries = []
    for model_id in CNNS:
        entry = dict(manifest[model_id])
        target = args.out / f"{model_id}_int8.onnx"
        if not target.exists():
            cmd = [args.edgeperf, "quantize", str(args.suite / entry["file"]), "-o", str(target),
                   "--mode", "static", "--per-channel", "--calib", str(calib), "--no-speed-check"]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                sys.exit(f"quantize_suite: {' '.join(cmd)} failed: {proc.stderr.strip()[-400:]}")
        entry["id"], entry["file"] = f"{model_id}_int8", target.name
        entries.append(entry)
        print(f"quantized {model_id}", flush=True)
    write_atomic(args.out / "manifest.json", json.dumps(entries, indent=1) + "\n")


if __name__ == "__main__":
    main()
