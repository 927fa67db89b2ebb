#!/usr/bin/python3
"""Latency and peak RSS of edgeperf (backend auto) against ONNX Runtime on the model suite.

Models come from DIR/manifest.json (bench/suite/build_suite.py). By default one file per
architecture (its opset-13 export when there is one); --all takes every file, --only picks
ids. Per model and thread count both peers run the same file on the same seeded input, in
alternating fresh processes (ABBA rounds, as in speed_vs_ort.py), --runs timed runs each.

Prints p50 per side, the ratio edgeperf/ORT, peak RSS per side, and per thread count the
geometric mean of the ratios, against the targets of "Speed that generalizes":
geomean <= 0.80, no model above 1.00, peak RSS <= ORT's. Exit 0 whatever the verdicts (a
benchmark, not a test); 1 on a failed run; 77 when onnxruntime-node is not installed.

  suite_vs_ort.py --suite DIR [--threads 1,2] [--runs 100] [--only ID,...] [--json FILE]
                  [--target-geomean 0.80]   (0.70 for the INT8 suite of quantize_suite.py)
                  [--cpus 0,1]   (configs with fewer threads pin both peers to the first ones)
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speed_vs_ort as peers  # noqa: E402

REPO = peers.REPO
TARGET_GEOMEAN = 0.80
TARGET_MAX = 1.00


def pick_models(manifest, args):
    if args.only:
        wanted = args.only.split(",")
        by_id = {e["id"]: e for e in manifest}
        missing = [w for w in wanted if w not in by_id]
        if missing:
            raise peers.BenchError(f"not in the manifest: {', '.join(missing)}")
        return [by_id[w] for w in wanted]
    if args.all:
        return manifest
    # The plain opset-13 export of each architecture (not its _dynamic, _constants or _nhwc
    # variants), else its first file.
    chosen = {}
    for entry in manifest:
        arch = entry["id"].split("_op", 1)[0]
        if arch not in chosen or entry["id"] == f"{arch}_op13":
            chosen[arch] = entry
    return list(chosen.values())


def make_input(entry, work, seed):
    shape = entry["shapes"][0]
    rng = np.random.default_rng(seed)
    data = (rng.random(shape, dtype=np.float32) if len(shape) == 3
            else rng.standard_normal(shape).astype(np.float32))
    path = work / f"{entry['id']}_input.npy"
    np.save(path, data)
    return "x", path


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def table(results, thread_counts, target_geomean=TARGET_GEOMEAN):
    lines = ["| model | threads | edgeperf p50 ms | ORT p50 ms | ratio | edgeperf p90 ms "
             "| ORT p90 ms | edgeperf peak RSS MiB | ORT peak RSS MiB |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        e, o = r["edgeperf"], r["ort"]
        lines.append(f"| {r['model']} | {r['threads']} | {e['p50_ms']:.2f} | {o['p50_ms']:.2f} "
                     f"| {r['ratio']:.3f} | {e['p90_ms']:.2f} | {o['p90_ms']:.2f} "
                     f"| {e['peak_rss_mib']:.0f} | {o['peak_rss_mib']:.0f} |")
    lines += ["", "| threads | models | geomean ratio | target | over 1.00 | RSS above ORT |",
              "|---|---|---|---|---|---|"]
    for threads in thread_counts:
        rows = [r for r in results if r["threads"] == threads]
        g = geomean([r["ratio"] for r in rows])
        over = [r["model"] for r in rows if r["ratio"] > TARGET_MAX]
        heavier = [r["model"] for r in rows
                   if r["edgeperf"]["peak_rss_mib"] > r["ort"]["peak_rss_mib"]]
        verdict = "met" if g <= target_geomean and not over else "missed"
        lines.append(f"| {threads} | {len(rows)} | {g:.3f} | <= {target_geomean}, none > "
                     f"{TARGET_MAX:.2f}: {verdict} | {', '.join(over) or '-'} "
                     f"| {', '.join(heavier) or '-'} |")
    return "\n".join(lines)


def pinning_note(args, thread_counts):
    pinned = [f"{t} thread(s) on CPU {','.join(map(str, peers.shared_cpus(args, t)))}"
              for t in thread_counts if peers.shared_cpus(args, t)]
    return ("both peers run " + "; ".join(pinned) if pinned
            else f"both peers run on CPUs {','.join(map(str, args.cpus))}")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", required=True, type=Path, help="bench/suite/build_suite.py --out")
    parser.add_argument("--only", help="comma-separated manifest ids")
    parser.add_argument("--all", action="store_true", help="every file, not one per architecture")
    parser.add_argument("--target-geomean", type=float, default=TARGET_GEOMEAN,
                        help="geomean target of the verdict (0.80 FP32; 0.70 for the INT8 suite)")
    peers.add_measurement_options(parser, runs=100, warmup=5, rounds=2,
                                  work_dir="/tmp/edgeperf-suite-vs-ort")
    args = peers.parse_measurement_options(parser, argv)
    args.baseline = None  # speed_vs_ort's third peer is not used here
    return args


def main(argv):
    args = parse_args(argv)
    if not (REPO / "node_modules" / "onnxruntime-node").is_dir():
        print("suite_vs_ort: skipped: onnxruntime-node is not installed (scripts/setup.sh)")
        return 77
    manifest_path = args.suite / "manifest.json"
    if not manifest_path.is_file():
        print(f"suite_vs_ort: error: {manifest_path}: no manifest (run bench/suite/build_suite.py)",
              file=sys.stderr)
        return 1
    work = Path(args.work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    thread_counts = [int(t) for t in args.threads.split(",")]
    print(f"machine: {peers.machine_description()}; {peers.load_average()} at start", flush=True)
    print(pinning_note(args, thread_counts), flush=True)
    results, raw = [], []
    try:
        for entry in pick_models(json.loads(manifest_path.read_text()), args):
            model = args.suite / entry["file"]
            input_spec = make_input(entry, work, args.seed)
            for threads in thread_counts:
                started = time.time()
                samples = peers.measure_config(args, model, input_spec, threads, work)
                summary = {"model": entry["id"], "threads": threads,
                           **{p: peers.summarize(samples[p]) for p in ("edgeperf", "ort")}}
                summary["ratio"] = summary["edgeperf"]["p50_ms"] / summary["ort"]["p50_ms"]
                results.append(summary)
                raw.append({"model": entry["id"], "threads": threads, **samples})
                print(f"{entry['id']} threads={threads}: ratio {summary['ratio']:.3f} "
                      f"({time.time() - started:.0f} s)", flush=True)
    except peers.BenchError as error:
        print(f"suite_vs_ort: error: {error}", file=sys.stderr)
        return 1
    print(f"{peers.load_average()} at end\n")
    print(table(results, thread_counts, args.target_geomean))
    if args.json:
        report = {"machine": peers.machine_description(), "pinning": pinning_note(args, thread_counts),
                  "runs": args.runs,
                  "rounds": args.rounds, "warmup_per_round": args.warmup,
                  "targets": {"geomean": args.target_geomean, "max": TARGET_MAX},
                  "summary": results, "raw": raw}
        peers.write_atomic(args.json, json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
