#!/usr/bin/python3
"""Interop of our QDQ output with ONNX Runtime 1.30.

Static INT8 (per-channel and per-tensor, QDQ and QOperator) of digits_cnn and
digits_mlp: ONNX Runtime must load and run the file, and its top-1 predictions must
agree with edgeperf's INT8 execution of the same file on >= 99% of the held-out set.
On x86 CPUs without VNNI, ONNX Runtime's u8 x s8 products saturate on full-range
weights, so there the models are quantized with --reduce-range (7-bit weights), as
ONNX Runtime's own quantizer advises for such CPUs.
Exits 77 (skip) only when node_modules/onnxruntime-node is absent.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ort_parity import cpu_has_vnni  # noqa: E402
from quant_e2e import SKIP_RETURN_CODE, parse_args, prepare, run  # noqa: E402

MIN_AGREEMENT = 0.99
VARIANTS = [
    ("qdq-per-channel", ["--per-channel"]),
    ("qdq-per-tensor", []),
    ("qoperator-per-channel", ["--per-channel", "--format", "qoperator"]),
]


def predictions(out_dir):
    return np.load(Path(out_dir) / "logits.npy").argmax(axis=1)


def main():
    args = parse_args(__doc__.splitlines()[0])
    prepared = prepare(args)
    if prepared is None:
        return SKIP_RETURN_CODE
    source, work, fixtures, models = prepared
    failures = 0
    reduce_range = [] if cpu_has_vnni() else ["--reduce-range"]
    if reduce_range:
        print("note: no VNNI on this CPU; quantizing with --reduce-range (7-bit weights)")
    for name, inputs in models.items():
        for variant, flags in VARIANTS:
            model = work / f"{name}_{variant}.onnx"
            run([args.edgeperf, "quantize", fixtures / f"{name}.onnx", "-o", model, "--mode",
                 "static", "--calib", fixtures / "digits_calib_inputs.npy", *flags, *reduce_range])
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
