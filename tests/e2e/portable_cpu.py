#!/usr/bin/python3
"""The default x86-64 build on a CPU without AVX-512, under qemu-x86_64 -cpu Haswell.

The same binary runs each model natively (this machine: AVX-512, our own AVX-512 kernels
included) and under qemu's Haswell CPU (AVX2 and FMA, no AVX-512), on the same input:
the zoo MobileNetV2 in FP32 and static int8, the digits CNN fixture and a torchvision
export. FP32 outputs must agree within 1e-4 of their range, int8 outputs within 2% (the
int8 layers run on different kernels, which round differently). `sysinfo` must name
the ISA each run chose for our kernels. A build that assumes the build machine's CPU
dies with SIGILL under Haswell: that is what this guards.

Exits 77 (skipped) when the host is not x86-64 or has no qemu-x86_64, and says so.
"""
import argparse
import json
import platform
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import onnx_wire  # noqa: E402
from quant_e2e import run  # noqa: E402

QEMU_HASWELL = ["qemu-x86_64", "-cpu", "Haswell"]


def outputs(prefix, edgeperf, model, inputs, out_dir):
    shutil.rmtree(out_dir, ignore_errors=True)
    flags = [item for name, path in inputs.items() for item in ("--input", f"{name}={path}")]
    run([*prefix, edgeperf, "run", model, *flags, "--output-dir", out_dir, "--threads", "2",
         "--no-thread-tuning"])
    return {path.stem: np.load(path).astype(np.float64) for path in sorted(out_dir.glob("*.npy"))}


def input_shapes(model):
    """Input name -> dims, symbolic dims as 1."""
    inputs, _ = onnx_wire.graph_io(Path(model).read_bytes())
    return {name: [dim if isinstance(dim, int) and dim > 0 else 1 for dim in dims]
            for name, _, dims in inputs}


def kernel_isa(prefix, edgeperf):
    return json.loads(run([*prefix, edgeperf, "sysinfo", "--json"]))["kernel_isa"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    args = parser.parse_args()
    if platform.machine() != "x86_64" or shutil.which("qemu-x86_64") is None:
        print("SKIP: needs an x86-64 host with qemu-x86_64 (scripts/setup.sh installs qemu-user)")
        return 77
    work = Path(args.work_dir).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    edgeperf, source = Path(args.edgeperf).resolve(), Path(args.source_dir).resolve()

    native_isa, haswell_isa = kernel_isa([], edgeperf), kernel_isa(QEMU_HASWELL, edgeperf)
    print(f"our kernels: {native_isa} natively, {haswell_isa} under qemu -cpu Haswell")
    failures = []
    if haswell_isa != "avx2":
        failures.append(f"under Haswell our kernels chose {haswell_isa}, expected avx2")

    mobilenet, mobilenet_int8 = work / "mobilenet_v2.onnx", work / "mobilenet_v2_int8.onnx"
    run([edgeperf, "zoo", "mobilenet_v2", "-o", mobilenet])
    rng = np.random.default_rng(11)
    np.save(work / "calib.npy", rng.normal(0.0, 1.0, (4, 3, 224, 224)).astype(np.float32))
    run([edgeperf, "quantize", mobilenet, "-o", mobilenet_int8, "--mode", "static",
         "--per-channel", "--calib", work / "calib.npy"])
    run(["/usr/bin/python3", source / "bench/suite/build_suite.py", "--out", work / "suite",
         "--set", "ci", "--only", "squeezenet1_1_op17", "mobilenet_v3_small_op17"])
    models = [(mobilenet, 1e-4), (mobilenet_int8, 0.02),
              (source / "models/fixtures/digits_cnn.onnx", 1e-4),
              (work / "suite/squeezenet1_1_op17.onnx", 1e-4),
              (work / "suite/mobilenet_v3_small_op17.onnx", 1e-4)]
    for model, tolerance in models:
        inputs = {}
        for name, dims in input_shapes(model).items():
            path = work / f"{model.stem}_{len(inputs)}.npy"
            np.save(path, rng.normal(0.0, 1.0, dims).astype(np.float32))
            inputs[name] = path
        native = outputs([], edgeperf, model, inputs, work / "native")
        haswell = outputs(QEMU_HASWELL, edgeperf, model, inputs, work / "haswell")
        if native.keys() != haswell.keys() or not native:
            failures.append(f"{model.name}: outputs {sorted(native)} vs {sorted(haswell)}")
            continue
        for name in native:
            spread = max(float(np.ptp(native[name])), 1e-6)
            error = float(np.max(np.abs(native[name] - haswell[name])))
            print(f"{model.name} {name}: max |diff| {error:.3g}, {error / spread:.3g} of the "
                  f"range (limit {tolerance})")
            if error > tolerance * spread:
                failures.append(f"{model.name} {name}: max |diff| {error:.3g} > {tolerance} x "
                                f"range {spread:.3g}")
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
