#!/usr/bin/python3
"""INT8 suite against edgeperf's own FP32 ("Speed that generalizes", must-show 2).

Prints, per model and thread count, edgeperf's p50 on the INT8 file over its p50 on the
FP32 file, and the geometric mean per thread count against the target. Two ways:

  Measured here (both sides in one script, so the host's load falls on both alike):
    int8_vs_fp32.py --int8-suite DIR --fp32-suite DIR [--edgeperf BIN] [--threads 1,2]
                    [--runs 100] [--rounds 4] [--only ID,...] [--json FILE] [--target 0.40]
  Each INT8 model (bench/suite/quantize_suite.py) and the FP32 file it was quantized from
  (bench/suite/build_suite.py) run on the same seeded input in alternating fresh processes
  (ABBA rounds), --runs timed runs each, as suite_vs_ort.py runs edgeperf against ORT.

  From two earlier runs of bench/peers/suite_vs_ort.py --json:
    int8_vs_fp32.py --int8 INT8.json --fp32 FP32.json [--target 0.40]

Exit 0 when every geomean meets the target, 2 when one misses, 1 on an error.
"""
import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "peers"))
import speed_vs_ort as peers  # noqa: E402
import suite_vs_ort  # noqa: E402

KINDS = ("fp32", "int8")


def p50s(path):
    summary = json.loads(Path(path).read_text())["summary"]
    return {(row["model"], row["threads"]): row["edgeperf"]["p50_ms"] for row in summary}


def pairs_from_files(args):
    """(model, threads, int8 p50, fp32 p50) rows from two suite_vs_ort.py JSON files."""
    int8, fp32 = p50s(args.int8), p50s(args.fp32)
    rows, missing = [], []
    for (model, threads), int8_ms in sorted(int8.items(), key=lambda item: (item[0][1], item[0][0])):
        base = model.removesuffix("_int8")
        if (base, threads) not in fp32:
            missing.append(f"{base} at {threads} thread(s)")
            continue
        rows.append((model, threads, int8_ms, fp32[(base, threads)]))
    if missing:
        raise peers.BenchError(f"{args.fp32}: no FP32 row for {', '.join(missing)}")
    return rows, None


def manifest(directory):
    path = Path(directory) / "manifest.json"
    if not path.is_file():
        raise peers.BenchError(f"{path}: no manifest")
    return {entry["id"]: entry for entry in json.loads(path.read_text())}


def measure_pair(args, models, input_spec, threads, work):
    """Both files in alternating rounds; the samples per kind, as measure_config keeps them."""
    samples = {kind: {"latencies_ms": [], "load_ms": [], "first_run_ms": [],
                      "peak_rss_bytes": [], "arena_bytes": [],
                      "cpus": peers.shared_cpus(args, threads) or args.cpus}
               for kind in KINDS}
    for i, runs in enumerate(peers.split_runs(args.runs, args.rounds)):
        for kind in peers.round_order(KINDS, i):
            result = peers.run_round(args, "edgeperf", models[kind], input_spec, threads, runs,
                                     work)
            s = samples[kind]
            s["latencies_ms"] += result["latencies_ms"]
            for key in ("load_ms", "first_run_ms", "peak_rss_bytes", "arena_bytes"):
                s[key].append(result.get(key))
    return samples


def pairs_measured(args):
    int8_suite, fp32_suite = manifest(args.int8_suite), manifest(args.fp32_suite)
    wanted = args.only.split(",") if args.only else list(int8_suite)
    unknown = [w for w in wanted if w not in int8_suite]
    if unknown:
        raise peers.BenchError(f"not in {args.int8_suite}/manifest.json: {', '.join(unknown)}")
    missing = [w for w in wanted if w.removesuffix("_int8") not in fp32_suite]
    if missing:
        raise peers.BenchError(f"{args.fp32_suite}/manifest.json: no FP32 file for "
                               f"{', '.join(missing)}")
    work = Path(args.work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    threads_list = [int(t) for t in args.threads.split(",")]
    print(f"machine: {peers.machine_description()}; {peers.load_average()} at start", flush=True)
    rows, report = [], []
    for model_id in wanted:
        entry = int8_suite[model_id]
        base = fp32_suite[model_id.removesuffix("_int8")]
        models = {"int8": Path(args.int8_suite) / entry["file"],
                  "fp32": Path(args.fp32_suite) / base["file"]}
        input_spec = suite_vs_ort.make_input(base, work, args.seed)
        for threads in threads_list:
            started = time.time()
            samples = measure_pair(args, models, input_spec, threads, work)
            summary = {kind: peers.summarize(samples[kind]) for kind in KINDS}
            int8_ms, fp32_ms = summary["int8"]["p50_ms"], summary["fp32"]["p50_ms"]
            rows.append((model_id, threads, int8_ms, fp32_ms))
            report.append({"model": model_id, "threads": threads, **summary,
                           "ratio": int8_ms / fp32_ms, "raw": samples})
            print(f"{model_id} threads={threads}: INT8/FP32 {int8_ms / fp32_ms:.3f} "
                  f"({time.time() - started:.0f} s)", flush=True)
    print(f"{peers.load_average()} at end\n")
    rows.sort(key=lambda row: (row[1], row[0]))
    return rows, {"machine": peers.machine_description(), "runs": args.runs,
                  "rounds": args.rounds, "warmup_per_round": args.warmup, "pairs": report}


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def print_tables(rows, target):
    print("| model | threads | INT8 p50 ms | FP32 p50 ms | INT8 / FP32 |")
    print("|---|---|---|---|---|")
    for model, threads, int8_ms, fp32_ms in rows:
        print(f"| {model} | {threads} | {int8_ms:.2f} | {fp32_ms:.2f} | {int8_ms / fp32_ms:.3f} |")
    print("\n| threads | models | geomean INT8 / FP32 | target |")
    print("|---|---|---|---|")
    met = True
    for threads in sorted({row[1] for row in rows}):
        g = geomean([row[2] / row[3] for row in rows if row[1] == threads])
        met = met and g <= target
        verdict = "met" if g <= target else "missed"
        count = sum(1 for row in rows if row[1] == threads)
        print(f"| {threads} | {count} | {g:.3f} | <= {target}: {verdict} |")
    return met


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--int8", type=Path, help="suite_vs_ort.py --json of the INT8 suite")
    parser.add_argument("--fp32", type=Path, help="suite_vs_ort.py --json of the FP32 suite")
    parser.add_argument("--int8-suite", type=Path, help="quantize_suite.py --out: measure here")
    parser.add_argument("--fp32-suite", type=Path, help="build_suite.py --out: measure here")
    parser.add_argument("--only", help="comma-separated INT8 manifest ids")
    parser.add_argument("--target", type=float, default=0.40)
    peers.add_measurement_options(parser, runs=100, warmup=5, rounds=4,
                                  work_dir="/tmp/edgeperf-int8-vs-fp32")
    args = peers.parse_measurement_options(parser, argv)
    from_files = args.int8 is not None or args.fp32 is not None
    measured = args.int8_suite is not None or args.fp32_suite is not None
    if from_files == measured or (from_files and not (args.int8 and args.fp32)) or (
            measured and not (args.int8_suite and args.fp32_suite)):
        parser.error("give --int8 and --fp32 (two JSON files), or --int8-suite and --fp32-suite")
    return args


def main(argv):
    args = parse_args(argv)
    try:
        rows, report = pairs_measured(args) if args.int8_suite else pairs_from_files(args)
        if not rows:
            raise peers.BenchError("no INT8 model to compare")
    except (peers.BenchError, OSError, ValueError, KeyError) as error:
        print(f"int8_vs_fp32: error: {error}", file=sys.stderr)
        return 1
    met = print_tables(rows, args.target)
    if report is not None and args.json:
        report["target"] = args.target
        peers.write_atomic(args.json, json.dumps(report, indent=1) + "\n")
    return 0 if met else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
