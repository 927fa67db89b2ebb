"""Shared setup of the quantization e2e tests (quant_accuracy.py, quant_interop.py)."""
import argparse
import shutil
import subprocess
from pathlib import Path

import numpy as np

TIMEOUT_S = 600
SKIP_RETURN_CODE = 77


def run(cmd):
    """Runs cmd (items may be Paths); raises RuntimeError with the tail of stderr on failure."""
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=TIMEOUT_S)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))}: exit {proc.returncode}: "
                           f"{proc.stderr.strip()[-600:]}")
    return proc.stdout


def parse_args(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--node", default="node")
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    return parser.parse_args()


def prepare(args):
    """(source, work, fixtures, models) with `models` mapping each bundled fixture to its
    eval inputs (digits_mlp takes them flattened); None when onnxruntime-node is absent."""
    source, work = Path(args.source_dir), Path(args.work_dir).resolve()
    if not (source / "node_modules/onnxruntime-node").is_dir():
        print("SKIP: node_modules/onnxruntime-node is absent (run scripts/setup.sh)")
        return None
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    fixtures = source / "models/fixtures"
    eval_inputs = np.load(fixtures / "digits_eval_inputs.npy")
    np.save(work / "mlp_eval_inputs.npy", eval_inputs.reshape(len(eval_inputs), 64))
    models = {"digits_cnn": fixtures / "digits_eval_inputs.npy",
              "digits_mlp": work / "mlp_eval_inputs.npy"}
    return source, work, fixtures, models
