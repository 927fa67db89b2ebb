#!/usr/bin/python3
"""Summarizes ONNX Runtime's own profile (ort_run.js --profile PREFIX) like `edgeperf run
--profile`: per node and per op type, the mean time per run over the last --runs model runs
(the earlier ones are the first run and warm-up), the share of the run, slowest first.

  ort_profile.py PROFILE.json [--runs N] [--top K]
"""

import argparse
import collections
import json
import sys


def node_events_per_run(events):
    """Node kernel events grouped by the model_run span that contains them."""
    runs = sorted((e for e in events if e.get("cat") == "Session" and e["name"] == "model_run"),
                  key=lambda e: e["ts"])
    nodes = [e for e in events if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")]
    grouped = []
    for run in runs:
        end = run["ts"] + run["dur"]
        grouped.append((run, [n for n in nodes if run["ts"] <= n["ts"] <= end]))
    return grouped


def summarize(grouped, top):
    count = len(grouped)
    run_us = sum(run["dur"] for run, _ in grouped) / count
    by_node = collections.defaultdict(float)
    op_of = {}
    for _, nodes in grouped:
        for n in nodes:
            name = n["name"][: -len("_kernel_time")]
            by_node[name] += n["dur"] / count
            op_of[name] = n["args"].get("op_name", "?")
    by_op = collections.defaultdict(float)
    for name, us in by_node.items():
        by_op[op_of[name]] += us
    lines = [f"ORT profile over {count} runs: mean run {run_us / 1000:.3f} ms, "
             f"nodes sum {sum(by_node.values()) / 1000:.3f} ms", "",
             "  mean ms  share  op                    node"]
    for name, us in sorted(by_node.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {us / 1000:7.3f} {100 * us / run_us:5.1f}%  {op_of[name]:20s}  {name}")
    lines += ["", "  mean ms  share  op type"]
    for op, us in sorted(by_op.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {us / 1000:7.3f} {100 * us / run_us:5.1f}%  {op}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile")
    parser.add_argument("--runs", type=int, default=10, help="last N model runs (default 10)")
    parser.add_argument("--top", type=int, default=30, help="nodes listed (default 30)")
    args = parser.parse_args()
    try:
        with open(args.profile, encoding="utf-8") as f:
            events = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"ort_profile: {args.profile}: {e}")
    grouped = node_events_per_run(events)
    if not grouped:
        sys.exit(f"ort_profile: {args.profile}: no model_run events (not an ORT profile?)")
    print(summarize(grouped[-max(1, args.runs):], args.top))


if __name__ == "__main__":
    main()
