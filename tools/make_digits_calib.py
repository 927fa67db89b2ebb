#!/usr/bin/env python3
"""Writes the digits calibration set: the first N images of the training split; with
--train-dir, also the whole training split with its labels (DIR/train_inputs.npy and
DIR/train_labels.npy: what `edgeperf qat --train` learns from; never committed).

Calibration for static quantization must not see the held-out evaluation images,
so this takes them from the same training split tools/train_digits.py trains on
(same data, same split function and seed). Needs Debian's python3-sklearn.

    /usr/bin/python3 tools/make_digits_calib.py --out models/fixtures --count 256
    /usr/bin/python3 tools/make_digits_calib.py --out models/fixtures --train-dir build/digits
"""
import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from train_digits import atomic_write, load_split  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--count", type=int, default=256)
    parser.add_argument("--train-dir", type=pathlib.Path)
    args = parser.parse_args()
    train_x, _, train_y, _ = load_split()
    if args.train_dir:
        args.train_dir.mkdir(parents=True, exist_ok=True)
        for name, values in [("train_inputs.npy", train_x), ("train_labels.npy", train_y)]:
            path = args.train_dir / name
            atomic_write(path, lambda file, v=values: np.save(file, np.ascontiguousarray(v), allow_pickle=False))
            print(f"wrote {path}: {values.dtype} {list(values.shape)}")
    calib = np.ascontiguousarray(train_x[: args.count])
    path = args.out / "digits_calib_inputs.npy"
    atomic_write(path, lambda file: np.save(file, calib, allow_pickle=False))
    print(f"wrote {path}: {calib.dtype} {list(calib.shape)}")


if __name__ == "__main__":
    main()
