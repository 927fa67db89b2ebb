#!/usr/bin/python3
"""Accuracy and size of `edgeperf quantize` on the trained fixtures.

For digits_cnn and digits_mlp: quantize static INT8 (per-channel, QDQ), dynamic INT8,
FP16 and INT4 weight-only (calibration: models/fixtures/digits_calib_inputs.npy, the
training split), then measure top-1 on the held-out set (digits_eval) with edgeperf
and with ONNX Runtime (bench/peers/ort_run.js), and the file sizes. Required:
accuracy drop vs FP32 <= 0.5 points (static), 1 (dynamic), 0.1 (FP16) on both runtimes;
sizes <= 0.27x (INT8), 0.16x (INT4 in groups of 64), 0.51x (FP16) of FP32 on digits_cnn. digits_mlp is
so small that protobuf overhead dominates: its sizes are printed, not required.
Exits 77 (skip) only when node_modules/onnxruntime-node is absent.
"""

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quant_e2e import SKIP_RETURN_CODE, parse_args, prepare, run  # noqa: E402

VARIANTS = [  # name, quantize flags, max accuracy drop (points), max size ratio
    ("static-int8", ["--mode", "static", "--per-channel"], 0.5, 0.27),
    ("dynamic-int8", ["--mode", "dynamic", "--per-channel"], 1.0, 0.27),
    ("fp16", ["--mode", "fp16"], 0.1, 0.51),
    # Default groups of 64. At 32, MatMulNBits' f32 scales alone cost 1/32 of the FP32
    # size, so that one is only reported.
    ("int4", ["--mode", "int4-weight"], None, 0.16),
    ("int4-g32", ["--mode", "int4-weight", "--int4-group", "32"], None, None),
]
SIZE_REQUIRED = {"digits_cnn"}


def top1(logits_file, labels):
    logits = np.load(logits_file)
    return 100.0 * float((logits.argmax(axis=1) == labels).mean()), logits.argmax(axis=1)


def edgeperf_accuracy(args, model, inputs, labels, out_dir):
    run([args.edgeperf, "run", model, "--input", f"input={inputs}", "--output-dir", out_dir,
         "--threads", "1"])
    return top1(Path(out_dir) / "logits.npy", labels)


def ort_accuracy(args, model, inputs, labels, out_dir):
    run([args.node, Path(args.source_dir) / "bench/peers/ort_run.js", model, "--input",
         f"input={inputs}", "--output-dir", out_dir, "--threads", "1"])
    return top1(Path(out_dir) / "logits.npy", labels)


def ort_can_run(model):
    return b"DequantizeInt4" not in Path(model).read_bytes()  # our own op: ours only


def check_mixed_precision(args, fixtures, calib, work):
    """The CLI's mixed-precision path: one decision per quantized layer, the result within
    the budget on the held-out set, and the SQNR table in the report."""
    report = work / "mixed.json"
    run([args.edgeperf, "quantize", fixtures / "digits_cnn.onnx", "-o", work / "mixed.onnx",
         "--mode", "static", "--calib", calib, "--accuracy-budget", "0.5", "--data",
         fixtures / "digits_eval", "--report", report])
    data = json.loads(report.read_text())
    mixed = data["mixed_precision"]
    problems = []
    if len(mixed["decisions"]) != 4:
        problems.append(f"mixed precision: {len(mixed['decisions'])} decisions for 4 layers")
    if mixed["float_accuracy"] - mixed["quantized_accuracy"] > 0.5 + 1e-9:
        problems.append(f"mixed precision: drop {mixed['float_accuracy'] - mixed['quantized_accuracy']}")
    if any(layer["sqnr_db"] is None for layer in data["layers"] if layer["precision"] == "int8"):
        problems.append("mixed precision: a quantized layer has no SQNR in the report")
    kept = [d["node"] for d in mixed["decisions"] if d["kept_float"]]
    print(f"mixed precision (budget 0.5): float {mixed['float_accuracy']:.2f}%, quantized "
          f"{mixed['quantized_accuracy']:.2f}%, kept float: {kept or 'none'}")
    return problems


def main():
    args = parse_args(__doc__.splitlines()[0])
    prepared = prepare(args)
    if prepared is None:
        return SKIP_RETURN_CODE
    source, work, fixtures, models = prepared
    labels = np.load(fixtures / "digits_eval_labels.npy")
    calib = fixtures / "digits_calib_inputs.npy"

    failures, results = [], []
    for name, inputs in models.items():
        fp32 = fixtures / f"{name}.onnx"
        base_ep, base_pred = edgeperf_accuracy(args, fp32, inputs, labels, work / f"{name}_fp32_ep")
        base_ort, _ = ort_accuracy(args, fp32, inputs, labels, work / f"{name}_fp32_ort")
        print(f"{name} fp32: edgeperf {base_ep:.2f}%, ORT {base_ort:.2f}%, "
              f"{fp32.stat().st_size} bytes")
        for variant, flags, max_drop, max_ratio in VARIANTS:
            out = work / f"{name}_{variant}.onnx"
            report = work / f"{name}_{variant}.json"
            run([args.edgeperf, "quantize", fp32, "-o", out, *flags, "--calib", calib,
                 "--report", report])
            ratio = out.stat().st_size / fp32.stat().st_size
            acc_ep, _ = edgeperf_accuracy(args, out, inputs, labels, work / f"{name}_{variant}_ep")
            acc_ort = None
            if ort_can_run(out):
                acc_ort, _ = ort_accuracy(args, out, inputs, labels, work / f"{name}_{variant}_ort")
            layers = json.loads(report.read_text())["layers"]
            sqnr = ", ".join(f"{l['node']} {l['sqnr_db']:.1f}" if l["sqnr_db"] is not None
                             else f"{l['node']} -" for l in layers)
            ort_text = f"{acc_ort:.2f}%" if acc_ort is not None else "n/a (edgeperf ops)"
            print(f"  {variant:13s} size {out.stat().st_size:7d} B ({ratio:.3f}x)  "
                  f"edgeperf {acc_ep:.2f}% (drop {base_ep - acc_ep:+.2f})  ORT {ort_text}  "
                  f"SQNR dB: {sqnr}")
            results.append({"model": name, "variant": variant, "bytes": out.stat().st_size,
                            "ratio": ratio, "edgeperf_top1": acc_ep, "ort_top1": acc_ort,
                            "fp32_top1": base_ep})
            if max_drop is not None and base_ep - acc_ep > max_drop + 1e-9:
                failures.append(f"{name} {variant}: edgeperf drops {base_ep - acc_ep:.2f} points")
            if max_drop is not None and acc_ort is not None and base_ort - acc_ort > max_drop + 1e-9:
                failures.append(f"{name} {variant}: ORT drops {base_ort - acc_ort:.2f} points")
            if max_ratio is not None and ratio > max_ratio:
                message = f"{name} {variant}: size {ratio:.3f}x > {max_ratio}x"
                if name in SIZE_REQUIRED:
                    failures.append(message)
                else:
                    print(f"  note: {message} (not required: protobuf overhead on a tiny model)")
    failures += check_mixed_precision(args, fixtures, calib, work)
    (work / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    for failure in failures:
        print(f"FAIL: {failure}")
    print("quant_accuracy: all passed" if not failures else f"quant_accuracy: {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
