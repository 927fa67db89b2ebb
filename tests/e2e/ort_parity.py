#!/usr/bin/python3
"""Parity of `edgeperf run` (reference and oneDNN backends) with ONNX Runtime.

For every zoo model and the digits fixture: build seeded random inputs (or the
fixture's eval inputs), run edgeperf with each backend and ONNX Runtime
(bench/peers/ort_run.js) on the same .npy files, and require for every output
    max|edgeperf - ort| <= 1e-4 * max(1, max|ort|).
Exits 77 (skip) only when node_modules/onnxruntime-node is not installed.
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import onnx_wire  # noqa: E402

ZOO_MODELS = ["mobilenet_v2", "resnet18", "ds_cnn", "fc_autoencoder", "digits_cnn"]
BACKENDS = ["reference", "onednn"]
RELATIVE_TOLERANCE = 1e-4
SKIP_RETURN_CODE = 77
RUN_TIMEOUT_S = 300

ELEM_TYPE_TO_NUMPY = {1: np.float32, 2: np.uint8, 3: np.int8, 6: np.int32, 7: np.int64,
                      9: np.bool_, 11: np.float64}


class ParityError(Exception):
    pass


def cpu_has_vnni():
    """Whether ONNX Runtime's u8 x s8 kernels are exact here. Without VNNI (x86 with AVX2
    only) they sum pairs of products in saturating int16, exact only for 7-bit weights."""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return True  # not x86 Linux: no such kernels
    return "avx512_vnni" in flags or "avx_vnni" in flags


def run_checked(cmd, what):
    """Runs cmd; raises ParityError with its stderr's last line on failure."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ParityError(f"{what}: timed out after {RUN_TIMEOUT_S} s")
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        raise ParityError(f"{what}: exit {proc.returncode}: {lines[-1] if lines else ''}")
    return proc


def random_input(elem_type, dims, rng):
    shape = [d if isinstance(d, int) and d > 0 else 1 for d in dims]
    dtype = ELEM_TYPE_TO_NUMPY.get(elem_type)
    if dtype is None:
        raise ParityError(f"no random generator for ONNX elem_type {elem_type}")
    if dtype in (np.float32, np.float64):
        return rng.standard_normal(shape).astype(dtype)
    if dtype is np.bool_:
        return rng.integers(0, 2, shape).astype(np.bool_)
    return rng.integers(0, 8, shape).astype(dtype)


def make_random_inputs(model, work, seed):
    inputs, _ = onnx_wire.graph_io(model.read_bytes())
    rng = np.random.default_rng(seed)
    specs = []
    for name, elem_type, dims in inputs:
        path = work / f"input_{len(specs)}.npy"
        np.save(path, random_input(elem_type, dims, rng))
        specs.append((name, path))
    return specs


def fixture_inputs(model, inputs_npy):
    inputs, _ = onnx_wire.graph_io(model.read_bytes())
    if len(inputs) != 1:
        raise ParityError(f"{model}: expected one graph input, found {len(inputs)}")
    return [(inputs[0][0], inputs_npy)]


def input_flags(specs):
    flags = []
    for name, path in specs:
        flags += ["--input", f"{name}={path}"]
    return flags


def run_edgeperf(edgeperf, model, specs, out_dir, backend, threads):
    shutil.rmtree(out_dir, ignore_errors=True)
    cmd = [edgeperf, "run", str(model), *input_flags(specs), "--output-dir", str(out_dir),
           "--backend", backend, "--threads", str(threads)]
    run_checked(cmd, f"edgeperf run --backend {backend} {model.name}")


def run_ort(node, ort_run, model, specs, out_dir, threads):
    shutil.rmtree(out_dir, ignore_errors=True)
    cmd = [node, str(ort_run), str(model), *input_flags(specs), "--output-dir", str(out_dir),
           "--threads", str(threads)]
    run_checked(cmd, f"ort_run.js {model.name}")


def compare_arrays(ours, ref):
    """Returns (max|diff|, tolerance, problem or None); NaN and +-Inf must match exactly."""
    a, b = ours.astype(np.float64), ref.astype(np.float64)
    finite = np.isfinite(b)
    tolerance = RELATIVE_TOLERANCE * max(1.0, float(np.max(np.abs(b[finite]), initial=0.0)))
    if ours.shape != ref.shape:
        return float("inf"), tolerance, f"shape {list(ours.shape)} != {list(ref.shape)}"
    if ours.dtype != ref.dtype:
        return float("inf"), tolerance, f"dtype {ours.dtype} != {ref.dtype}"
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return float("inf"), tolerance, "NaN positions differ"
    infinite = np.isinf(b)
    if not np.array_equal(np.isinf(a), infinite) or not np.array_equal(a[infinite], b[infinite]):
        return float("inf"), tolerance, "infinities differ"
    diff = float(np.max(np.abs(a[finite] - b[finite]), initial=0.0))
    return diff, tolerance, None if diff <= tolerance else "too far from ORT"


def compare_dirs(ours_dir, ort_dir):
    """Yields (output name, max|diff|, tolerance, problem or None) for every ORT output."""
    ort_files = sorted(ort_dir.glob("*.npy"))
    if not ort_files:
        raise ParityError(f"ORT wrote no outputs in {ort_dir}")
    extra = sorted({p.name for p in ours_dir.glob("*.npy")} - {p.name for p in ort_files})
    if extra:
        yield extra[0][:-4], float("inf"), 0.0, "edgeperf wrote outputs ORT does not have"
    for ref_path in ort_files:
        ours_path = ours_dir / ref_path.name
        if not ours_path.exists():
            yield ref_path.stem, float("inf"), 0.0, "edgeperf wrote no such output"
            continue
        yield (ref_path.stem, *compare_arrays(np.load(ours_path), np.load(ref_path)))


class Table:
    HEADER = ("model", "backend", "output", "max|diff|", "tolerance", "verdict")

    def __init__(self):
        self.rows = []

    def add(self, model, backend, output, diff, tolerance, problem):
        verdict = "PASS" if problem is None else f"FAIL ({problem})"
        self.rows.append((model, backend, output, f"{diff:.3e}", f"{tolerance:.3e}", verdict))

    def failed(self):
        return any(not r[5].startswith("PASS") for r in self.rows)

    def print(self):
        widths = [max(len(str(r[i])) for r in [self.HEADER, *self.rows]) for i in range(6)]
        for i, row in enumerate([self.HEADER, *self.rows]):
            print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |")
            if i == 0:
                print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        sys.stdout.flush()


def check_model(ctx, table, label, model, specs, reference_logits=None):
    """Runs one model in every backend and ORT and adds its rows to the table."""
    work = ctx.work / label
    ort_dir = work / "ort"
    try:
        run_ort(ctx.node, ctx.ort_run, model, specs, ort_dir, threads=1)
    except ParityError as e:
        table.add(label, "ort", "-", float("inf"), 0.0, str(e))
        return
    if reference_logits is not None:
        ort_outputs = sorted(ort_dir.glob("*.npy"))
        ref = np.load(reference_logits)
        table.add(label, "ort-vs-fixture", ort_outputs[0].stem,
                  *compare_arrays(np.load(ort_outputs[0]), ref.astype(np.float32)))
    for backend in ctx.backends:
        ours_dir = work / backend
        try:
            run_edgeperf(ctx.edgeperf, model, specs, ours_dir, backend, ctx.threads)
        except ParityError as e:
            table.add(label, backend, "-", float("inf"), 0.0, str(e))
            continue
        try:
            for output, diff, tolerance, problem in compare_dirs(ours_dir, ort_dir):
                table.add(label, backend, output, diff, tolerance, problem)
        except (ParityError, ValueError, OSError) as e:
            table.add(label, backend, "-", float("inf"), 0.0, str(e))


def check_zoo(ctx, table, names, seed, check=None):
    """Builds each zoo model with seeded random inputs and hands it to `check`
    (check_model by default)."""
    check = check or check_model
    for name in names:
        model = ctx.work / f"{name}.onnx"
        model.parent.mkdir(parents=True, exist_ok=True)
        try:
            run_checked([ctx.edgeperf, "zoo", name, "-o", str(model)], f"edgeperf zoo {name}")
            (ctx.work / name).mkdir(parents=True, exist_ok=True)
            specs = make_random_inputs(model, ctx.work / name, seed)
        except (ParityError, ValueError, OSError) as e:
            table.add(name, "zoo", "-", float("inf"), 0.0, str(e))
            continue
        check(ctx, table, name, model, specs)


def check_digits_fixture(ctx, table, fixtures):
    model = fixtures / "digits_cnn.onnx"
    inputs = fixtures / "digits_eval_inputs.npy"
    logits = fixtures / "digits_eval_logits.npy"
    missing = [p.name for p in (model, inputs, logits) if not p.exists()]
    if missing:
        table.add("fixture:digits_cnn", "-", "-", float("inf"), 0.0,
                  f"missing {', '.join(missing)} in {fixtures}")
        return
    try:
        specs = fixture_inputs(model, inputs)
    except (ParityError, ValueError) as e:
        table.add("fixture:digits_cnn", "-", "-", float("inf"), 0.0, str(e))
        return
    check_model(ctx, table, "fixture:digits_cnn", model, specs, reference_logits=logits)


class Context:
    def __init__(self, args, source_dir):
        self.edgeperf = args.edgeperf
        self.node = args.node
        self.ort_run = source_dir / "bench" / "peers" / "ort_run.js"
        self.work = Path(args.work_dir).resolve()
        self.backends = args.backends.split(",")
        self.threads = args.threads


def ort_installed(source_dir):
    return (source_dir / "node_modules" / "onnxruntime-node" / "package.json").exists()


def parse_args(argv):
    source_default = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edgeperf", required=True, help="path to the edgeperf binary")
    parser.add_argument("--source-dir", default=str(source_default))
    parser.add_argument("--work-dir", default="/tmp/edgeperf-ort-parity")
    parser.add_argument("--node", default=shutil.which("node") or "node")
    parser.add_argument("--models", default=",".join(ZOO_MODELS),
                        help="comma-separated zoo models ('' for none)")
    parser.add_argument("--no-fixture", action="store_true", help="skip the digits fixture")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--threads", type=int, default=2, help="edgeperf threads")
    parser.add_argument("--seed", type=int, default=20261121)
    return parser.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    source_dir = Path(args.source_dir).resolve()
    if not ort_installed(source_dir):
        print("*" * 72 + "\nSKIPPED: node_modules/onnxruntime-node is not installed; "
              "run scripts/setup.sh\n" + "*" * 72, flush=True)
        return SKIP_RETURN_CODE
    ctx = Context(args, source_dir)
    shutil.rmtree(ctx.work, ignore_errors=True)
    ctx.work.mkdir(parents=True)
    table = Table()
    check_zoo(ctx, table, [m for m in args.models.split(",") if m], args.seed)
    if not args.no_fixture:
        check_digits_fixture(ctx, table, source_dir / "models" / "fixtures")
    table.print()
    if not table.rows or table.failed():
        print("ort_parity: FAILED", flush=True)
        return 1
    print(f"ort_parity: all {len(table.rows)} outputs within tolerance", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


# ---- for scripts checking hand-written models (opset_parity.py, ops_parity.py) ----

def run_cmd(cmd, what):
    return run_checked([str(c) for c in cmd], what)


def check_outputs(ours_dir, ort_dir, what, failures):
    """Prints one line per ORT output and appends each problem to `failures`."""
    for name, diff, tolerance, problem in compare_dirs(Path(ours_dir), Path(ort_dir)):
        status = "FAIL" if problem else "ok  "
        print(f"{status}  {what}: {name} max|diff| {diff:.3g} (bound {tolerance:.3g})"
              + (f": {problem}" if problem else ""))
        if problem:
            failures.append(f"{what}: {name}: {problem} (max|diff| {diff:.3g})")


def parse_parity_args():
    """--edgeperf, --node, --source-dir, --work-dir (emptied). Returns the arguments and
    bench/peers/ort_run.js, or None for it when onnxruntime-node is not installed."""
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


def report_failures(failures):
    if failures:
        print(f"\n{len(failures)} failure(s):\n" + "\n".join(failures))
        return 1
    print("\nall checks passed")
    return 0
