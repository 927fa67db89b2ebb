#!/usr/bin/python3
"""Parity of every suite model with ONNX Runtime 1.30, and its round trip through edgeperf.

For each model of DIR/manifest.json (bench/suite/build_suite.py) and each of its input
shapes: seeded inputs, ORT's outputs (bench/peers/ort_run.js), then `edgeperf run
--backend auto` at each --threads count; every output must satisfy
    max|edgeperf - ort| <= 1e-4 * max(1, max|ort|).
Round trip: `edgeperf optimize --passes dce` (import and export, at the model's own opset)
must still run in ORT with the same outputs. Prints one table row per check, writes
--json, and exits 1 on any failure (77 when onnxruntime-node is not installed).

  parity.py --suite DIR --edgeperf BIN [--threads 1,2] [--only ID ...] [--json FILE]
"""

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
TOLERANCE = 1e-4
TIMEOUT_S = 900


class CheckError(Exception):
    pass


def run(cmd, what):
    start = time.perf_counter()
    try:
        proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise CheckError(f"{what}: timed out after {TIMEOUT_S} s")
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        raise CheckError(f"{what}: exit {proc.returncode}: {lines[-1][:300] if lines else ''}")
    return (time.perf_counter() - start) * 1000


def outputs(directory):
    return {p.stem: np.load(p) for p in sorted(Path(directory).glob("*.npy"))}


def worst_difference(expected, actual):
    """(max|diff| / bound over the outputs, max|diff|, bound) of the worst output."""
    worst = (0.0, 0.0, 1.0)
    for name, ref in expected.items():
        if name not in actual:
            raise CheckError(f"output '{name}' is missing")
        got = actual[name]
        if got.shape != ref.shape:
            raise CheckError(f"output '{name}' has shape {got.shape}, ORT {ref.shape}")
        if ref.size == 0:
            continue
        diff = float(np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64))))
        bound = TOLERANCE * max(1.0, float(np.max(np.abs(ref.astype(np.float64)))))
        if diff / bound > worst[0] / worst[2] or worst == (0.0, 0.0, 1.0):
            worst = (diff, diff, bound)
    return worst[1], worst[2]


def make_inputs(model, shape, work, seed):
    """One seeded input for the model's single input, as a .npy file."""
    rng = np.random.default_rng(seed)
    data = rng.random(shape, dtype=np.float32) if len(shape) == 3 else rng.standard_normal(shape).astype(np.float32)
    path = work / f"{model}_{'x'.join(map(str, shape))}.npy"
    np.save(path, data)
    return ["--input", f"x={path}"]


def check_model(entry, args, work, ort_run):
    rows = []
    model = args.suite / entry["file"]
    for index, shape in enumerate(entry["shapes"]):
        flags = make_inputs(entry["id"], shape, work, seed=index + 1)
        tag = f"{entry['id']}_{index}"
        ort_dir = work / f"{tag}_ort"
        base = {"model": entry["id"], "family": entry["family"], "opset": entry["opset"],
                "shape": "x".join(map(str, shape))}
        try:
            ort_ms = run(["node", ort_run, model, *flags, "--output-dir", ort_dir], "ORT")
            expected = outputs(ort_dir)
        except CheckError as error:
            rows.append({**base, "check": "ORT", "status": "ORT-FAIL", "detail": str(error)})
            continue
        for threads in args.threads:
            row = {**base, "check": f"auto {threads}t", "ort_ms": ort_ms}
            try:
                out_dir = work / f"{tag}_ep{threads}"
                row["edgeperf_ms"] = run([args.edgeperf, "run", model, *flags, "--backend", "auto",
                                          "--threads", threads, "--output-dir", out_dir], "edgeperf")
                diff, bound = worst_difference(expected, outputs(out_dir))
                row.update(max_abs_diff=diff, bound=bound, status="ok" if diff <= bound else "DIFF")
            except CheckError as error:
                row.update(status="FAIL", detail=str(error))
            rows.append(row)
        if index == 0:
            row = {**base, "check": "round trip (ORT)"}
            try:
                exported = work / f"{entry['id']}_roundtrip.onnx"
                run([args.edgeperf, "optimize", model, "-o", exported, "--passes", "dce"], "export")
                trip_dir = work / f"{tag}_trip"
                run(["node", ort_run, exported, *flags, "--output-dir", trip_dir], "ORT on the export")
                diff, bound = worst_difference(expected, outputs(trip_dir))
                row.update(max_abs_diff=diff, bound=bound, status="ok" if diff <= bound else "DIFF")
                exported.unlink()
            except CheckError as error:
                row.update(status="FAIL", detail=str(error))
            rows.append(row)
    return rows


def print_row(row):
    diff = f"{row['max_abs_diff']:.2e}" if "max_abs_diff" in row else "-"
    bound = f"{row['bound']:.1e}" if "bound" in row else "-"
    ep = f"{row['edgeperf_ms']:.0f}" if "edgeperf_ms" in row else "-"
    ort = f"{row['ort_ms']:.0f}" if "ort_ms" in row else "-"
    print(f"| {row['model']} | {row['family']} | {row['opset']} | {row['shape']} | {row['check']} | "
          f"{diff} | {bound} | {row['status']} | {ep} | {ort} | {row.get('detail', '')} |", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--suite", required=True, type=Path)
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--only", nargs="*", default=[])
    parser.add_argument("--skip-sources", action="store_true",
                        help="skip models built only as sources of variants (the CI set)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--work-dir", type=Path)
    args = parser.parse_args()
    args.threads = [int(t) for t in args.threads.split(",")]
    if not (REPO / "node_modules" / "onnxruntime-node" / "package.json").exists():
        print("SKIPPED: node_modules/onnxruntime-node is not installed")
        return 77
    manifest = json.loads((args.suite / "manifest.json").read_text())
    work = args.work_dir or args.suite / "parity_work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ort_run = REPO / "bench" / "peers" / "ort_run.js"
    print("| model | family | opset | input | check | max abs diff | bound | status | edgeperf ms "
          "(process) | ORT ms (process) | detail |\n|---|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for entry in manifest:
        if args.only and entry["id"] not in args.only:
            continue
        if args.skip_sources and entry.get("ci_only_source"):
            continue
        if "build_error" in entry:
            rows.append({"model": entry["id"], "family": entry["family"], "opset": entry["opset"],
                         "shape": "-", "check": "build", "status": "BUILD-FAIL",
                         "detail": entry["build_error"]})
            print_row(rows[-1])
            continue
        for row in check_model(entry, args, work, ort_run):
            rows.append(row)
            print_row(row)
    failed = [r for r in rows if r["status"] != "ok"]
    models = {r["model"] for r in rows}
    bad_models = {r["model"] for r in failed}
    print(f"\n{len(models) - len(bad_models)} of {len(models)} models pass every check; "
          f"{len(failed)} failing checks")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "tolerance": TOLERANCE}, indent=1) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
