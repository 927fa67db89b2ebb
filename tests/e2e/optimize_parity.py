#!/usr/bin/python3
"""`edgeperf optimize` keeps every output: ORT(original) vs ORT(optimized) vs edgeperf(optimized).

For every zoo model, the digits fixture and a synthetic model that exercises every pass
(shape-chain folding, Identity/Dropout, BN into plain/depthwise Conv and Gemm, Conv+Add+Relu,
each ORT-supported activation on Conv and Gemm): run `edgeperf optimize`, then ONNX Runtime on
the original and on the optimized file (so ORT loads our com.microsoft FusedConv/FusedGemm),
and edgeperf (reference and oneDNN) on the optimized file, all on the same .npy inputs.
Every output must satisfy max|x - ort(original)| <= 1e-4 * max(1, max|ort(original)|).
Also checks bad input: an unknown pass (exit 2) and a missing model (exit 1), one line each.
Exits 77 (skip) only when node_modules/onnxruntime-node is not installed.
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import onnx_wire as w  # noqa: E402
from ort_parity import (ParityError, Table, check_zoo, compare_dirs, fixture_inputs,  # noqa: E402
                        make_random_inputs, ort_installed, run_checked, run_edgeperf, run_ort)

ZOO_MODELS = ["mobilenet_v2", "resnet18", "ds_cnn", "fc_autoencoder"]
BACKENDS = ["reference", "onednn"]
SKIP_RETURN_CODE = 77
# Ops the default passes must leave nowhere in these models.
GONE_AFTER_OPTIMIZE = {"BatchNormalization", "Identity", "Dropout", "Shape", "Gather", "Unsqueeze",
                       "Concat"}


def f32(name, array):
    array = np.asarray(array, dtype=np.float32)
    return w.tensor(name, w.FLOAT, list(array.shape), array.tobytes())


def i64(name, values, dims=None):
    array = np.asarray(values, dtype=np.int64)
    return w.tensor(name, w.INT64, list(array.shape) if dims is None else dims, array.tobytes())


def bn_initializers(prefix, channels, rng):
    return [f32(f"{prefix}_scale", rng.uniform(0.5, 1.5, channels)),
            f32(f"{prefix}_shift", rng.standard_normal(channels)),
            f32(f"{prefix}_mean", rng.standard_normal(channels)),
            f32(f"{prefix}_var", rng.uniform(0.2, 2.0, channels))]


def bn_node(prefix, x, y):
    return w.node("BatchNormalization", [x] + [f"{prefix}_{p}" for p in
                                               ("scale", "shift", "mean", "var")], [y], name=prefix)


def synthetic_model(seed):
    """One model with a case for every pass; opset 13, static input [1, 3, 8, 8]."""
    rng = np.random.default_rng(seed)
    pads = w.attr_ints("pads", [1, 1, 1, 1])
    inits = [
        f32("W1", rng.standard_normal((4, 3, 3, 3)) * 0.3), f32("B1", rng.standard_normal(4)),
        f32("W2", rng.standard_normal((4, 4, 3, 3)) * 0.3),
        f32("W3", rng.standard_normal((4, 1, 3, 3)) * 0.3),
        f32("clip_lo", np.float32(0.0)), f32("clip_hi", np.float32(0.8)),
        i64("zero", 0, dims=[]), i64("axes0", [0]), i64("minus1", [-1]),
        f32("W4", rng.standard_normal((4, 4, 1, 1))), f32("W5", rng.standard_normal((4, 4, 1, 1))),
        f32("W6", rng.standard_normal((4, 4, 1, 1))), f32("B6", rng.standard_normal(4)),
        f32("G1", rng.standard_normal((10, 256)) * 0.1), f32("C1", rng.standard_normal(10)),
        f32("G2", rng.standard_normal((10, 6)) * 0.3),
        f32("G3", rng.standard_normal((6, 5)) * 0.3), f32("C3", rng.standard_normal(5)),
    ] + bn_initializers("bn1", 4, rng) + bn_initializers("bn3", 4, rng) + \
        bn_initializers("bn_fc", 6, rng)
    nodes = [
        w.node("Conv", ["x", "W1", "B1"], ["c1"], name="conv1", attributes=[pads]),
        bn_node("bn1", "c1", "b1"),
        w.node("LeakyRelu", ["b1"], ["a1"], name="leaky1", attributes=[w.attr_float("alpha", 0.1)]),
        w.node("Identity", ["a1"], ["a1_id"], name="identity"),
        w.node("Conv", ["a1_id", "W2"], ["c2"], name="conv2", attributes=[pads]),
        w.node("Add", ["c2", "a1_id"], ["s2"], name="residual_add"),
        w.node("Relu", ["s2"], ["a2"], name="relu2"),
        w.node("Conv", ["a2", "W3"], ["c3"], name="depthwise",
               attributes=[pads, w.attr_int("group", 4)]),
        bn_node("bn3", "c3", "b3"),
        w.node("Clip", ["b3", "clip_lo", "clip_hi"], ["a3"], name="clip3"),
        w.node("Conv", ["a3", "W4"], ["c4"], name="conv4"),
        w.node("HardSigmoid", ["c4"], ["a4"], name="conv_hardsigmoid",
               attributes=[w.attr_float("alpha", 0.25)]),
        w.node("Conv", ["a4", "W5"], ["c5"], name="conv5"),
        w.node("Tanh", ["c5"], ["a5"], name="conv_tanh"),
        w.node("Conv", ["a5", "W6", "B6"], ["c6"], name="conv6"),
        w.node("Sigmoid", ["c6"], ["a6"], name="conv_sigmoid"),
        w.node("Shape", ["a6"], ["shape"], name="shape"),
        w.node("Gather", ["shape", "zero"], ["batch"], name="gather", attributes=[w.attr_int("axis", 0)]),
        w.node("Unsqueeze", ["batch", "axes0"], ["batch1"], name="unsqueeze"),
        w.node("Concat", ["batch1", "minus1"], ["flat_shape"], name="concat",
               attributes=[w.attr_int("axis", 0)]),
        w.node("Reshape", ["a6", "flat_shape"], ["flat"], name="reshape"),
        w.node("Dropout", ["flat"], ["dropped"], name="dropout"),
        w.node("Gemm", ["dropped", "G1", "C1"], ["g1"], name="fc1", attributes=[w.attr_int("transB", 1)]),
        w.node("HardSigmoid", ["g1"], ["h1"], name="hardsigmoid",
               attributes=[w.attr_float("alpha", 0.3), w.attr_float("beta", 0.4)]),
        w.node("Gemm", ["h1", "G2"], ["g2"], name="fc2"),
        bn_node("bn_fc", "g2", "bg2"),
        w.node("Sigmoid", ["bg2"], ["s_fc"], name="sigmoid"),
        w.node("Gemm", ["s_fc", "G3", "C3"], ["g3"], name="fc3"),
        w.node("Tanh", ["g3"], ["y"], name="tanh"),
    ]
    graph = w.graph(nodes, [w.value_info("x", w.FLOAT, [1, 3, 8, 8])],
                    [w.value_info("y", w.FLOAT, [1, 5])], inits, name="synthetic")
    return w.model(graph, opset=13)


def op_types(model_bytes):
    """Op types of the model's graph nodes (field 7 graph, field 1 node, field 4 op_type)."""
    graph = next((v for f, _, v in w.fields(model_bytes) if f == 7), b"")
    ops = []
    for field, _, node in w.fields(graph):
        if field == 1:
            ops.append(next((v.decode() for f, _, v in w.fields(node) if f == 4), "?"))
    return ops


class Context:
    def __init__(self, args, source_dir):
        self.edgeperf = args.edgeperf
        self.node = args.node
        self.ort_run = source_dir / "bench" / "peers" / "ort_run.js"
        self.work = Path(args.work_dir).resolve()
        self.backends = args.backends.split(",")
        self.threads = args.threads


def optimize(ctx, model, out):
    proc = run_checked([ctx.edgeperf, "optimize", str(model), "-o", str(out)],
                       f"edgeperf optimize {model.name}")
    summary = [line for line in proc.stdout.splitlines() if line.startswith("nodes ")]
    return summary[0] if summary else "?"


def check_model(ctx, table, label, model, specs):
    work = ctx.work / label.replace(":", "_")
    work.mkdir(parents=True, exist_ok=True)
    optimized = work / "optimized.onnx"
    try:
        summary = optimize(ctx, model, optimized)
        print(f"{label}: {summary}", flush=True)
        left = GONE_AFTER_OPTIMIZE & set(op_types(optimized.read_bytes()))
        if left:
            raise ParityError(f"optimized model still has {', '.join(sorted(left))}")
        run_ort(ctx.node, ctx.ort_run, model, specs, work / "ort_original", threads=1)
    except ParityError as e:
        table.add(label, "optimize", "-", float("inf"), 0.0, str(e))
        return
    runs = [("ort(optimized)", lambda d: run_ort(ctx.node, ctx.ort_run, optimized, specs, d, 1))]
    for backend in ctx.backends:
        runs.append((f"edgeperf-{backend}(optimized)",
                     lambda d, b=backend: run_edgeperf(ctx.edgeperf, optimized, specs, d, b,
                                                       ctx.threads)))
    for name, run in runs:
        out_dir = work / name.replace("(", "_").replace(")", "")
        try:
            run(out_dir)
            for output, diff, tolerance, problem in compare_dirs(out_dir, work / "ort_original"):
                table.add(label, name, output, diff, tolerance, problem)
        except (ParityError, ValueError, OSError) as e:
            table.add(label, name, "-", float("inf"), 0.0, str(e))


def check_fixture(ctx, table, fixtures):
    model, inputs = fixtures / "digits_cnn.onnx", fixtures / "digits_eval_inputs.npy"
    if not model.exists() or not inputs.exists():
        table.add("fixture:digits_cnn", "-", "-", float("inf"), 0.0, f"missing files in {fixtures}")
        return
    check_model(ctx, table, "fixture:digits_cnn", model, fixture_inputs(model, inputs))


def check_synthetic(ctx, table, seed):
    model = ctx.work / "synthetic.onnx"
    model.write_bytes(synthetic_model(seed))
    (ctx.work / "synthetic").mkdir(parents=True, exist_ok=True)
    specs = make_random_inputs(model, ctx.work / "synthetic", seed)
    check_model(ctx, table, "synthetic", model, specs)


def expect_failure(ctx, table, label, args, exit_code, text, must_not_exist):
    proc = subprocess.run([ctx.edgeperf, "optimize", *args], capture_output=True, text=True,
                          timeout=60)
    lines = proc.stderr.strip().splitlines()
    problem = None
    if proc.returncode != exit_code:
        problem = f"exit {proc.returncode}, expected {exit_code}"
    elif len(lines) != 1 or text not in lines[0]:
        problem = f"stderr is not one line naming '{text}': {proc.stderr.strip()!r}"
    elif must_not_exist.exists():
        problem = f"{must_not_exist} was written"
    table.add(label, "bad-input", "-", 0.0 if problem is None else float("inf"), 0.0, problem)


def check_bad_input(ctx, table):
    model = ctx.work / "synthetic.onnx"
    out = ctx.work / "bad_input_out.onnx"
    expect_failure(ctx, table, "unknown-pass", [str(model), "-o", str(out), "--passes", "dce,nope"],
                   2, "unknown pass 'nope'", out)
    missing = ctx.work / "does_not_exist.onnx"
    expect_failure(ctx, table, "missing-model", [str(missing), "-o", str(out)], 1,
                   "does_not_exist.onnx", out)


def parse_args(argv):
    source_default = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edgeperf", required=True, help="path to the edgeperf binary")
    parser.add_argument("--source-dir", default=str(source_default))
    parser.add_argument("--work-dir", default="/tmp/edgeperf-optimize-parity")
    parser.add_argument("--node", default=shutil.which("node") or "node")
    parser.add_argument("--models", default=",".join(ZOO_MODELS),
                        help="comma-separated zoo models ('' for none)")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--threads", type=int, default=2, help="edgeperf threads")
    parser.add_argument("--seed", type=int, default=20261121)
    return parser.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    source_dir = Path(args.source_dir).resolve()
    if not ort_installed(source_dir):
        print("SKIPPED: node_modules/onnxruntime-node is not installed; run scripts/setup.sh",
              flush=True)
        return SKIP_RETURN_CODE
    ctx = Context(args, source_dir)
    shutil.rmtree(ctx.work, ignore_errors=True)
    ctx.work.mkdir(parents=True)
    table = Table()
    check_synthetic(ctx, table, args.seed)
    check_bad_input(ctx, table)
    check_zoo(ctx, table, [m for m in args.models.split(",") if m], args.seed,
              check=check_model)
    check_fixture(ctx, table, source_dir / "models" / "fixtures")
    table.print()
    if not table.rows or table.failed():
        print("optimize_parity: FAILED", flush=True)
        return 1
    print(f"optimize_parity: all {len(table.rows)} checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
