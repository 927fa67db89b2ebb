#!/usr/bin/python3
"""Each model in one `bench` call is measured in a process of its own.

`bench A B` must report the same peak RSS for B as `bench B` alone (within 10%): B must
not inherit the peak of the larger model A measured before it. A model that fails in
its process still gives the one-line error of that failure. With --rounds R each model is
measured R times, in turn, and the rounds' latencies are pooled into one row; --runs is
split among the rounds and the profile (round 1) takes all of them. With --interleave the
models of a round take turns, each still in a process of its own: every model gets its
runs, in several turns, its own peak RSS, and no energy figure.
"""

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

TIMEOUT_S = 600


def bench(edgeperf, models, report):
    cmd = [edgeperf, "bench", *map(str, models), "--runs", "5", "--warmup", "1", "--threads", "1",
           "--json", str(report)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
    if proc.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(cmd)}: {proc.stderr}")
    return {m["label"]: m for m in json.loads(report.read_text())["models"]}


def check_rounds(edgeperf, models, report):
    cmd = [edgeperf, "bench", *map(str, models), "--rounds", "3", "--runs", "23", "--warmup", "1",
           "--threads", "1", "--profile", "--json", str(report)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
    if proc.returncode != 0:
        return [f"{' '.join(cmd)} failed: {proc.stderr}"]
    failures = []
    expected_positions = {0: [0, 1, 0], 1: [1, 0, 1]}  # given order, reversed, given again
    for index, model in enumerate(json.loads(report.read_text())["models"]):
        positions = model.get("round_positions")
        if positions != expected_positions[index]:
            failures.append(f"{model['label']}: measured at positions {positions} of the three "
                            f"rounds, expected {expected_positions[index]}")
        runs = len(model["batches"][0]["raw_latencies_ms"])
        print(f"{model['label']}: {model['rounds']} rounds, {runs} timed runs")
        if model["rounds"] != 3 or runs != 23:  # 23 runs in 3 rounds: 8, 8 and 7
            failures.append(f"{model['label']}: --rounds 3 --runs 23 gave {model['rounds']} "
                            f"rounds and {runs} runs, expected 3 and 23")
        if not model.get("profile"):
            failures.append(f"{model['label']}: --profile with --rounds gave no profile")
        elif model["profile"].get("runs") != 23:  # a round's share (8) before
            failures.append(f"{model['label']}: --profile with --rounds 3 --runs 23 profiled "
                            f"{model['profile'].get('runs')} runs, expected all 23")
    return failures


def check_interleave(edgeperf, big, small, small_alone_rss, report):
    cmd = [edgeperf, "bench", str(big), str(small), "--interleave", "--rounds", "2", "--runs", "40",
           "--warmup", "1", "--threads", "1", "--json", str(report)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
    if proc.returncode != 0:
        return [f"{' '.join(cmd)} failed: {proc.stderr}"]
    failures = []
    models = {m["label"]: m for m in json.loads(report.read_text())["models"]}
    for label, model in models.items():
        runs = len(model["batches"][0]["raw_latencies_ms"])
        print(f"--interleave: {label}: {model['rounds']} rounds, {model['turns']} turns, "
              f"{runs} timed runs, energy {model['energy']['method']}")
        if model["rounds"] != 2 or runs != 40:
            failures.append(f"--interleave: {label} measured {runs} runs in {model['rounds']} "
                            "rounds; expected 40 and 2")
        if model["energy"]["method"] != "unavailable":
            failures.append(f"--interleave: {label} reports energy the counters shared")
    # resnet18: 20 runs of tens of ms a round, more than one 50 ms turn each
    if models["resnet18"]["turns"] <= 2:
        failures.append(f"--interleave: resnet18 took {models['resnet18']['turns']} turns in two "
                        "rounds; its runs were never handed over")
    ratio = models["ds_cnn"]["peak_rss_bytes"] / small_alone_rss
    if not 0.9 <= ratio <= 1.1:
        failures.append(f"--interleave: ds_cnn's peak RSS is {ratio:.3f}x its own, alone")
    broken = report.parent / "broken_interleaved.onnx"
    broken.write_bytes(b"not a model")
    proc = subprocess.run([edgeperf, "bench", str(small), str(broken), "--interleave", "--runs", "2"],
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    lines = proc.stderr.strip().splitlines()
    if proc.returncode == 0 or len(lines) != 1 or "broken_interleaved.onnx" not in lines[0]:
        failures.append(f"--interleave: a failing model gives no one-line error: {proc.stderr!r}")
    return failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--work-dir", required=True, type=Path)
    args = parser.parse_args()
    shutil.rmtree(args.work_dir, ignore_errors=True)
    args.work_dir.mkdir(parents=True)
    big, small = args.work_dir / "resnet18.onnx", args.work_dir / "ds_cnn.onnx"
    for name, path in (("resnet18", big), ("ds_cnn", small)):
        subprocess.run([args.edgeperf, "zoo", name, "-o", str(path)], check=True, capture_output=True)
    together = bench(args.edgeperf, [big, small], args.work_dir / "together.json")
    alone = bench(args.edgeperf, [small], args.work_dir / "alone.json")
    after_big = together["ds_cnn"]["peak_rss_bytes"]
    by_itself = alone["ds_cnn"]["peak_rss_bytes"]
    big_peak = together["resnet18"]["peak_rss_bytes"]
    ratio = after_big / by_itself
    print(f"peak RSS of ds_cnn: {after_big / 1e6:.1f} MB after resnet18 ({big_peak / 1e6:.1f} MB), "
          f"{by_itself / 1e6:.1f} MB alone: ratio {ratio:.3f}")
    failures = []
    if not 0.9 <= ratio <= 1.1:
        failures.append(f"ds_cnn's peak RSS depends on the model before it (ratio {ratio:.3f})")
    if big_peak <= after_big:
        failures.append("resnet18 should need more memory than ds_cnn; the check proves nothing")

    failures += check_rounds(args.edgeperf, [big, small], args.work_dir / "rounds.json")
    failures += check_interleave(args.edgeperf, big, small, by_itself,
                                 args.work_dir / "interleaved.json")

    broken = args.work_dir / "broken.onnx"
    broken.write_bytes(b"not a model")
    proc = subprocess.run([args.edgeperf, "bench", str(small), str(broken), "--runs", "2"],
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    lines = proc.stderr.strip().splitlines()
    if proc.returncode == 0 or len(lines) != 1 or "broken.onnx" not in lines[0]:
        failures.append(f"a failing model's process gives no one-line error: {proc.stderr!r}")
    for failure in failures:
        print("FAIL  " + failure)
    print("all checks passed" if not failures else f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
