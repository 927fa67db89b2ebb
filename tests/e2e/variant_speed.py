#!/usr/bin/python3
"""quantize and prune time their result against their input before writing it.

- Dynamic INT8 of the zoo MobileNetV2 (its convolutions become ConvInteger) is far
  slower than float at every thread count: refused with a one-line error that gives
  the measured ratios and where the time went, and no file is written.
- With --allow-slower it is written, and a warning carries the same finding.
- FP16 and pruned results print their measured speed next to the input's and are
  written; --no-speed-check skips the measurement.
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

TIMEOUT_S = 300


def run(edgeperf, *args):
    return subprocess.run([edgeperf, *map(str, args)], capture_output=True, text=True,
                          timeout=TIMEOUT_S)


class Checks:
    def __init__(self):
        self.failures = 0

    def check(self, ok, what):
        print(f"{'ok  ' if ok else 'FAIL'}  {what}", flush=True)
        self.failures += 0 if ok else 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--work-dir", required=True)
    args = parser.parse_args()
    work = Path(args.work_dir)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    checks = Checks()
    model = work / "mobilenet_v2.onnx"
    run(args.edgeperf, "zoo", "mobilenet_v2", "-o", model)

    refused = work / "dynamic.onnx"
    proc = run(args.edgeperf, "quantize", model, "-o", refused, "--mode", "dynamic")
    message = proc.stderr.strip()
    checks.check(proc.returncode != 0 and "\n" not in message,
                 f"dynamic INT8 MobileNetV2: one-line refusal, exit {proc.returncode}")
    for part in ("slower than its input", "at 1 thread", "at 2 threads", "ConvInteger on reference",
                 "not written", "--mode static", "--allow-slower"):
        checks.check(part in message, f"the refusal says '{part}' ({message[:160]}...)")
    checks.check(not refused.exists() and not list(work.glob("dynamic.onnx*")),
                 "nothing written (no file, no temp file)")

    proc = run(args.edgeperf, "quantize", model, "-o", refused, "--mode", "dynamic",
               "--allow-slower")
    checks.check(proc.returncode == 0 and refused.exists(), "--allow-slower writes it")
    checks.check("warning: the result runs" in proc.stderr and "ConvInteger" in proc.stderr,
                 f"...with the warning ({proc.stderr.strip()[:120]}...)")

    for name, flags in (("fp16", ["quantize", "--mode", "fp16"]),
                        ("pruned", ["prune", "--method", "magnitude", "--sparsity", "0.5"])):
        out = work / f"{name}.onnx"
        proc = run(args.edgeperf, flags[0], model, "-o", out, *flags[1:])
        checks.check(proc.returncode == 0 and out.exists(), f"{name}: written")
        checks.check("speed vs the input model:" in proc.stdout and "at 2 threads" in proc.stdout,
                     f"{name}: prints its measured speed")

    out = work / "unchecked.onnx"
    proc = run(args.edgeperf, "quantize", model, "-o", out, "--mode", "fp16", "--no-speed-check")
    checks.check(proc.returncode == 0 and "speed vs" not in proc.stdout,
                 "--no-speed-check: written without measuring")
    print(f"variant_speed: {'FAILED' if checks.failures else 'all checks passed'}")
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
