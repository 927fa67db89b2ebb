"""What the hand-written-model parity scripts share: running commands, reading outputs,
comparing them with ONNX Runtime's within 1e-4 * max(1, max|ref|), and their arguments."""

import argparse
import shutil
import subprocess
from pathlib import Path

import numpy as np

TOLERANCE = 1e-4
SKIP = 77  # ctest's skip code: only when onnxruntime-node is not installed


def run(cmd, what):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"{what}: exit {proc.returncode}: {proc.stderr.strip()[-400:]}")
    return proc


def outputs_in(directory):
    return {p.stem: np.load(p) for p in sorted(Path(directory).glob("*.npy"))}


def compare(expected, actual, what, failures):
    for name, ref in expected.items():
        got = actual.get(name)
        if got is None or got.shape != ref.shape:
            failures.append(f"{what}: {name} is {None if got is None else got.shape}, ORT {ref.shape}")
            print(f"FAIL  {failures[-1]}")
            continue
        diff = float(np.max(np.abs(got.astype(np.float64) - ref))) if ref.size else 0.0
        bound = TOLERANCE * max(1.0, float(np.max(np.abs(ref))) if ref.size else 1.0)
        status = "ok  " if diff <= bound else "FAIL"
        print(f"{status}  {what}: {name} {list(ref.shape)} max|diff| {diff:.3g} (bound {bound:.3g})")
        if diff > bound:
            failures.append(f"{what}: {name} max|diff| {diff:.3g} > {bound:.3g}")


def parse_args():
    """--edgeperf, --node, --source-dir, --work-dir; the work dir is emptied. Returns the
    arguments and the ORT runner script, or None for the runner when ORT is not installed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--node", default="node")
    parser.add_argument("--source-dir", required=True, type=Path)
    parser.add_argument("--work-dir", required=True, type=Path)
    args = parser.parse_args()
    if not (args.source_dir / "node_modules" / "onnxruntime-node" / "package.json").exists():
        print("SKIPPED: node_modules/onnxruntime-node is not installed")
        return args, None
    shutil.rmtree(args.work_dir, ignore_errors=True)
    args.work_dir.mkdir(parents=True)
    return args, args.source_dir / "bench" / "peers" / "ort_run.js"


def report(failures):
    if failures:
        print(f"\n{len(failures)} failure(s):\n" + "\n".join(failures))
        return 1
    print("\nall checks passed")
    return 0
