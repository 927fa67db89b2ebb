#!/usr/bin/python3
"""INT8 suite against edgeperf's own FP32 ("Speed that generalizes", must-show 2).

Reads two bench/peers/suite_vs_ort.py --json files, one of the INT8 suite
(bench/suite/quantize_suite.py) and one of the FP32 suite, and prints, per model and
thread count, edgeperf's p50 on the INT8 file over its p50 on the FP32 file, and the
geometric mean per thread count against the target.
  int8_vs_fp32.py --int8 INT8.json --fp32 FP32.json [--target 0.40]
"""
import argparse
import json
import math
import sys
from pathlib import Path


def p50s(path):
    summary = json.loads(Path(path).read_text())["summary"]
    return {(row["model"], row["threads"]): row["edgeperf"]["p50_ms"] for row in summary}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--int8", required=True, type=Path)
    parser.add_argument("--fp32", required=True, type=Path)
    parser.add_argument("--target", type=float, default=0.40)
    args = parser.parse_args(argv)
    int8, fp32 = p50s(args.int8), p50s(args.fp32)
    rows, missing = [], []
    for (model, threads), int8_ms in sorted(int8.items(), key=lambda item: (item[0][1], item[0][0])):
        base = model.removesuffix("_int8")
        if (base, threads) not in fp32:
            missing.append(f"{base} at {threads} thread(s)")
            continue
        rows.append((model, threads, int8_ms, fp32[(base, threads)]))
    if missing:
        print(f"int8_vs_fp32: error: {args.fp32}: no FP32 row for {', '.join(missing)}",
              file=sys.stderr)
        return 1
    print("| model | threads | INT8 p50 ms | FP32 p50 ms | INT8 / FP32 |")
    print("|---|---|---|---|---|")
    for model, threads, int8_ms, fp32_ms in rows:
        print(f"| {model} | {threads} | {int8_ms:.2f} | {fp32_ms:.2f} | {int8_ms / fp32_ms:.3f} |")
    print("\n| threads | models | geomean INT8 / FP32 | target |")
    print("|---|---|---|---|")
    met = True
    for threads in sorted({row[1] for row in rows}):
        ratios = [row[2] / row[3] for row in rows if row[1] == threads]
        geomean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        met = met and geomean <= args.target
        verdict = "met" if geomean <= args.target else "missed"
        print(f"| {threads} | {len(ratios)} | {geomean:.3f} | <= {args.target}: {verdict} |")
    return 0 if met else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
