#!/usr/bin/python3
"""Bad input to `edgeperf quantize` must fail cleanly: exit non-zero with exactly one
stderr line "edgeperf: error: ..." naming the problem (file and sample for calibration
data), never crash, never leave the output file behind."""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_bad_input import Case, check_case  # noqa: E402


def build_cases(work, fixtures):
    mlp = fixtures / "digits_mlp.onnx"
    calib = fixtures / "digits_calib_inputs.npy"
    good = np.load(calib)[:16].reshape(16, 64)

    wrong_shape = work / "wrong_shape.npy"
    np.save(wrong_shape, np.ones((10, 5), np.float32))
    wrong_dtype = work / "wrong_dtype.npy"
    np.save(wrong_dtype, np.ones((10, 64), np.int64))
    empty_dir = work / "empty_calib"
    empty_dir.mkdir()
    with_nan = work / "with_nan.npy"
    nan_data = good.copy()
    nan_data[3, 7] = np.nan
    np.save(with_nan, nan_data)
    inf_dir = work / "inf_dir"
    inf_dir.mkdir()
    np.save(inf_dir / "a_good.npy", good)
    inf_data = good.copy()
    inf_data[5, 0] = np.inf
    np.save(inf_dir / "b_inf.npy", inf_data)

    out = str(work / "out.onnx")
    quantized = work / "already.onnx"
    q = lambda model, *extra: ["quantize", str(model), "-o", out, *extra]  # noqa: E731
    static = lambda data: q(mlp, "--mode", "static", "--calib", str(data))  # noqa: E731
    return quantized, [
        Case("calibration of the wrong shape", static(wrong_shape), ["wrong_shape.npy", "sample"]),
        Case("calibration of the wrong dtype", static(wrong_dtype),
             ["wrong_dtype.npy", ("i64", "int64")]),
        Case("empty calibration directory", static(empty_dir), ["empty_calib", "no .npy"]),
        Case("NaN in calibration data", static(with_nan), ["with_nan.npy", "sample 3", "nan"]),
        Case("Inf in a calibration directory", static(inf_dir), ["b_inf.npy", "sample 5", "inf"]),
        Case("missing calibration path", static(work / "nowhere"), ["nowhere"]),
        Case("static without --calib", q(mlp, "--mode", "static"), ["--calib"]),
        Case("already quantized model", q(quantized, "--mode", "dynamic"), ["already quantized"]),
        Case("unknown --method", static(calib) + ["--method", "bogus"], ["bogus"]),
        Case("bad percentile", static(calib) + ["--method", "percentile:lots"], ["percentile"]),
        Case("unknown --exclude", static(calib) + ["--exclude", "/fc1/Gemm", "no_such_node"],
             ["no_such_node"]),
        Case("unknown --mode", q(mlp, "--mode", "int3"), ["int3"]),
        Case("unknown --format", static(calib) + ["--format", "qfancy"], ["qfancy"]),
        Case("missing model", q(work / "no_model.onnx", "--mode", "fp16"), ["no_model.onnx"]),
        Case("--reduce-range in fp16 mode", q(mlp, "--mode", "fp16", "--reduce-range"),
             ["--reduce-range", "fp16"]),
        Case("--reduce-range with asymmetric weights",
             static(calib) + ["--weights", "int8-asym", "--reduce-range"],
             ["--reduce-range", "int8-asym"]),
    ]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--work-dir", default="/tmp/edgeperf-quant-bad-input")
    args = parser.parse_args(argv)
    work = Path(args.work_dir).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    fixtures = Path(args.source_dir) / "models/fixtures"

    quantized, cases = build_cases(work, fixtures)

    subprocess.run([args.edgeperf, "quantize", str(fixtures / "digits_mlp.onnx"), "-o",
                    str(quantized), "--mode", "dynamic"], check=True, capture_output=True)
    failures = 0
    for case in cases:
        problems = check_case(args.edgeperf, case)
        if (work / "out.onnx").exists():
            problems.append("the output file was written")
        print(f"{'PASS' if not problems else 'FAIL'}  {case.name}", flush=True)
        for p in problems:
            print(f"        {p}", flush=True)
        failures += bool(problems)
    print(f"quant_bad_input: {failures} failing case(s)" if failures else
          "quant_bad_input: all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
