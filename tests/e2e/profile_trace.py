#!/usr/bin/python3
"""`--profile` and `--trace` on `run` and `bench`.

- The profile's rows (one per step, or per op of a oneDNN region) sum to within 10% of
  the profiled runs' mean wall time; it names the slowest node; MAC-carrying rows have
  GMAC/s; every row has a kind, shapes where the step has them, and a share.
- The trace is Chrome trace-event JSON as Perfetto reads it: every event has name, ph,
  pid, tid; complete events ("X") have ts and dur >= 0; metadata ("M") names the
  process and tracks; on each track the events are in time order and nest (an event
  starting inside another ends inside it); the session's load, plan and first run are
  spans of their own.
"""

import argparse
import json
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

TIMEOUT_S = 600
REQUIRED = {"X": ("name", "ph", "ts", "dur", "pid", "tid"), "M": ("name", "ph", "pid", "tid", "args")}


def validate_trace(trace):
    """Returns a list of problems with a Chrome trace-event file (empty when valid)."""
    problems = []
    events = trace.get("traceEvents") if isinstance(trace, dict) else None
    if not isinstance(events, list) or not events:
        return ["no traceEvents array"]
    tracks = defaultdict(list)
    for i, event in enumerate(events):
        phase = event.get("ph")
        if phase not in REQUIRED:
            problems.append(f"event {i}: phase {phase!r} is not X or M")
            continue
        missing = [key for key in REQUIRED[phase] if key not in event]
        if missing:
            problems.append(f"event {i} ({event.get('name')}): missing {missing}")
            continue
        if phase == "M":
            if event["name"] not in ("process_name", "thread_name") or "name" not in event["args"]:
                problems.append(f"event {i}: metadata {event['name']} without args.name")
            continue
        if not isinstance(event["ts"], (int, float)) or event["dur"] < 0:
            problems.append(f"event {i} ({event['name']}): bad ts/dur {event['ts']}/{event['dur']}")
            continue
        tracks[(event["pid"], event["tid"])].append(event)
    for track, track_events in tracks.items():
        open_ends = []
        last_ts = float("-inf")
        for event in track_events:
            start, end = event["ts"], event["ts"] + event["dur"]
            if start < last_ts:
                problems.append(f"track {track}: {event['name']} at {start} goes back in time")
            last_ts = start
            while open_ends and start >= open_ends[-1] - 1e-3:
                open_ends.pop()
            if open_ends and end > open_ends[-1] + 1e-3:
                problems.append(f"track {track}: {event['name']} [{start}, {end}] overlaps its "
                                f"enclosing span ending at {open_ends[-1]}")
            open_ends.append(end)
    return problems


def run(cmd):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=TIMEOUT_S)
    if proc.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(map(str, cmd))}: exit {proc.returncode}: {proc.stderr}")
    return proc


def check_profile(profile, what, failures):
    rows = profile["rows"]
    total = profile["rows_sum_ms"]
    measured = profile["profiled_run_mean_ms"]
    ratio = total / measured if measured > 0 else 0
    ok = 0.9 <= ratio <= 1.1
    print(f"{'ok  ' if ok else 'FAIL'}  {what}: rows sum {total:.3f} ms vs run mean {measured:.3f} ms "
          f"({ratio:.3f}); slowest {profile['slowest']}; overhead "
          f"{profile.get('overhead_percent', float('nan')):+.1f}%")
    if not ok:
        failures.append(f"{what}: rows sum / run mean = {ratio:.3f}")
    if not rows or profile["slowest"] != rows[0]["label"]:
        failures.append(f"{what}: the slowest row is not named")
    if any(row["mean_ms"] > rows[0]["mean_ms"] for row in rows):
        failures.append(f"{what}: rows are not sorted slowest first")
    with_macs = [row for row in rows if row["macs"] > 0]
    if not with_macs or any(row["gmacs_per_s"] is None for row in with_macs):
        failures.append(f"{what}: MAC rows without GMAC/s")
    if abs(sum(row["share"] for row in rows) - 1) > 1e-6:
        failures.append(f"{what}: shares do not add up to 1")
    if not profile["by_op_type"]:
        failures.append(f"{what}: no by-op-type grouping")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--work-dir", required=True, type=Path)
    args = parser.parse_args()
    shutil.rmtree(args.work_dir, ignore_errors=True)
    args.work_dir.mkdir(parents=True)
    failures = []
    model = args.work_dir / "ds_cnn.onnx"
    run([args.edgeperf, "zoo", "ds_cnn", "-o", model])
    for backend in ("auto", "reference"):
        trace_path = args.work_dir / f"run_{backend}.json"
        proc = run([args.edgeperf, "run", model, "--backend", backend, "--threads", "1",
                    "--repeat", "20", "--profile", "--trace", trace_path])
        if "slowest first" not in proc.stdout or "by op type:" not in proc.stdout:
            failures.append(f"run --profile ({backend}) printed no profile table")
        trace = json.loads(trace_path.read_text())
        problems = validate_trace(trace)
        names = {event["name"] for event in trace["traceEvents"]}
        for span in ("load model", "create session and plan", "first run"):
            if span not in names:
                problems.append(f"no '{span}' span")
        steps = [e for e in trace["traceEvents"] if e.get("cat") in ("step", "op")]
        if len(steps) < 20:
            problems.append(f"only {len(steps)} step events")
        print(f"{'ok  ' if not problems else 'FAIL'}  trace of run --backend {backend}: "
              f"{len(trace['traceEvents'])} events {problems[:3]}")
        failures += problems

    report_path, trace_path = args.work_dir / "bench.json", args.work_dir / "bench_trace.json"
    run([args.edgeperf, "bench", model, model, "--backend", "auto", "--threads", "1,2", "--runs", "20",
         "--warmup", "2", "--profile", "--trace", trace_path, "--json", report_path,
         "--md", args.work_dir / "bench.md"])
    report = json.loads(report_path.read_text())
    for m in report["models"]:
        check_profile(m["profile"], f"bench --profile {m['label']}", failures)
    problems = validate_trace(json.loads(trace_path.read_text()))
    pids = {e["pid"] for e in json.loads(trace_path.read_text())["traceEvents"]}
    if len(pids) != len(report["models"]):
        problems.append(f"{len(pids)} trace processes for {len(report['models'])} models")
    print(f"{'ok  ' if not problems else 'FAIL'}  bench --trace: {problems[:3]}")
    failures += problems
    if "## Profile:" not in (args.work_dir / "bench.md").read_text():
        failures.append("the Markdown report has no profile section")

    row = run([args.edgeperf, "sysinfo"]).stdout.strip().splitlines()[-1]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    if len(cells) != 12 or any(cell in ("", "-") for cell in cells) or "GHz" not in cells[10]:
        failures.append(f"sysinfo's device-profiling row has placeholders: {row}")

    broken = {"traceEvents": [{"name": "a", "ph": "X", "ts": 5, "dur": 10, "pid": 1, "tid": 1},
                              {"name": "b", "ph": "X", "ts": 8, "dur": 10, "pid": 1, "tid": 1},
                              {"name": "c", "ph": "X", "ts": 2, "dur": 1, "pid": 1, "tid": 1},
                              {"name": "d", "ph": "B", "pid": 1, "tid": 1}]}
    if len(validate_trace(broken)) < 3:
        failures.append("the trace validator accepts a broken trace")
    if failures:
        print("\n".join(["", f"{len(failures)} failure(s):"] + failures[:20]))
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
