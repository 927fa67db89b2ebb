#!/usr/bin/env python3
"""Peers for `edgeperf vecbench`: NumPy (and PyTorch when importable) on the same sizes.

Each peer generates its own data with the same distribution as edgeperf (multiply: f32
uniform in [0.5, 1.5); groupby: keys uniform in [0, groups), f64 values uniform in [0, 1)),
touches it before timing, and times only the operation: one warm-up, then `repeats` runs.
Prints one JSON object per line: {"peer", "op", "method", "best_ms", "median_ms"} or
{"peer", "skipped": reason}.
"""
import argparse
import json
import statistics
import time


def measure(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return min(times), statistics.median(times)


def emit(peer, op, method, timing):
    best, median = timing
    print(json.dumps({"peer": peer, "op": op, "method": method, "best_ms": best,
                      "median_ms": median}), flush=True)


def run_numpy(args):
    import numpy as np
    rng = np.random.default_rng(1)
    if args.n > 0:
        a = (rng.random(args.n, dtype=np.float32) + np.float32(0.5))
        b = (rng.random(args.n, dtype=np.float32) + np.float32(0.5))
        out = np.ones_like(a)
        emit("numpy", "multiply", "NumPy a * b", measure(lambda: a * b, args.repeats))
        emit("numpy", "multiply", "NumPy multiply(out=)",
             measure(lambda: np.multiply(a, b, out=out), args.repeats))
        del a, b, out
    if args.rows > 0:
        # int64 keys: bincount's native index type (int32 would add a conversion per call).
        keys = rng.integers(0, args.groups, args.rows, dtype=np.int64)
        values = rng.random(args.rows)

        def bincount_mean():
            sums = np.bincount(keys, weights=values, minlength=args.groups)
            counts = np.bincount(keys, minlength=args.groups)
            return sums / counts

        emit("numpy", "groupby_mean", "NumPy bincount", measure(bincount_mean, args.repeats))


def run_torch(args):
    try:
        import torch
    except Exception as error:  # absent or broken install: report, do not fail the run
        print(json.dumps({"peer": "torch", "skipped": f"not importable: {error}"}), flush=True)
        return
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(2)
    if args.n > 0:
        a = torch.rand(args.n, generator=gen, dtype=torch.float32) + 0.5
        b = torch.rand(args.n, generator=gen, dtype=torch.float32) + 0.5
        out = torch.ones_like(a)
        emit("torch", "multiply", "PyTorch a * b", measure(lambda: a * b, args.repeats))
        emit("torch", "multiply", "PyTorch mul(out=)",
             measure(lambda: torch.mul(a, b, out=out), args.repeats))
        del a, b, out
    if args.rows > 0:
        keys = torch.randint(0, args.groups, (args.rows,), generator=gen, dtype=torch.int64)
        values = torch.rand(args.rows, generator=gen, dtype=torch.float64)

        def index_add_mean():
            sums = torch.zeros(args.groups, dtype=torch.float64).index_add_(0, keys, values)
            counts = torch.bincount(keys, minlength=args.groups)
            return sums / counts

        emit("torch", "groupby_mean", "PyTorch index_add_", measure(index_add_mean, args.repeats))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50_000_000)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    try:
        run_numpy(args)
    except ImportError as error:
        print(json.dumps({"peer": "numpy", "skipped": f"not importable: {error}"}), flush=True)
    run_torch(args)


if __name__ == "__main__":
    main()
