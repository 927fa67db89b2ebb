#!/usr/bin/python3
"""`edgeperf prune` end to end.

- Bad input: sparsity outside [0, 1), an unknown --exclude node, a model with no prunable
  layer, 2:4 with another sparsity: one-line error, non-zero exit, no output file.
- digits_cnn 50% magnitude with --sensitivity: the report JSON carries the scan's table; in
  every format the file runs in edgeperf, and onnx-sparse / dense also in ONNX Runtime, with
  held-out accuracy within 1 point of the dense model.
- 2:4 on digits_cnn: mask reported valid; a layer whose reduction axis is not a multiple of 4
  is skipped and said so.
- ResNet-18 from the zoo at 80%: the compressed file is <= 0.35x the dense file.
- ablate quantize,prune,fuse on digits_cnn: both orders, every stage measured, with deltas.
Exits 77 (skip) only when node or node_modules/onnxruntime-node is missing.
"""

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
import onnx_wire  # noqa: E402

SKIP = 77
TIMEOUT_S = 300


class CheckError(Exception):
    pass


def run(cmd, expect_ok=True):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=TIMEOUT_S)
    if expect_ok and proc.returncode != 0:
        raise CheckError(f"{' '.join(map(str, cmd))}: exit {proc.returncode}: {proc.stderr.strip()}")
    return proc


def expect_error(edgeperf, args, needle, out):
    out.unlink(missing_ok=True)
    proc = run([edgeperf, "prune", *args, "-o", out], expect_ok=False)
    lines = proc.stderr.strip().splitlines()
    if proc.returncode == 0:
        raise CheckError(f"prune {args} succeeded; expected an error with '{needle}'")
    if len(lines) != 1 or needle not in lines[0]:
        raise CheckError(f"prune {args}: expected one line with '{needle}', got {proc.stderr!r}")
    if out.exists():
        raise CheckError(f"prune {args} failed but left {out}")
    print(f"ok   bad input {args[1:]}: {lines[0]}")


def relu_only_model(path):
    graph = onnx_wire.graph([onnx_wire.node("Relu", ["x"], ["y"], name="relu")],
                            [onnx_wire.value_info("x", 1, [1, 4])],
                            [onnx_wire.value_info("y", 1, [1, 4])])
    path.write_bytes(onnx_wire.model(graph, opset=13))


def check_bad_input(edgeperf, fixtures, work):
    model = fixtures / "digits_cnn.onnx"
    out = work / "bad.onnx"
    expect_error(edgeperf, [model, "--sparsity", "1.0"], "outside [0, 1)", out)
    expect_error(edgeperf, [model, "--sparsity", "-0.1"], "outside [0, 1)", out)
    expect_error(edgeperf, [model, "--sparsity", "abc"], "not a number", out)
    expect_error(edgeperf, [model, "--sparsity", "0.5", "--exclude", "nosuch"],
                 "no node named 'nosuch'", out)
    expect_error(edgeperf, [model, "--method", "2:4", "--sparsity", "0.3"], "not 0.5", out)
    expect_error(edgeperf, [model, "--sparsity", "0.5", "--format", "zip"], "unknown storage", out)
    relu = work / "relu_only.onnx"
    relu_only_model(relu)
    expect_error(edgeperf, [relu, "--sparsity", "0.5"], "no prunable layer", out)


def edgeperf_logits(edgeperf, model, inputs, work):
    out_dir = work / f"{model.stem}_edgeperf"
    shutil.rmtree(out_dir, ignore_errors=True)
    run([edgeperf, "run", model, "--input", f"input={inputs}", "--output-dir", out_dir])
    return np.load(out_dir / "logits.npy")


def ort_logits(node, ort_run, model, inputs, work):
    out_dir = work / f"{model.stem}_ort"
    shutil.rmtree(out_dir, ignore_errors=True)
    run([node, ort_run, model, "--input", f"input={inputs}", "--output-dir", out_dir])
    return np.load(out_dir / "logits.npy")


def accuracy(logits, labels):
    return float(np.mean(np.argmax(logits, axis=1) == labels))


def check_digits(ctx, fixtures, work):
    dense = fixtures / "digits_cnn.onnx"
    inputs = fixtures / "digits_eval_inputs.npy"
    labels = np.load(fixtures / "digits_eval_labels.npy")
    dense_top1 = accuracy(edgeperf_logits(ctx.edgeperf, dense, inputs, work), labels)
    results = {}
    for fmt in ["compressed", "onnx-sparse", "dense"]:
        out = work / f"digits50_{fmt}.onnx"
        report = work / f"digits50_{fmt}.json"
        args = [ctx.edgeperf, "prune", dense, "-o", out, "--sparsity", "0.5", "--format", fmt,
                "--report", report]
        if fmt == "compressed":
            args += ["--sensitivity", fixtures / "digits_eval"]
        run(args)
        data = json.loads(report.read_text())
        if abs(data["sparsity_achieved"]["pruned_layers"] - 0.5) > 1e-3:
            raise CheckError(f"{fmt}: sparsity achieved {data['sparsity_achieved']}")
        top1 = accuracy(edgeperf_logits(ctx.edgeperf, out, inputs, work), labels)
        results[fmt] = (top1, data)
        print(f"ok   digits_cnn 50% {fmt}: {data['sizes']['output_bytes']} bytes "
              f"({data['sizes']['output_vs_dense']:.3f}x), edgeperf top1 {top1:.4f} "
              f"(dense {dense_top1:.4f})")
        if top1 < dense_top1 - 0.01:
            raise CheckError(f"{fmt}: accuracy {top1:.4f} lost more than 1 point vs {dense_top1:.4f}")
        if fmt != "compressed" and ctx.ort_run:
            ort = ort_logits(ctx.node, ctx.ort_run, out, inputs, work)
            ours = edgeperf_logits(ctx.edgeperf, out, inputs, work)
            diff = float(np.max(np.abs(ort - ours)))
            if diff > 1e-4 * max(1.0, float(np.max(np.abs(ort)))):
                raise CheckError(f"{fmt}: ORT and edgeperf differ by {diff}")
            print(f"ok   ORT runs digits_cnn 50% {fmt}: top1 {accuracy(ort, labels):.4f}, "
                  f"max|ORT - edgeperf| {diff:.2e}")
    check_onnx_sparse_in_ort(ctx, dense, inputs, work)
    scan = results["compressed"][1].get("sensitivity")
    if not scan or len(scan["rows"]) < 2 or len(scan["levels"]) != 5:
        raise CheckError(f"the report has no sensitivity table: {scan}")
    if any(len(row["metric"]) != 5 for row in scan["rows"]):
        raise CheckError("sensitivity rows must have one result per level")
    print(f"ok   sensitivity table in the report: {len(scan['rows'])} layers x {scan['levels']}")


def check_onnx_sparse_in_ort(ctx, dense, inputs, work):
    """At 80% the weights are stored as real sparse_initializers; ORT must read them."""
    out, report = work / "digits80_onnx_sparse.onnx", work / "digits80_onnx_sparse.json"
    run([ctx.edgeperf, "prune", dense, "-o", out, "--sparsity", "0.8", "--format", "onnx-sparse",
         "--report", report])
    sizes = json.loads(report.read_text())["sizes"]
    if sizes["output_vs_dense"] >= 1.0:
        raise CheckError(f"onnx-sparse at 80% did not shrink the file: {sizes}")
    ort = ort_logits(ctx.node, ctx.ort_run, out, inputs, work)
    ours = edgeperf_logits(ctx.edgeperf, out, inputs, work)
    diff = float(np.max(np.abs(ort - ours)))
    if diff > 1e-4 * max(1.0, float(np.max(np.abs(ort)))):
        raise CheckError(f"onnx-sparse 80%: ORT and edgeperf differ by {diff}")
    print(f"ok   ORT runs digits_cnn 80% onnx-sparse ({sizes['output_vs_dense']:.3f}x): "
          f"max|ORT - edgeperf| {diff:.2e}")


def check_two_four(ctx, fixtures, work):
    out, report = work / "digits_24.onnx", work / "digits_24.json"
    proc = run([ctx.edgeperf, "prune", fixtures / "digits_cnn.onnx", "-o", out, "--method", "2:4",
                "--prune-all", "--report", report])
    if "not a multiple" not in proc.stdout and "divisible by 4" not in proc.stdout:
        raise CheckError(f"2:4 did not say it skipped the 1-channel first conv:\n{proc.stdout}")
    data = json.loads(report.read_text())
    if not data.get("two_four", {}).get("valid"):
        raise CheckError(f"2:4 mask not reported valid: {data.get('two_four')}")
    run([ctx.edgeperf, "run", out, "--input",
         f"input={fixtures / 'digits_eval_inputs.npy'}", "--output-dir", work / "digits_24_run"])
    print(f"ok   2:4: mask valid on {data['two_four']['layers']} layers")


def check_resnet_size(ctx, work):
    dense, out, report = work / "resnet18.onnx", work / "resnet18_80.onnx", work / "resnet18.json"
    run([ctx.edgeperf, "zoo", "resnet18", "-o", dense])
    run([ctx.edgeperf, "prune", dense, "-o", out, "--sparsity", "0.8", "--report", report])
    ratio = out.stat().st_size / dense.stat().st_size
    print(f"ok   resnet18 80%: {dense.stat().st_size} -> {out.stat().st_size} bytes ({ratio:.3f}x)")
    if ratio > 0.35:
        raise CheckError(f"resnet18 at 80% is {ratio:.3f}x the dense file, above 0.35x")


def check_ablate(ctx, fixtures, work):
    """Both orders, every stage measured, deltas present; a bad step is one line."""
    model = fixtures / "digits_cnn.onnx"
    proc = run([ctx.edgeperf, "ablate", model, "--steps", "quantize,shrink", "--data",
                fixtures / "digits_eval"], expect_ok=False)
    if proc.returncode == 0 or "unknown step 'shrink'" not in proc.stderr:
        raise CheckError(f"ablate accepted an unknown step: {proc.stderr!r}")
    report, md = work / "ablate.json", work / "ablate.md"
    run([ctx.edgeperf, "ablate", model, "--steps", "quantize,prune,fuse", "--data",
         fixtures / "digits_eval", "--calib", fixtures / "digits_calib_inputs.npy", "--runs", "20",
         "--threads", "1", "--work-dir", work / "ablate", "--json", report, "--md", md])
    data = json.loads(report.read_text())
    orders = [o["order"] for o in data["orders"]]
    if orders != [["quantize", "prune", "fuse"], ["fuse", "prune", "quantize"]]:
        raise CheckError(f"ablate orders {orders}")
    for order in data["orders"]:
        if len(order["stages"]) != 4 or any("delta" not in s for s in order["stages"][1:]):
            raise CheckError(f"ablate order {order['order']}: stages or deltas missing")
        for stage in order["stages"]:
            if not (stage["latency_p50_ms"] > 0 and stage["file_bytes"] > 0 and 0 < stage["top1"] <= 1):
                raise CheckError(f"ablate stage not measured: {stage}")
    if "order_difference" not in data or "Order: fuse -> prune -> quantize" not in md.read_text():
        raise CheckError("ablate report lacks the order comparison")
    totals = [(o["total"]["top1_points"], o["total"]["file_ratio"]) for o in data["orders"]]
    print(f"ok   ablate: both orders measured; totals (top1 points, file ratio) {totals}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--node", default="node")
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    args = parser.parse_args()
    source = Path(args.source_dir)
    work = Path(args.work_dir)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    have_ort = (source / "node_modules" / "onnxruntime-node").is_dir() and shutil.which(args.node)
    if not have_ort:
        print("skip: node or node_modules/onnxruntime-node missing (run scripts/setup.sh)")
        return SKIP
    ctx = argparse.Namespace(edgeperf=args.edgeperf, node=args.node,
                             ort_run=source / "bench" / "peers" / "ort_run.js")
    fixtures = source / "models" / "fixtures"
    try:
        check_bad_input(args.edgeperf, fixtures, work)
        check_digits(ctx, fixtures, work)
        check_two_four(ctx, fixtures, work)
        check_resnet_size(ctx, work)
        check_ablate(ctx, fixtures, work)
    except (CheckError, subprocess.TimeoutExpired, OSError, ValueError, KeyError) as e:
        print(f"FAIL {e}")
        return 1
    print("all prune checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
