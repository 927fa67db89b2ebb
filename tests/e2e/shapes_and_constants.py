#!/usr/bin/python3
"""Models as users bring them: open input dims and weights stored as Constant nodes.

- `inspect` on a model whose weights are Constant nodes (as Paddle2ONNX and tf2onnx
  write them) prints the same parameters, weight bytes and MACs as on the
  initializer version.
- `bench --shape x=1x3xHxW` measures at that size (input shapes and MACs in the JSON
  report); `bench` without it on a model with open H, W is a one-line error naming
  the input and its dims; `inspect` without it reports MACs as unavailable.
- `run --shape` runs at the given size; `bench --input` runs on the given file.
- Bad --shape values (zero or negative dim, contradicting a fixed dim, wrong rank,
  unknown input) are one-line errors with a non-zero exit and never a crash.
"""

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import onnx_wire as w  # noqa: E402

TIMEOUT_S = 120
CRASH_MARKERS = ("Sanitizer", "Segmentation", "runtime error:", "core dumped", "terminate called",
                 "Aborted")


def weights():
    rng = np.random.default_rng(3)
    return {"conv_w": rng.standard_normal((8, 3, 3, 3)).astype(np.float32),
            "conv_b": rng.standard_normal(8).astype(np.float32),
            "fc_w": rng.standard_normal((10, 8)).astype(np.float32),
            "fc_b": rng.standard_normal(10).astype(np.float32)}


def conv_classifier(input_dims, as_constants, opset=13):
    """x -> Conv3x3(pad 1) -> Relu -> GlobalAveragePool -> Flatten -> Gemm -> y[N, 10]."""
    tensors = [w.tensor(name, w.FLOAT, list(value.shape), value.tobytes())
               for name, value in weights().items()]
    nodes = [w.node("Conv", ["x", "conv_w", "conv_b"], ["c"], name="conv",
                    attributes=[w.attr_ints("kernel_shape", [3, 3]),
                                w.attr_ints("pads", [1, 1, 1, 1])]),
             w.node("Relu", ["c"], ["r"], name="relu"),
             w.node("GlobalAveragePool", ["r"], ["p"], name="pool"),
             w.node("Flatten", ["p"], ["f"], name="flatten"),
             w.node("Gemm", ["f", "fc_w", "fc_b"], ["y"], name="fc",
                    attributes=[w.attr_int("transB", 1)])]
    initializers = tensors
    if as_constants:
        constants = [w.node("Constant", [], [name], name=f"const_{name}",
                            attributes=[w.attr_tensor("value", tensor)])
                     for name, tensor in zip(weights(), tensors)]
        nodes, initializers = constants + nodes, []
    g = w.graph(nodes, [w.value_info("x", w.FLOAT, input_dims)],
                [w.value_info("y", w.FLOAT, [input_dims[0], 10])], initializers)
    return w.model(g, opset=opset)


class Runner:
    def __init__(self, edgeperf):
        self.edgeperf = edgeperf
        self.failures = []

    def run(self, args):
        proc = subprocess.run([self.edgeperf, *map(str, args)], capture_output=True, text=True,
                              timeout=TIMEOUT_S)
        crashed = any(marker in proc.stderr for marker in CRASH_MARKERS) or proc.returncode < 0
        if crashed:
            self.failures.append(f"{' '.join(map(str, args))}: crashed: {proc.stderr[-400:]}")
        return proc

    def check(self, condition, what):
        print(("ok    " if condition else "FAIL  ") + what)
        if not condition:
            self.failures.append(what)

    def expect_error(self, name, args, substring):
        proc = self.run(args)
        lines = proc.stderr.strip().splitlines()
        ok = (proc.returncode > 0 and len(lines) == 1 and lines[0].startswith("edgeperf: error:")
              and substring in lines[0])
        self.check(ok, f"{name}: one-line error containing {substring!r} "
                       f"(exit {proc.returncode}, stderr {proc.stderr.strip()!r})")


def inspect_json(runner, model, *extra):
    proc = runner.run(["inspect", model, "--json", *extra])
    runner.check(proc.returncode == 0, f"inspect {model.name} {' '.join(extra)} exits 0 "
                                       f"({proc.stderr.strip()})")
    return json.loads(proc.stdout) if proc.returncode == 0 else {}


def check_constant_weights(runner, work):
    with_initializers = work / "classifier_initializers.onnx"
    with_constants = work / "classifier_constants.onnx"
    with_initializers.write_bytes(conv_classifier([1, 3, 32, 32], as_constants=False))
    with_constants.write_bytes(conv_classifier([1, 3, 32, 32], as_constants=True))
    a, b = inspect_json(runner, with_initializers), inspect_json(runner, with_constants)
    expected_parameters = sum(v.size for v in weights().values())
    runner.check(a.get("parameters") == expected_parameters,
                 f"initializer model: {a.get('parameters')} parameters, expected {expected_parameters}")
    for key in ("parameters", "weight_bytes", "macs"):
        runner.check(a.get(key) is not None and a.get(key) == b.get(key),
                     f"inspect {key}: Constant-node weights {b.get(key)} == initializers {a.get(key)}")
    out_a, out_b = work / "out_init", work / "out_const"
    runner.run(["run", with_initializers, "--output-dir", out_a, "--backend", "auto"])
    runner.run(["run", with_constants, "--output-dir", out_b, "--backend", "auto"])
    same = (out_a / "y.npy").exists() and (out_b / "y.npy").exists() and np.array_equal(
        np.load(out_a / "y.npy"), np.load(out_b / "y.npy"))
    runner.check(same, "run: Constant-node weights give the same outputs as initializers")
    # These checks are about the written models, not their speed: the speed check (which
    # refuses a much slower result, and times ASan builds too) is skipped throughout.
    transforms = {"quantize": ["--mode", "dynamic", "--no-speed-check"],
                  "prune": ["--method", "magnitude", "--sparsity", "0.5", "--prune-all",
                            "--no-speed-check"]}
    for command, flags in transforms.items():
        outputs = []
        for model in (with_initializers, with_constants):
            out = work / f"{model.stem}_{command}.onnx"
            proc = runner.run([command, model, "-o", out, *flags])
            runner.check(proc.returncode == 0, f"{command} {model.name} exits 0 "
                                               f"({proc.stderr.strip()[-300:]})")
            outputs.append(inspect_json(runner, out) if out.exists() else {})
        same = all(outputs[0].get(k) == outputs[1].get(k) and outputs[0].get(k) is not None
                   for k in ("parameters", "weight_bytes", "op_histogram"))
        runner.check(same, f"{command}: Constant-node weights are transformed like initializers "
                           f"({[(o.get('weight_bytes'), o.get('op_histogram')) for o in outputs]})")


def check_quantized_macs(runner, work):
    """MACs count the same work whatever the weights' precision."""
    model = work / "classifier_initializers.onnx"
    calib = work / "calib.npy"
    np.save(calib, np.random.default_rng(5).standard_normal((8, 3, 32, 32)).astype(np.float32))
    float_macs = inspect_json(runner, model).get("macs")
    variants = {"dynamic": ["--mode", "dynamic", "--no-speed-check"],
                "static_qdq": ["--mode", "static", "--calib", calib, "--no-speed-check"],
                "static_qoperator": ["--mode", "static", "--calib", calib, "--format", "qoperator",
                                     "--no-speed-check"],
                "int4": ["--mode", "int4-weight", "--int4-group", "16", "--no-speed-check"]}
    for name, flags in variants.items():
        out = work / f"classifier_{name}.onnx"
        proc = runner.run(["quantize", model, "-o", out, *flags])
        runner.check(proc.returncode == 0, f"quantize {name} exits 0 ({proc.stderr.strip()[-300:]})")
        report = inspect_json(runner, out) if out.exists() else {}
        runner.check(report.get("macs") == float_macs and float_macs,
                     f"MACs of the {name} model {report.get('macs')} == float {float_macs} "
                     f"(ops {sorted(report.get('op_histogram', {}))})")


def check_old_opsets_quantize(runner, work):
    """Per-channel int8 needs DequantizeLinear's axis (opset 13): older models are converted."""
    calib = work / "calib_old.npy"
    np.save(calib, np.random.default_rng(6).standard_normal((8, 3, 32, 32)).astype(np.float32))
    for opset in (8, 11):
        model = work / f"classifier_op{opset}.onnx"
        model.write_bytes(conv_classifier([1, 3, 32, 32], False, opset=opset))
        out = work / f"classifier_op{opset}_int8.onnx"
        proc = runner.run(["quantize", model, "-o", out, "--mode", "static", "--per-channel",
                           "--calib", calib, "--no-speed-check"])
        runner.check(proc.returncode == 0 and f"[opset] {opset} -> 13" in proc.stdout,
                     f"quantize --per-channel of an opset-{opset} model converts it to opset 13 "
                     f"({proc.stderr.strip()[-200:]})")
        report = inspect_json(runner, out) if out.exists() else {}
        runner.check(report.get("opset") == 13 and "QuantizeLinear" in report.get("op_histogram", {}),
                     f"...and writes an opset-13 QDQ model ({report.get('opset')})")


def check_mobilenet_macs(runner, work):
    model = work / "mobilenet_v2.onnx"
    runner.run(["zoo", "mobilenet_v2", "-o", model])
    float_macs = inspect_json(runner, model).get("macs")
    # MACs, not speed: the speed check (which refuses a result 1.5x slower at every thread
    # count) is skipped, so a loaded machine cannot decide this test.
    for name, flags in {"dynamic": ["--mode", "dynamic", "--no-speed-check"],
                        "int4": ["--mode", "int4-weight", "--no-speed-check"]}.items():
        out = work / f"mobilenet_v2_{name}.onnx"
        proc = runner.run(["quantize", model, "-o", out, *flags])
        report = inspect_json(runner, out) if proc.returncode == 0 else {}
        runner.check(report.get("macs") == float_macs and float_macs,
                     f"MobileNetV2 {name}: MACs {report.get('macs')} == FP32 {float_macs}")


def check_open_dims(runner, work):
    dynamic = work / "classifier_open_hw.onnx"
    dynamic.write_bytes(conv_classifier(["N", 3, "H", "W"], as_constants=True))
    runner.expect_error("bench without --shape", ["bench", dynamic, "--runs", "2", "--warmup", "0"],
                        "input 'x' has unbound symbolic dims H, W")
    report = inspect_json(runner, dynamic)
    runner.check("H, W" in report.get("macs_unavailable", "") and "macs" not in report,
                 f"inspect without --shape: MACs unavailable ({report.get('macs_unavailable')})")

    macs = {}
    for size in (64, 128):
        report_path = work / f"bench_{size}.json"
        proc = runner.run(["bench", dynamic, "--shape", f"x=1x3x{size}x{size}", "--runs", "3",
                           "--warmup", "1", "--threads", "1", "--json", report_path])
        runner.check(proc.returncode == 0, f"bench --shape x=1x3x{size}x{size} exits 0 "
                                           f"({proc.stderr.strip()[-300:]})")
        if proc.returncode != 0:
            continue
        model = json.loads(report_path.read_text())["models"][0]
        runner.check(model["input_shapes"] == {"x": [1, 3, size, size]},
                     f"bench measured at {model['input_shapes']}, asked 1x3x{size}x{size}")
        macs[size] = model["macs"]
    if len(macs) == 2:
        ratio = macs[128] / macs[64]
        runner.check(3.9 < ratio < 4.1, f"MACs at 128x128 / 64x64 = {ratio:.3f} (expect ~4)")

    shaped = inspect_json(runner, dynamic, "--shape", "x=2x3x16x16")
    runner.check(shaped.get("macs", 0) > 0, f"inspect --shape gives MACs {shaped.get('macs')}")
    batch_only = work / "classifier_open_batch.onnx"
    batch_only.write_bytes(conv_classifier(["N", 3, 16, 16], as_constants=False))
    report = inspect_json(runner, batch_only)
    runner.check(report.get("shape_notes") == ["input 'x': batch dim 'N' set to 1"],
                 f"a lone batch dim defaults to 1 and says so ({report.get('shape_notes')})")

    calib = work / "calib_40.npy"
    np.save(calib, np.random.default_rng(6).standard_normal((4, 3, 40, 24)).astype(np.float32))
    runner.expect_error("quantize static without --shape", ["quantize", dynamic, "-o", work / "q.onnx",
                                                             "--mode", "static", "--calib", calib],
                        "has symbolic dims H, W after the batch dim")
    quantized = work / "classifier_open_hw_int8.onnx"
    proc = runner.run(["quantize", dynamic, "-o", quantized, "--mode", "static", "--calib", calib,
                       "--shape", "x=1x3x40x24", "--no-speed-check"])
    runner.check(proc.returncode == 0, f"quantize --shape x=1x3x40x24 exits 0 ({proc.stderr.strip()[-300:]})")
    proc = runner.run(["inspect", quantized])
    runner.check("x: f32[N, 3, H, W]" in proc.stdout, "the quantized model keeps its symbolic dims")

    out_dir = work / "run_shaped"
    proc = runner.run(["run", dynamic, "--shape", "x=1x3x40x24", "--output-dir", out_dir])
    runner.check(proc.returncode == 0 and "output y f32 [1, 10]" in proc.stdout,
                 f"run --shape: {proc.stdout.strip()} {proc.stderr.strip()}")
    given = work / "x_48.npy"
    np.save(given, np.ones((2, 3, 48, 48), np.float32))
    report_path = work / "bench_input.json"
    proc = runner.run(["bench", dynamic, "--input", f"x={given}", "--runs", "2", "--warmup", "0",
                       "--threads", "1", "--json", report_path])
    ok = proc.returncode == 0 and json.loads(report_path.read_text())["models"][0][
        "input_shapes"] == {"x": [2, 3, 48, 48]}
    runner.check(ok, f"bench --input runs at the file's shape ({proc.stderr.strip()[-300:]})")
    return dynamic


def check_bad_shapes(runner, work, dynamic):
    fixed = work / "classifier_initializers.onnx"
    bad = [("zero dim", dynamic, "x=1x3x0x16", "must be positive"),
           ("negative dim", dynamic, "x=1x3x-2x16", "must be positive"),
           ("not a dim", dynamic, "x=1x3xfoox16", "is not a dim"),
           ("no name", dynamic, "1x3x16x16", "is not NAME=DIMS"),
           ("unknown input", dynamic, "images=1x3x16x16", "the model has no input 'images'"),
           ("rank mismatch", dynamic, "x=1x3x16", "is given rank 3"),
           ("contradicts a fixed dim", fixed, "x=1x3x64x64", "fixes dim 2 to 32")]
    for name, model, spec, substring in bad:
        for command in (["bench", model, "--runs", "1", "--warmup", "0"], ["inspect", model],
                        ["run", model], ["quantize", model, "-o", work / "q.onnx", "--mode", "dynamic"]):
            runner.expect_error(f"{command[0]} --shape {spec} ({name})",
                                [*command, "--shape", spec], substring)
    given = work / "x_small.npy"
    np.save(given, np.ones((1, 3, 8, 8), np.float32))
    runner.expect_error("run --shape contradicting --input",
                        ["run", dynamic, "--input", f"x={given}", "--shape", "x=1x3x9x9"],
                        "contradicts --input 'x'")
    runner.expect_error("bench --shape with --batch",
                        ["bench", dynamic, "--shape", "x=1x3x8x8", "--batch", "1,2", "--runs", "1"],
                        "cannot be combined with --batch")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--work-dir", required=True, type=Path)
    args = parser.parse_args()
    shutil.rmtree(args.work_dir, ignore_errors=True)
    args.work_dir.mkdir(parents=True)
    runner = Runner(args.edgeperf)
    check_constant_weights(runner, args.work_dir)
    check_quantized_macs(runner, args.work_dir)
    check_mobilenet_macs(runner, args.work_dir)
    check_old_opsets_quantize(runner, args.work_dir)
    dynamic = check_open_dims(runner, args.work_dir)
    check_bad_shapes(runner, args.work_dir, dynamic)
    if runner.failures:
        print(f"\n{len(runner.failures)} failure(s)")
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
