#!/usr/bin/python3
"""Bad input to `edgeperf run` / `edgeperf inspect` must fail cleanly.

Each case must exit non-zero with exactly one stderr line that starts with
"edgeperf: error:" and names the problem, and never crash (no sanitizer report,
no segfault). NaN/Inf inputs are valid: exit 0 with a warning.
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import onnx_wire as w  # noqa: E402

TIMEOUT_S = 60
CRASH_MARKERS = ("Sanitizer", "Segmentation", "runtime error:", "core dumped", "terminate called",
                 "Aborted")


def small_model(op_type="Relu", weight_bytes=None, matmul_input="sensor_in"):
    """sensor_in[1,4] -> MatMul(W[4,3]) -> op_type -> y[1,3]."""
    weights = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    raw = weights.tobytes() if weight_bytes is None else weight_bytes
    g = w.graph([w.node("MatMul", [matmul_input, "W"], ["m"], name="matmul"),
                 w.node(op_type, ["m"], ["y"], name="act")],
                [w.value_info("sensor_in", w.FLOAT, [1, 4])],
                [w.value_info("y", w.FLOAT, [1, 3])],
                [w.tensor("W", w.FLOAT, [4, 3], raw)])
    return w.model(g)


def npy_with_lying_header(path):
    """A valid header that claims 100x4 floats followed by only 4 floats."""
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (100, 4), }"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    prefix = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little")
    path.write_bytes(prefix + header.encode() + np.ones(4, np.float32).tobytes())


class Case:
    def __init__(self, name, args, substrings, expect_ok=False):
        self.name = name
        self.args = args
        self.substrings = substrings  # each entry: str, or tuple of alternatives
        self.expect_ok = expect_ok


def build_cases(work):
    good_model = work / "good.onnx"
    good_model.write_bytes(small_model())
    good_input = work / "x.npy"
    np.save(good_input, np.ones((1, 4), np.float32))

    truncated = work / "truncated.onnx"
    truncated.write_bytes(good_model.read_bytes()[: len(good_model.read_bytes()) // 2])
    random_bytes = work / "random_bytes.onnx"
    random_bytes.write_bytes(np.random.default_rng(7).integers(0, 256, 4096, np.uint8).tobytes())
    empty = work / "empty.onnx"
    empty.write_bytes(b"")
    unsupported = work / "unsupported_op.onnx"
    unsupported.write_bytes(small_model(op_type="NoSuchOpXyz"))
    dangling = work / "dangling_input.onnx"
    dangling.write_bytes(small_model(matmul_input="not_produced_anywhere"))
    short_weights = work / "short_initializer.onnx"
    short_weights.write_bytes(small_model(weight_bytes=b"\x00" * 20))

    wrong_shape = work / "wrong_shape.npy"
    np.save(wrong_shape, np.ones((2, 5), np.float32))
    wrong_dtype = work / "wrong_dtype.npy"
    np.save(wrong_dtype, np.ones((1, 4), np.int64))
    truncated_npy = work / "truncated.npy"
    truncated_npy.write_bytes(good_input.read_bytes()[:-6])
    lying_npy = work / "lying_header.npy"
    npy_with_lying_header(lying_npy)
    not_npy = work / "not_npy.npy"
    not_npy.write_bytes(b"hello, this is not numpy\n" * 4)
    nan_inf = work / "nan_inf.npy"
    np.save(nan_inf, np.array([[np.nan, np.inf, -np.inf, 1.0]], np.float32))

    out = str(work / "out")
    run = lambda model, *extra: ["run", str(model), *extra, "--output-dir", out]  # noqa: E731
    x = lambda path: ["--input", f"sensor_in={path}"]  # noqa: E731
    return [
        Case("run truncated model", run(truncated, *x(good_input)), ["truncated.onnx"]),
        Case("inspect truncated model", ["inspect", str(truncated)], ["truncated.onnx"]),
        Case("run random bytes", run(random_bytes, *x(good_input)), ["random_bytes.onnx"]),
        Case("inspect random bytes", ["inspect", str(random_bytes)], ["random_bytes.onnx"]),
        Case("inspect empty file", ["inspect", str(empty)], ["empty.onnx"]),
        Case("run missing model", run(work / "no_such.onnx", *x(good_input)), ["no_such.onnx"]),
        Case("run unsupported op", run(unsupported, *x(good_input)), ["NoSuchOpXyz"]),
        Case("run dangling node input", run(dangling, *x(good_input)),
             ["not_produced_anywhere"]),
        Case("run short initializer", run(short_weights, *x(good_input)), ["W"]),
        Case("run wrong input name", run(good_model, "--input", f"bogus_name={good_input}"),
             ["bogus_name"]),
        Case("run wrong shape", run(good_model, *x(wrong_shape)), ["sensor_in", ("shape", "dim")]),
        Case("run wrong dtype", run(good_model, *x(wrong_dtype)),
             ["sensor_in", ("dtype", "type", "int64", "i64")]),
        Case("run truncated npy", run(good_model, *x(truncated_npy)), ["truncated.npy"]),
        Case("run npy header lies", run(good_model, *x(lying_npy)), ["lying_header.npy"]),
        Case("run not an npy", run(good_model, *x(not_npy)), ["not_npy.npy"]),
        Case("run missing npy", run(good_model, *x(work / "no_such.npy")), ["no_such.npy"]),
        Case("run NaN/Inf input", run(good_model, *x(nan_inf)), [("nan", "inf")], expect_ok=True),
        # More groups than vecbench's 65,536-row in-cache slice holds: its check against the
        # naive loop must still pass (it once compared against the in-cache run's groups).
        Case("vecbench more groups than its in-cache slice",
             ["vecbench", "--n", "0", "--rows", "100000", "--groups", "100000", "--no-peers",
              "--repeats", "1"], [], expect_ok=True),
    ]


def check_case(edgeperf, case):
    """Returns a list of problems (empty when the case behaves)."""
    try:
        proc = subprocess.run([edgeperf, *case.args], capture_output=True, text=True,
                              timeout=TIMEOUT_S, errors="replace")
    except subprocess.TimeoutExpired:
        return [f"hung for more than {TIMEOUT_S} s"]
    problems = []
    stderr_lines = proc.stderr.splitlines()
    everything = proc.stdout + proc.stderr
    for marker in CRASH_MARKERS:
        if marker in everything:
            problems.append(f"output contains '{marker}'")
    if proc.returncode < 0:
        problems.append(f"killed by signal {-proc.returncode}")
    if case.expect_ok:
        if proc.returncode != 0:
            problems.append(f"exit {proc.returncode}, expected 0")
        text = proc.stderr.lower()
    else:
        if proc.returncode == 0:
            problems.append("exit 0, expected failure")
        if len(stderr_lines) != 1:
            problems.append(f"stderr has {len(stderr_lines)} lines, expected 1")
        if not stderr_lines or not stderr_lines[0].startswith("edgeperf: error:"):
            problems.append("stderr does not start with 'edgeperf: error:'")
        text = stderr_lines[0].lower() if stderr_lines else ""
    for want in case.substrings:
        alternatives = want if isinstance(want, tuple) else (want,)
        if not any(a.lower() in text for a in alternatives):
            problems.append(f"message lacks {' or '.join(repr(a) for a in alternatives)}")
    if problems:
        problems.append(f"stderr was: {proc.stderr.strip()[:400]!r}")
    return problems


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--work-dir", default="/tmp/edgeperf-cli-bad-input")
    args = parser.parse_args(argv)
    work = Path(args.work_dir).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    failures = 0
    for case in build_cases(work):
        problems = check_case(args.edgeperf, case)
        print(f"{'PASS' if not problems else 'FAIL'}  {case.name}", flush=True)
        for p in problems:
            print(f"        {p}", flush=True)
        failures += bool(problems)
    print(f"cli_bad_input: {failures} failing case(s)" if failures else "cli_bad_input: all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
