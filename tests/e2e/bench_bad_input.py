#!/usr/bin/python3
"""`edgeperf bench` rejects bad input with one line on stderr and a non-zero exit."""
import argparse
import pathlib
import subprocess
import sys

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    args = parser.parse_args()
    work = pathlib.Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    model = str(pathlib.Path(args.source_dir) / "models/fixtures/digits_cnn.onnx")

    mismatched = work / "mismatched"
    mismatched.mkdir(exist_ok=True)
    np.save(mismatched / "inputs.npy", np.zeros((5, 1, 8, 8), np.float32))
    np.save(mismatched / "labels.npy", np.zeros((4,), np.int64))
    wrong_shape = work / "wrong_shape"
    wrong_shape.mkdir(exist_ok=True)
    np.save(wrong_shape / "inputs.npy", np.zeros((4, 3, 8, 8), np.float32))
    np.save(wrong_shape / "labels.npy", np.zeros((4,), np.int64))

    cases = [
        ("missing dataset", ["--data", str(work / "nowhere")], "nowhere"),
        ("label count", ["--data", str(mismatched)], "4 labels for 5 inputs"),
        ("dataset shape", ["--data", str(wrong_shape)], "[3, 8, 8]"),
        ("non-numeric runs", ["--runs", "many"], "--runs"),
        ("qps zero", ["--scenario", "server", "--qps", "0"], "--qps"),
        ("unwritable output", ["--json", "/proc/edgeperf/report.json"], "report.json"),
        ("missing model", [], "absent.onnx"),
        ("unknown scenario", ["--scenario", "burst"], "burst"),
    ]
    failures = 0
    for name, extra, needle in cases:
        target = str(work / "absent.onnx") if name == "missing model" else model
        command = [args.edgeperf, "bench", target, "--runs", "5", "--warmup", "1", *extra]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        lines = result.stderr.strip().splitlines()
        ok = (result.returncode != 0 and len(lines) == 1 and lines[0].startswith("edgeperf: error:")
              and needle in lines[0] and "Sanitizer" not in result.stderr)
        print(f"{'ok  ' if ok else 'FAIL'} {name}: exit {result.returncode}: {result.stderr.strip()}")
        failures += not ok
    print(f"{len(cases) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
