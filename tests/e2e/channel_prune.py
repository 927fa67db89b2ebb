#!/usr/bin/python3
"""Structured channel pruning end to end: `edgeperf prune --method channel`.

For MobileNetV2 from the zoo (and ResNet-18, DS-CNN and the digits fixture), 30% channel
pruning must give a model that passes onnx::checker (edgeperf writes it through it), that
ONNX Runtime runs, whose outputs agree with edgeperf's within
    max|edgeperf - ort| <= 1e-4 * max(1, max|ort|),
and, for MobileNetV2, whose MACs (`edgeperf inspect --json`) drop by >= 25%.
Bad input (a ratio that removes every channel, an unknown --exclude node, a model with no
prunable layer) must exit non-zero with a one-line error.
Exits 77 (skip) only when node_modules/onnxruntime-node is not installed.
"""

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import onnx_wire  # noqa: E402
import ort_parity  # noqa: E402
from ort_parity import ParityError, run_checked  # noqa: E402

RATIO = 0.3
MIN_MAC_REDUCTION = 0.25
MAC_MODELS = {"mobilenet_v2"}
ZOO_MODELS = ["mobilenet_v2", "resnet18", "ds_cnn"]
SKIP_RETURN_CODE = 77


def prune(edgeperf, model, out, ratio=RATIO, extra=()):
    return [edgeperf, "prune", str(model), "-o", str(out), "--method", "channel",
            "--sparsity", str(ratio), *extra]


def macs(edgeperf, model):
    proc = run_checked([edgeperf, "inspect", str(model), "--json"], f"inspect {model.name}")
    return int(json.loads(proc.stdout)["macs"])


def check_pruned(ctx, table, label, model, specs, backend="onednn"):
    """Prunes `model`, checks MACs (MobileNetV2) and edgeperf-vs-ORT parity on the result."""
    work = ctx.work / label
    work.mkdir(parents=True, exist_ok=True)
    pruned = work / f"{label}_channel30.onnx"
    run_checked(prune(ctx.edgeperf, model, pruned), f"prune {label}")
    before, after = macs(ctx.edgeperf, model), macs(ctx.edgeperf, pruned)
    reduction = 1.0 - after / before
    problem = None
    if label in MAC_MODELS and reduction < MIN_MAC_REDUCTION:
        problem = f"MACs dropped by {reduction:.1%} < {MIN_MAC_REDUCTION:.0%}"
    elif reduction <= 0:
        problem = "MACs did not drop"
    table.add(label, "macs", f"{before} -> {after}", reduction, MIN_MAC_REDUCTION, problem)
    ort_dir = work / "ort"
    ort_parity.run_ort(ctx.node, ctx.ort_run, pruned, specs, ort_dir, threads=1)
    ours_dir = work / backend
    ort_parity.run_edgeperf(ctx.edgeperf, pruned, specs, ours_dir, backend, threads=2)
    for output, diff, tolerance, problem in ort_parity.compare_dirs(ours_dir, ort_dir):
        table.add(label, f"{backend} vs ort", output, diff, tolerance, problem)


def check_models(ctx, table):
    for name in ZOO_MODELS:
        model = ctx.work / f"{name}.onnx"
        try:
            run_checked([ctx.edgeperf, "zoo", name, "-o", str(model)], f"zoo {name}")
            (ctx.work / name).mkdir(parents=True, exist_ok=True)
            specs = ort_parity.make_random_inputs(model, ctx.work / name, ctx.seed)
            check_pruned(ctx, table, name, model, specs)
        except (ParityError, ValueError, OSError) as e:
            table.add(name, "-", "-", float("inf"), 0.0, str(e))
    fixtures = ctx.source_dir / "models" / "fixtures"
    model = fixtures / "digits_cnn.onnx"
    try:
        specs = ort_parity.fixture_inputs(model, fixtures / "digits_eval_inputs.npy")
        check_pruned(ctx, table, "fixture_digits_cnn", model, specs)
    except (ParityError, ValueError, OSError) as e:
        table.add("fixture_digits_cnn", "-", "-", float("inf"), 0.0, str(e))


def expect_failure(ctx, table, label, cmd, message):
    out = Path(cmd[cmd.index("-o") + 1])
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    lines = proc.stderr.strip().splitlines()
    problem = None
    if proc.returncode == 0:
        problem = "exit 0"
    elif len(lines) != 1 or message not in lines[0]:
        problem = f"stderr {proc.stderr.strip()!r} lacks {message!r} on one line"
    elif out.exists():
        problem = f"{out.name} was written"
    table.add("bad input", label, lines[-1][:60] if lines else "-", 0.0, 0.0, problem)


def check_bad_input(ctx, table):
    digits = ctx.source_dir / "models" / "fixtures" / "digits_cnn.onnx"
    out = ctx.work / "bad" / "out.onnx"
    out.parent.mkdir(parents=True, exist_ok=True)
    # 0.99 of 16 channels rounds to 16: every channel of conv1 would go.
    expect_failure(ctx, table, "ratio removes all", prune(ctx.edgeperf, digits, out, 0.99),
                   "would remove all")
    expect_failure(ctx, table, "unknown exclude",
                   prune(ctx.edgeperf, digits, out, extra=["--exclude", "no_such_node"]),
                   "no_such_node")
    classifier = ctx.work / "bad" / "classifier.onnx"
    graph = onnx_wire.graph(
        [onnx_wire.node("Gemm", ["x", "w"], ["y"], "fc", [onnx_wire.attr_int("transB", 1)])],
        [onnx_wire.value_info("x", 1, [1, 4])], [onnx_wire.value_info("y", 1, [1, 2])],
        [onnx_wire.tensor("w", 1, [2, 4], bytes(32))])
    classifier.write_bytes(onnx_wire.model(graph, opset=13))
    expect_failure(ctx, table, "no prunable layer", prune(ctx.edgeperf, classifier, out),
                   "no prunable")


class Context:
    def __init__(self, args):
        self.edgeperf = args.edgeperf
        self.node = args.node
        self.source_dir = Path(args.source_dir).resolve()
        self.ort_run = self.source_dir / "bench" / "peers" / "ort_run.js"
        self.work = Path(args.work_dir).resolve()
        self.seed = args.seed


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edgeperf", required=True, help="path to the edgeperf binary")
    parser.add_argument("--source-dir", default=str(Path(__file__).resolve().parents[2]))
    parser.add_argument("--work-dir", default="/tmp/edgeperf-channel-prune")
    parser.add_argument("--node", default=shutil.which("node") or "node")
    parser.add_argument("--seed", type=int, default=20261121)
    return parser.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    ctx = Context(args)
    if not ort_parity.ort_installed(ctx.source_dir):
        print("SKIPPED: node_modules/onnxruntime-node is not installed; run scripts/setup.sh",
              flush=True)
        return SKIP_RETURN_CODE
    shutil.rmtree(ctx.work, ignore_errors=True)
    ctx.work.mkdir(parents=True)
    table = ort_parity.Table()
    check_models(ctx, table)
    check_bad_input(ctx, table)
    table.print()
    if table.failed():
        print("channel_prune: FAILED", flush=True)
        return 1
    print(f"channel_prune: all {len(table.rows)} checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
