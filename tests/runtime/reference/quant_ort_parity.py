#!/usr/bin/python3
"""Parity of edgeperf's quantized reference kernels with ONNX Runtime 1.30 (npm).

quant_models_gen writes small QDQ / QOperator / dynamic / MatMulNBits models, their
seeded inputs and edgeperf's outputs; this script runs each model in ONNX Runtime
(bench/peers/ort_run.js) and compares every output:
  - integer (quantized) outputs: equal within 1 LSB, and all equal for the models
    where both sides compute the same float expression (EXACT_MODELS);
  - float outputs: max|edgeperf - ort| <= tolerance (1e-4 * max(1, max|ort|), or one
    quantization step for float outputs that come out of a DequantizeLinear).
Exits 77 (skip) only when node_modules/onnxruntime-node is not installed.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "e2e"))
from ort_parity import SKIP_RETURN_CODE, ParityError, cpu_has_vnni, run_checked  # noqa: E402

RELATIVE_TOLERANCE = 1e-4
# Float outputs that are dequantized codes: one quantization step apart at most.
QUANTIZED_FLOAT_STEP = {"qdq_conv": 0.01}
# Models whose integer outputs must match ORT exactly (no float accumulation order at play).
EXACT_MODELS = {"matmul_integer", "conv_integer", "dynamic_quantize", "dynamic_quantize_zeros",
                "quantize_per_axis"}


def read_manifest(work):
    models = []
    for line in (work / "manifest.txt").read_text().splitlines():
        fields = line.split()
        if fields:
            models.append((fields[0], fields[1:]))
    if not models:
        raise ParityError("quant_models_gen wrote an empty manifest")
    return models


def run_ort(node, ort_run, work, name, inputs):
    out_dir = work / f"{name}.ort"
    cmd = [node, str(ort_run), str(work / f"{name}.onnx"), "--output-dir", str(out_dir),
           "--threads", "1"]
    for input_name in inputs:
        cmd += ["--input", f"{input_name}={work / f'{name}.in' / f'{input_name}.npy'}"]
    run_checked(cmd, f"ort_run.js {name}")
    return out_dir


def compare_output(model, output, ours, theirs):
    """Returns a one-line summary; raises ParityError on a mismatch."""
    label = f"{model}/{output}"
    if ours.dtype != theirs.dtype or ours.shape != theirs.shape:
        raise ParityError(f"{label}: edgeperf {ours.dtype}{list(ours.shape)} vs "
                          f"ORT {theirs.dtype}{list(theirs.shape)}")
    if np.issubdtype(ours.dtype, np.integer):
        diff = np.abs(ours.astype(np.int64) - theirs.astype(np.int64))
        worst = int(diff.max()) if diff.size else 0
        exact = float((diff == 0).mean()) if diff.size else 1.0
        allowed = 0 if model in EXACT_MODELS else 1
        if worst > allowed:
            raise ParityError(f"{label}: max difference {worst} LSB (allowed {allowed}), "
                              f"{exact:.1%} exact")
        return f"{label}: {ours.dtype}, max diff {worst} LSB, {exact:.1%} exact"
    diff = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
    worst = float(diff.max()) if diff.size else 0.0
    scale = max(1.0, float(np.abs(theirs).max()) if theirs.size else 0.0)
    allowed = QUANTIZED_FLOAT_STEP.get(model, 0.0) * (1 + 1e-5) + RELATIVE_TOLERANCE * scale
    if not np.isfinite(ours).all() or worst > allowed:
        raise ParityError(f"{label}: max |edgeperf - ort| = {worst:.3g} > {allowed:.3g}")
    steps = f", {float((diff > 1e-6).mean()):.1%} one step apart" if model in QUANTIZED_FLOAT_STEP else ""
    return f"{label}: float, max diff {worst:.3g}{steps}"


def check_model(node, ort_run, work, name, inputs):
    ort_dir = run_ort(node, ort_run, work, name, inputs)
    ours_dir = work / f"{name}.edgeperf"
    ours_files = sorted(ours_dir.glob("*.npy"))
    if not ours_files:
        raise ParityError(f"{name}: edgeperf wrote no outputs")
    lines = []
    for ours_file in ours_files:
        theirs_file = ort_dir / ours_file.name
        if not theirs_file.exists():
            raise ParityError(f"{name}: ORT has no output '{ours_file.stem}'")
        lines.append(compare_output(name, ours_file.stem, np.load(ours_file), np.load(theirs_file)))
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gen", required=True, help="quant_models_gen executable")
    parser.add_argument("--node", default="node")
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    args = parser.parse_args()
    source = Path(args.source_dir)
    if not (source / "node_modules" / "onnxruntime-node").is_dir():
        print("skip: node_modules/onnxruntime-node is not installed (run scripts/setup.sh)")
        return SKIP_RETURN_CODE
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    failures = []
    try:
        gen = [args.gen, str(work)]
        if not cpu_has_vnni():
            print("note: no VNNI on this CPU; ONNX Runtime's u8 x s8 products saturate on "
                  "full-range weights, so the s8 weights are drawn from 7 bits")
            gen += ["--s8-weight-bits", "7"]
        run_checked(gen, "quant_models_gen")
        models = read_manifest(work)
    except ParityError as error:
        print(f"FAIL {error}")
        return 1
    ort_run = source / "bench" / "peers" / "ort_run.js"
    for name, inputs in models:
        try:
            for line in check_model(args.node, ort_run, work, name, inputs):
                print(f"ok   {line}")
        except ParityError as error:
            failures.append(str(error))
            print(f"FAIL {error}")
    print(f"{len(models) - len(failures)}/{len(models)} models agree with ONNX Runtime")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
