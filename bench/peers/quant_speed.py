#!/usr/bin/python3
"""Speed of edgeperf's native INT8 against its FP32 and against ONNX Runtime.

MobileNetV2 (zoo weights): edgeperf FP32, edgeperf static INT8 (QDQ file) and ORT
on the same QDQ file, at each thread count; also edgeperf INT8 with oneDNN's kernels
only (--onednn-kernels-only), to show what edgeperf's own int8 kernels add. MLPs (784-256-128-10 and 6 layers
2048 wide, batch 1): edgeperf FP32 against edgeperf dynamic INT8. The models come
from the quant_models tool (bench/quant). Every configuration is measured in rounds
that rotate the order of the peers, each round a fresh process with warm-up runs,
so slow drifts of machine load hit every peer alike. Ratios compare p50 latencies.
--baseline EDGEPERF adds the same models run by another edgeperf binary (the build
before a change) to the rotation, with after/before ratios.
"""

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speed_vs_ort as base  # noqa: E402

REPO = base.REPO
TARGETS = {  # ratio of p50 latencies, must be <= the value
    ("mobilenet_v2", "int8/fp32"): 0.35,
    ("mobilenet_v2", "int8/ort"): 0.7,
    ("mlp3", "int8/fp32"): 1 / 1.2,
    ("mlp6x2048", "int8/fp32"): 1 / 3.0,
}
MLPS = {"mlp3": "784,256,128,10", "mlp6x2048": "2048,2048,2048,2048,2048,2048,2048"}


def run_peer(args, peer, model, input_spec, threads, runs, work):
    """One round: a fresh process timing `runs` runs; returns its timings JSON."""
    timings = work / f"{peer}_{model.stem}_t{threads}.json"
    timings.unlink(missing_ok=True)
    common = [str(model), "--input", f"{input_spec[0]}={input_spec[1]}", "--threads",
              str(threads), "--repeat", str(runs), "--warmup", str(args.warmup),
              "--timings-json", str(timings)]
    if peer == "ort":
        cmd = [args.node, str(REPO / "bench" / "peers" / "ort_run.js"), *common]
    else:
        binary = args.baseline if peer == "baseline" else args.edgeperf
        cmd = [binary, "run", *common, "--backend", "auto"]
        if peer == "edgeperf-onednn-only":
            cmd.append("--onednn-kernels-only")
    base.run_checked(cmd, f"{peer} {model.name} threads={threads}", args.timeout)
    result = json.loads(timings.read_text())
    if len(result.get("latencies_ms", [])) != runs:
        raise base.BenchError(f"{peer} {model.name}: wrote {len(result.get('latencies_ms', []))} "
                              f"latencies, expected {runs}")
    return result


def measure(args, peers, threads, work):
    """peers: {label: (kind, model path, input spec)}; rounds rotate the peer order."""
    samples = {label: {"latencies_ms": [], "load_ms": [], "first_run_ms": [],
                       "peak_rss_bytes": [], "arena_bytes": []} for label in peers}
    labels = list(peers)
    for index, runs in enumerate(base.split_runs(args.runs, args.rounds)):
        order = labels[index % len(labels):] + labels[:index % len(labels)]
        for label in order:
            kind, model, input_spec = peers[label]
            result = run_peer(args, kind, model, input_spec, threads, runs, work)
            for key in samples[label]:
                value = result.get(key)
                if key == "latencies_ms":
                    samples[label][key] += value
                else:
                    samples[label][key].append(value)
    return {label: base.summarize(s) for label, s in samples.items()}


def make_mlp_input(work, name, width, seed):
    path = work / f"{name}_input.npy"
    np.save(path, np.random.default_rng(seed).uniform(-1, 1, (1, width)).astype(np.float32))
    return "x", path


def ratio_rows(model, threads, summary, pairs):
    rows = []
    for label, (numerator, denominator) in pairs.items():
        ratio = summary[numerator]["p50_ms"] / summary[denominator]["p50_ms"]
        target = TARGETS.get((model, label))
        verdict = "n/a" if target is None else ("PASS" if ratio <= target else "FAIL")
        rows.append({"model": model, "threads": threads, "ratio": label, "value": ratio,
                     "target": target, "verdict": verdict})
    return rows


def markdown(latencies, ratios):
    lines = ["| model | threads | peer | p50 ms | p90 ms | min ms | load ms | peak RSS MiB |",
             "|---|---|---|---|---|---|---|---|"]
    for row in latencies:
        s = row["summary"]
        lines.append(f"| {row['model']} | {row['threads']} | {row['peer']} | {s['p50_ms']:.3f} "
                     f"| {s['p90_ms']:.3f} | {s['min_ms']:.3f} | {s['load_ms'] or 0:.1f} "
                     f"| {s['peak_rss_mib']:.1f} |")
    lines += ["", "| model | threads | ratio (p50) | value | target | verdict |",
              "|---|---|---|---|---|---|"]
    for r in ratios:
        target = "" if r["target"] is None else f"<= {r['target']:.3f}"
        lines.append(f"| {r['model']} | {r['threads']} | {r['ratio']} | {r['value']:.3f} "
                     f"| {target} | {r['verdict']} |")
    return "\n".join(lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edgeperf", default=str(REPO / "build" / "edgeperf"))
    parser.add_argument("--quant-models", default=str(REPO / "build" / "bench" / "quant" /
                                                      "quant_models"))
    parser.add_argument("--node", default=shutil.which("node") or "node")
    parser.add_argument("--baseline", help="another edgeperf binary, measured as extra peers")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--runs", type=int, default=200, help="timed runs per peer and config")
    parser.add_argument("--warmup", type=int, default=10, help="untimed runs per round")
    parser.add_argument("--rounds", type=int, default=4, help="rotating rounds per config")
    parser.add_argument("--calib", type=int, default=8, help="calibration samples")
    parser.add_argument("--skip", default="", help="comma-separated: mobilenet_v2,mlp3,mlp6x2048")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=900, help="seconds per process")
    parser.add_argument("--work-dir", default="/tmp/edgeperf-quant-speed")
    parser.add_argument("--json", help="write the numbers here")
    parser.add_argument("--markdown", help="write the tables here")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.rounds < 1 or args.rounds > args.runs or args.warmup < 0:
        parser.error("need runs >= rounds >= 1 and warmup >= 0")
    return args


def main(argv):
    args = parse_args(argv)
    work = Path(args.work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    skip = set(filter(None, args.skip.split(",")))
    threads_list = [int(t) for t in args.threads.split(",")]
    machine = base.machine_description()
    load_at_start = base.load_average()
    print(f"machine: {machine}; {load_at_start} at start", flush=True)
    latencies, ratios = [], []
    try:
        configs = []
        if "mobilenet_v2" not in skip:
            base.run_checked([args.quant_models, "static", "mobilenet_v2", str(work), "--calib",
                              str(args.calib)], "quant_models static mobilenet_v2", 600)
            fp32, qdq = work / "mobilenet_v2_fp32.onnx", work / "mobilenet_v2_qdq.onnx"
            spec = base.make_input(fp32, work, args.seed)
            configs.append(("mobilenet_v2",
                            {"edgeperf fp32": ("edgeperf", fp32, spec),
                             "edgeperf int8": ("edgeperf", qdq, spec),
                             "edgeperf int8, oneDNN kernels only": ("edgeperf-onednn-only", qdq, spec),
                             "ort int8": ("ort", qdq, spec)},
                            {"int8/fp32": ("edgeperf int8", "edgeperf fp32"),
                             "int8/ort": ("edgeperf int8", "ort int8"),
                             "int8/int8 oneDNN only": ("edgeperf int8",
                                                       "edgeperf int8, oneDNN kernels only")}))
        for name, widths in MLPS.items():
            if name in skip:
                continue
            base.run_checked([args.quant_models, "mlp", name, str(work), widths],
                             f"quant_models mlp {name}", 300)
            spec = make_mlp_input(work, name, int(widths.split(",")[0]), args.seed)
            configs.append((name, {"edgeperf fp32": ("edgeperf", work / f"{name}_fp32.onnx", spec),
                                   "edgeperf int8": ("edgeperf", work / f"{name}_dynamic.onnx", spec),
                                   "ort int8": ("ort", work / f"{name}_dynamic.onnx", spec)},
                            {"int8/fp32": ("edgeperf int8", "edgeperf fp32"),
                             "int8/ort": ("edgeperf int8", "ort int8")}))
        if args.baseline:
            for model, peers, pairs in configs:
                for precision in ("fp32", "int8"):
                    _, path, spec = peers[f"edgeperf {precision}"]
                    peers[f"baseline {precision}"] = ("baseline", path, spec)
                    pairs[f"{precision} after/before"] = (f"edgeperf {precision}",
                                                          f"baseline {precision}")
        for model, peers, pairs in configs:
            for threads in threads_list:
                started = time.time()
                summary = measure(args, peers, threads, work)
                for peer, s in summary.items():
                    latencies.append({"model": model, "threads": threads, "peer": peer,
                                      "summary": s})
                ratios += ratio_rows(model, threads, summary, pairs)
                print(f"measured {model} threads={threads} in {time.time() - started:.0f} s "
                      f"({base.load_average()})", flush=True)
    except base.BenchError as e:
        print(f"quant_speed: error: {e}", file=sys.stderr)
        return 1
    load_at_end = base.load_average()
    tables = markdown(latencies, ratios)
    print(f"{load_at_end} at end (1, 5, 15 min)\n")
    print(tables)
    if args.markdown:
        base.write_atomic(args.markdown, f"machine: {machine}\n\n{load_at_start} at start, "
                     f"{load_at_end} at end\n\n{tables}\n")
    if args.json:
        base.write_atomic(args.json, json.dumps(
            {"machine": machine, "load_at_start": load_at_start, "load_at_end": load_at_end,
             "runs": args.runs, "warmup_per_round": args.warmup, "rounds": args.rounds,
             "latencies": latencies, "ratios": ratios}, indent=1) + "\n")
    failed = [r for r in ratios if r["verdict"] == "FAIL"]
    return 0 if not failed else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
