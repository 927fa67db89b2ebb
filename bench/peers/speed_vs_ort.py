#!/usr/bin/python3
"""Latency of edgeperf (backend auto) against ONNX Runtime on the zoo's MobileNetV2 and ResNet-18.

Both peers get the same model file and the same seeded input. Per configuration
(model, threads) the timed runs are split into rounds that alternate between the
peers in ABBA order, so slow drifts of machine load hit both sides alike. Every
round is a fresh process: it reports load time, first-run latency and peak RSS,
and after --warmup untimed runs, its share of the timed runs.

A configuration with fewer threads than --cpus lists runs every process of every peer on
the same first `threads` of those CPUs: on a machine whose cores differ in speed (a VM's
vCPUs sharing physical cores with other guests, big.LITTLE), an unpinned process lands on
either, and each side's p50 would depend on where its processes happened to run.

--baseline EDGEPERF adds a third peer, another edgeperf binary (the build before a
change), in the same rotation, and a before/after column: a refactor is checked for
speed in one run, on one machine state.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import onnx_wire  # noqa: E402

TARGET_RATIO = 0.9
DEFAULT_MODELS = "mobilenet_v2,resnet18"


class BenchError(Exception):
    pass


def run_checked(cmd, what, timeout_s, cpus=None):
    def pin():
        os.sched_setaffinity(0, cpus)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                              preexec_fn=pin if cpus else None)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{what}: timed out after {timeout_s} s")
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        raise BenchError(f"{what}: exit {proc.returncode}: {lines[-1] if lines else ''}")


def make_input(model, work, seed):
    inputs, _ = onnx_wire.graph_io(model.read_bytes())
    if len(inputs) != 1 or inputs[0][1] != onnx_wire.FLOAT:
        raise BenchError(f"{model}: expected one float input, found {inputs}")
    name, _, dims = inputs[0]
    shape = [d if isinstance(d, int) and d > 0 else 1 for d in dims]
    path = work / f"{model.stem}_input.npy"
    np.save(path, np.random.default_rng(seed).standard_normal(shape).astype(np.float32))
    return name, path


def peer_command(args, peer, model, input_spec, threads, runs, timings):
    common = [str(model), "--input", f"{input_spec[0]}={input_spec[1]}", "--threads",
              str(threads), "--repeat", str(runs), "--warmup", str(args.warmup),
              "--timings-json", str(timings)]
    if peer in ("edgeperf", "baseline"):
        binary = args.edgeperf if peer == "edgeperf" else args.baseline
        return [binary, "run", *common, "--backend", "auto"]
    return [args.node, str(REPO / "bench" / "peers" / "ort_run.js"), *common]


def shared_cpus(args, threads):
    """The CPUs every process of a configuration runs on; None: all allowed ones."""
    return args.cpus[:threads] if threads < len(args.cpus) else None


def run_round(args, peer, model, input_spec, threads, runs, work):
    timings = work / f"{peer}_{model.stem}_t{threads}.json"
    timings.unlink(missing_ok=True)
    cmd = peer_command(args, peer, model, input_spec, threads, runs, timings)
    run_checked(cmd, f"{peer} {model.stem} threads={threads}", args.timeout,
                shared_cpus(args, threads))
    result = json.loads(timings.read_text())
    if len(result.get("latencies_ms", [])) != runs:
        raise BenchError(f"{peer} wrote {len(result.get('latencies_ms', []))} latencies, "
                         f"expected {runs}")
    return result


def split_runs(total, rounds):
    base, extra = divmod(total, rounds)
    return [base + (1 if i < extra else 0) for i in range(rounds)]


def peers_of(args):
    return ("edgeperf", "ort", "baseline") if args.baseline else ("edgeperf", "ort")


def round_order(peers, round_index):
    """ABBA for two peers; for three, each peer takes each position in turn."""
    if len(peers) == 2:
        return peers if round_index % 2 == 0 else peers[::-1]
    shift = round_index % len(peers)
    return peers[shift:] + peers[:shift]


def measure_config(args, model, input_spec, threads, work):
    samples = {peer: {"latencies_ms": [], "load_ms": [], "first_run_ms": [],
                      "peak_rss_bytes": [], "arena_bytes": [],
                      "cpus": shared_cpus(args, threads) or args.cpus}
               for peer in peers_of(args)}
    for i, runs in enumerate(split_runs(args.runs, args.rounds)):
        for peer in round_order(peers_of(args), i):
            result = run_round(args, peer, model, input_spec, threads, runs, work)
            s = samples[peer]
            s["latencies_ms"] += result["latencies_ms"]
            for key in ("load_ms", "first_run_ms", "peak_rss_bytes", "arena_bytes"):
                s[key].append(result.get(key))
    return samples


def percentile(values, q):
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def median_of(values):
    present = [v for v in values if v is not None]
    return float(np.median(present)) if present else None


def summarize(samples):
    lat = samples["latencies_ms"]
    return {"p50_ms": percentile(lat, 50), "p90_ms": percentile(lat, 90), "min_ms": min(lat),
            "runs": len(lat), "load_ms": median_of(samples["load_ms"]),
            "first_run_ms": median_of(samples["first_run_ms"]),
            "peak_rss_mib": (median_of(samples["peak_rss_bytes"]) or 0) / 2**20,
            "arena_mib": (lambda a: None if a is None else a / 2**20)(
                median_of(samples["arena_bytes"]))}


def load_average():
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def machine_description():
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


def markdown_tables(results):
    lines = ["| model | threads | edgeperf p50 ms | edgeperf p90 ms | ORT p50 ms | ORT p90 ms "
             "| ratio p50 edgeperf/ORT | target | verdict | edgeperf min ms | ORT min ms |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        e, o = r["edgeperf"], r["ort"]
        ratio = e["p50_ms"] / o["p50_ms"]
        verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
        lines.append(f"| {r['model']} | {r['threads']} | {e['p50_ms']:.3f} | {e['p90_ms']:.3f} "
                     f"| {o['p50_ms']:.3f} | {o['p90_ms']:.3f} | {ratio:.3f} "
                     f"| <= {TARGET_RATIO} | {verdict} | {e['min_ms']:.3f} | {o['min_ms']:.3f} |")
    if "baseline" in results[0]:
        lines += ["", "| model | threads | baseline p50 ms | edgeperf p50 ms | after/before p50 "
                  "| baseline p90 ms | edgeperf p90 ms | baseline/ORT p50 |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in results:
            b, e, o = r["baseline"], r["edgeperf"], r["ort"]
            lines.append(f"| {r['model']} | {r['threads']} | {b['p50_ms']:.3f} | {e['p50_ms']:.3f} "
                         f"| {e['p50_ms'] / b['p50_ms']:.3f} | {b['p90_ms']:.3f} "
                         f"| {e['p90_ms']:.3f} | {b['p50_ms'] / o['p50_ms']:.3f} |")
    lines += ["", "| model | threads | peer | load ms | first run ms | peak RSS MiB | arena MiB |",
              "|---|---|---|---|---|---|---|"]
    fmt = lambda v, spec: "n/a" if v is None else format(v, spec)  # noqa: E731
    for r in results:
        for peer in [p for p in ("edgeperf", "baseline", "ort") if p in r]:
            s = r[peer]
            lines.append(f"| {r['model']} | {r['threads']} | {peer} | {fmt(s['load_ms'], '.1f')} "
                         f"| {fmt(s['first_run_ms'], '.2f')} | {fmt(s['peak_rss_mib'], '.1f')} "
                         f"| {fmt(s['arena_mib'], '.1f')} |")
    return "\n".join(lines)


def write_atomic(path, text):
    """Writes `text` to a temporary name, syncs it, then renames it over `path`."""
    tmp = Path(str(path) + ".tmp")
    with open(tmp, "w") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="another edgeperf binary, measured as a third peer")
    parser.add_argument("--models", default=DEFAULT_MODELS)
    add_measurement_options(parser, runs=200, warmup=10, rounds=4,
                            work_dir="/tmp/edgeperf-speed-vs-ort")
    return parse_measurement_options(parser, argv)


def add_measurement_options(parser, runs, warmup, rounds, work_dir):
    """The options every peer benchmark built on measure_config takes."""
    parser.add_argument("--edgeperf", default=str(REPO / "build" / "edgeperf"))
    parser.add_argument("--node", default=shutil.which("node") or "node")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--runs", type=int, default=runs, help="timed runs per peer and config")
    parser.add_argument("--warmup", type=int, default=warmup, help="untimed runs per round")
    parser.add_argument("--rounds", type=int, default=rounds, help="alternating rounds per config")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=900, help="seconds per process")
    parser.add_argument("--work-dir", default=work_dir)
    parser.add_argument("--json", help="write the raw numbers here")
    parser.add_argument("--cpus", help="comma-separated CPUs; a config with fewer threads runs "
                        "both peers on its first ones (default: the CPUs this process may use)")


def parse_measurement_options(parser, argv):
    args = parser.parse_args(argv)
    if args.runs < 1 or args.rounds < 1 or args.rounds > args.runs or args.warmup < 0:
        parser.error("need runs >= rounds >= 1 and warmup >= 0")
    allowed = sorted(os.sched_getaffinity(0))
    try:
        args.cpus = [int(c) for c in args.cpus.split(",")] if args.cpus else allowed
    except ValueError:
        parser.error(f"--cpus: expected comma-separated CPU numbers, got {args.cpus!r}")
    if not args.cpus or any(c not in allowed for c in args.cpus):
        parser.error(f"--cpus {args.cpus}: not all of them are allowed (allowed: {allowed})")
    return args


def main(argv):
    args = parse_args(argv)
    work = Path(args.work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    machine = machine_description()
    load_at_start = load_average()
    print(f"machine: {machine}; {load_at_start} at start", flush=True)
    results, raw = [], []
    try:
        for name in args.models.split(","):
            model = work / f"{name}.onnx"
            run_checked([args.edgeperf, "zoo", name, "-o", str(model)], f"edgeperf zoo {name}", 120)
            input_spec = make_input(model, work, args.seed)
            for threads in (int(t) for t in args.threads.split(",")):
                started = time.time()
                samples = measure_config(args, model, input_spec, threads, work)
                summary = {"model": name, "threads": threads,
                           **{peer: summarize(samples[peer]) for peer in peers_of(args)}}
                results.append(summary)
                raw.append({"model": name, "threads": threads, **samples})
                print(f"measured {name} threads={threads} in {time.time() - started:.0f} s",
                      flush=True)
    except BenchError as e:
        print(f"speed_vs_ort: error: {e}", file=sys.stderr)
        return 1
    load_at_end = load_average()
    print(f"{load_at_end} at end (1, 5, 15 min)\n")
    print(markdown_tables(results))
    if args.json:
        report = {"machine": machine, "load_at_start": load_at_start,
                  "load_at_end": load_at_end, "runs": args.runs, "warmup_per_round": args.warmup,
                  "rounds": args.rounds, "target_ratio_p50": TARGET_RATIO,
                  "summary": results, "raw": raw}
        write_atomic(args.json, json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
