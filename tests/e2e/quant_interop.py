#!/usr/bin/python3
"""Interop of our QDQ output with ONNX Runtime 1.30.

Static INT8 (per-channel and per-tensor, QDQ and QOperator) of digits_cnn and
digits_mlp: ONNX Runtime must load and run the file, and its top-1 predictions must
agree with edgeperf's INT8 execution of the same file on >= 99% of the held-out set.
Exits 77 (skip) only when node_modules/onnxruntime-node is absent.
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

MIN_AGREEMENT = 0.99
TIMEOUT_S = 600
VARIANTS = [
    ("qdq-per-channel", ["--per-channel"]),
    ("qdq-per-tensor", []),
    ("qoperator-per-channel", ["--per-channel", "--format", "qoperator"]),
]


def run(cmd):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=TIMEOUT_S)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))}: exit {proc.returncode}: "
                           f"{proc.stderr.strip()[-600:]}")


def predictions(out_dir):
    return np.load(Path(out_dir) / "logits.npy").argmax(axis=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--node", default="node")
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    args = parser.parse_args()
    source, work = Path(args.source_dir), Path(args.work_dir).resolve()
    if not (source / "node_modules/onnxruntime-node").is_dir():
        print("SKIP: node_modules/onnxruntime-node is absent (run scripts/setup.sh)")
        return 77
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    fixtures = source / "models/fixtures"
    eval_inputs = np.load(fixtures / "digits_eval_inputs.npy")
    np.save(work / "mlp_eval_inputs.npy", eval_inputs.reshape(len(eval_inputs), 64))
    models = {"digits_cnn": fixtures / "digits_eval_inputs.npy",
              "digits_mlp": work / "mlp_eval_inputs.npy"}
    failures = 0
    for name, inputs in models.items():
        for variant, flags in VARIANTS:
            model = work / f"{name}_{variant}.onnx"
            run([args.edgeperf, "quantize", fixtures / f"{name}.onnx", "-o", model, "--mode",
                 "static", "--calib", fixtures / "digits_calib_inputs.npy", *flags])
            ours, theirs = work / f"{model.stem}_ep", work / f"{model.stem}_ort"
            run([args.edgeperf, "run", model, "--input", f"input={inputs}", "--output-dir", ours,
                 "--threads", "1"])
            run([args.node, source / "bench/peers/ort_run.js", model, "--input",
                 f"input={inputs}", "--output-dir", theirs, "--threads", "1"])
            agreement = float((predictions(ours) == predictions(theirs)).mean())
            ok = agreement >= MIN_AGREEMENT
            failures += not ok
            print(f"{name} {variant}: top-1 agreement edgeperf vs ORT {agreement * 100:.2f}% "
                  f"({'ok' if ok else 'FAIL'})")
    print("quant_interop: all passed" if not failures else f"quant_interop: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
