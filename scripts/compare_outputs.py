#!/usr/bin/python3
"""Compares two directories of .npy outputs: max|diff| <= rtol * max(1, max|ref|)."""
import argparse
import pathlib
import sys

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("reference")
    parser.add_argument("candidate")
    parser.add_argument("--rtol", type=float, default=1e-4)
    args = parser.parse_args()
    reference_dir, candidate_dir = pathlib.Path(args.reference), pathlib.Path(args.candidate)
    files = sorted(reference_dir.glob("*.npy"))
    if not files:
        print(f"compare: no .npy files in {reference_dir}", file=sys.stderr)
        return 2
    ok = True
    for ref_file in files:
        cand_file = candidate_dir / ref_file.name
        if not cand_file.exists():
            print(f"compare: {cand_file} is missing", file=sys.stderr)
            return 2
        ref, cand = np.load(ref_file), np.load(cand_file)
        if ref.shape != cand.shape:
            print(f"{ref_file.stem}: shape {cand.shape} != {ref.shape}  FAIL")
            ok = False
            continue
        diff = float(np.max(np.abs(ref.astype(np.float64) - cand.astype(np.float64)))) if ref.size else 0.0
        tolerance = args.rtol * max(1.0, float(np.max(np.abs(ref))) if ref.size else 1.0)
        verdict = "ok" if diff <= tolerance else "FAIL"
        ok = ok and diff <= tolerance
        print(f"{ref_file.stem}: max|diff| {diff:.3e} (tolerance {tolerance:.3e})  {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
