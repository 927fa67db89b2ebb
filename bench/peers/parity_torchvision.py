#!/usr/bin/python3
"""Parity of edgeperf (reference and oneDNN backends) with ONNX Runtime on torchvision exports.

Runs tools/export_torchvision.py into --models-dir unless it already holds the
models (or --no-export), then applies tests/e2e/ort_parity.py's check to every
*.onnx there with a seeded random input:
    max|edgeperf - ort| <= 1e-4 * max(1, max|ort|) for every output.

  bench/peers/parity_torchvision.py --edgeperf build/edgeperf [--models-dir /tmp/edgeperf-tv]
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import ort_parity  # noqa: E402


def export_models(models_dir, opsets):
    cmd = [sys.executable, str(REPO / "tools" / "export_torchvision.py"), "--out-dir",
           str(models_dir), "--opsets", opsets]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise SystemExit(f"parity_torchvision: error: export failed: {lines[-1] if lines else ''}")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edgeperf", default=str(REPO / "build" / "edgeperf"))
    parser.add_argument("--node", default=shutil.which("node") or "node")
    parser.add_argument("--models-dir", default="/tmp/edgeperf-tv")
    parser.add_argument("--work-dir", default="/tmp/edgeperf-tv-parity")
    parser.add_argument("--opsets", default="13,17")
    parser.add_argument("--no-export", action="store_true", help="use the models as they are")
    parser.add_argument("--backends", default=",".join(ort_parity.BACKENDS))
    parser.add_argument("--threads", type=int, default=2, help="edgeperf threads")
    parser.add_argument("--seed", type=int, default=20261121)
    args = parser.parse_args(argv)
    if not ort_parity.ort_installed(REPO):
        print("parity_torchvision: error: node_modules/onnxruntime-node is missing; "
              "run scripts/setup.sh", file=sys.stderr)
        return 2
    models_dir = Path(args.models_dir)
    if not args.no_export and not any(models_dir.glob("*.onnx")):
        export_models(models_dir, args.opsets)
    models = sorted(models_dir.glob("*.onnx"))
    if not models:
        print(f"parity_torchvision: error: no .onnx models in {models_dir}", file=sys.stderr)
        return 2

    ctx = ort_parity.Context(args, REPO)
    shutil.rmtree(ctx.work, ignore_errors=True)
    ctx.work.mkdir(parents=True)
    table = ort_parity.Table()
    for model in models:
        work = ctx.work / model.stem
        work.mkdir(parents=True)
        specs = ort_parity.make_random_inputs(model, work, args.seed)
        ort_parity.check_model(ctx, table, model.stem, model, specs)
    table.print()
    if table.failed():
        print("parity_torchvision: FAILED", flush=True)
        return 1
    print(f"parity_torchvision: all {len(table.rows)} outputs within tolerance", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
