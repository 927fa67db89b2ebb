#!/usr/bin/python3
"""What `--profile` costs: the profiled runs' mean against plain runs interleaved with them.

`edgeperf bench MODEL --profile` alternates a plain run and a profiled run, and reports
both means (profile.unprofiled_run_mean_ms, profile.profiled_run_mean_ms). This script
repeats that for each model and thread count in --rounds fresh processes and prints the
overhead per round and its median; the target is a median under 2%. It also prints how
closely the profile's rows add up to the profiled runs' mean (the target is 10%).
Models: the zoo's MobileNetV2 and ResNet-18 by default, or --model FILE (repeatable).
Run by hand, never by `make test`.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_PERCENT = 2.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edgeperf", default="build/edgeperf")
    parser.add_argument("--model", action="append", default=[])
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="profile_overhead_"))
    models = [Path(m) for m in args.model]
    if not models:
        for name in ("mobilenet_v2", "resnet18"):
            path = work / f"{name}.onnx"
            subprocess.run([args.edgeperf, "zoo", name, "-o", str(path)], check=True,
                           capture_output=True)
            models.append(path)
    print(f"{'model':<28} {'threads':>7} {'overhead per round (%)':<44} {'median':>7} "
          f"{'rows/run':>8}")
    worst = float("-inf")
    for model in models:
        for threads in args.threads.split(","):
            overheads, coverage = [], []
            for round_index in range(args.rounds):
                report = work / f"{model.stem}_{threads}_{round_index}.json"
                subprocess.run([args.edgeperf, "bench", str(model), "--threads", threads, "--runs",
                                str(args.runs), "--warmup", "5", "--profile", "--json", str(report)],
                               check=True, capture_output=True)
                profile = json.loads(report.read_text())["models"][0]["profile"]
                overheads.append(profile["overhead_percent"])
                coverage.append(profile["rows_sum_ms"] / profile["profiled_run_mean_ms"])
            median = statistics.median(overheads)
            worst = max(worst, median)
            print(f"{model.stem:<28} {threads:>7} "
                  f"{' '.join(f'{o:+.2f}' for o in overheads):<44} {median:+7.2f} "
                  f"{statistics.median(coverage):8.3f}")
    print(f"worst median overhead {worst:+.2f}% (target < {TARGET_PERCENT}%)")
    return 0 if worst < TARGET_PERCENT else 1


if __name__ == "__main__":
    sys.exit(main())
