#!/usr/bin/python3
"""Where oneDNN spends a model's run: per-primitive times from DNNL_VERBOSE=1.

Runs `edgeperf run MODEL --repeat N` with oneDNN's verbose log, keeps the primitives
of the last N runs and prints, per (primitive, implementation, data types), the
median time per run. Shows which implementation runs (avoid "ref") and which layers
dominate, e.g. to explain an INT8/FP32 speed ratio.

  /usr/bin/python3 bench/peers/dnnl_profile.py MODEL [--threads T] [--repeat N]
"""

import argparse
import collections
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def primitive_lines(args):
    env = dict(os.environ, DNNL_VERBOSE="1")
    cmd = [args.edgeperf, "run", args.model, "--threads", str(args.threads), "--repeat",
           str(args.repeat), "--warmup", "2", "--backend", "auto"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=args.timeout)
    if proc.returncode != 0:
        sys.exit(f"dnnl_profile: {' '.join(cmd)} failed: {proc.stderr.strip()[-300:]}")
    return [line.split(",") for line in proc.stdout.splitlines()
            if line.startswith("onednn_verbose,exec,")]


def run_length(lines, repeat):
    """Primitives per run: the period with which the log's tail repeats."""
    for period in range(1, len(lines) // repeat + 1):
        if all(lines[-1 - i][3:5] == lines[-1 - i - period][3:5]
               for i in range(period * (repeat - 1))):
            return period
    sys.exit("dnnl_profile: could not find the per-run sequence of primitives")


def kind_of(fields):
    types = "/".join(sorted({part.split(":")[0].split("_")[-1] for part in fields[6].split()
                             if part.startswith(("src_", "dst_"))}))
    return f"{fields[3]} {fields[4]} {types}"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--edgeperf", default=str(REPO / "build" / "edgeperf"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--timeout", type=int, default=600)
    args = parser.parse_args(argv)
    lines = primitive_lines(args)
    period = run_length(lines, args.repeat)
    per_run = collections.defaultdict(list)
    totals = []
    for run in range(args.repeat):
        chunk = lines[len(lines) - period * (run + 1):len(lines) - period * run]
        sums = collections.defaultdict(float)
        for fields in chunk:
            sums[kind_of(fields)] += float(fields[-1])
        totals.append(sum(sums.values()))
        for key, value in sums.items():
            per_run[key].append(value)
    print(f"{args.model}: {period} primitives per run, threads {args.threads}; "
          f"sum of primitive times per run: median {statistics.median(totals):.3f} ms, "
          f"min {min(totals):.3f} ms")
    for key, values in sorted(per_run.items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"  {statistics.median(values):8.3f} ms (min {min(values):.3f})  {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
