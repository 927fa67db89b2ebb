#!/usr/bin/python3
"""Whole-model check of edgeperf's own int8 kernels (depthwise u8, input quantize).

The zoo's MobileNetV2 is quantized statically (per-channel, calibrated on seeded random
images) by `edgeperf quantize`, then run three ways on the same images: the oneDNN
backend with our kernels (the default), with oneDNN's kernels only, and the reference
backend (the oracle). Our kernels must agree with the reference at least as well as
oneDNN's own int8 kernels do, and the logits must stay within 2% of their range.
"""
import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quant_e2e import run  # noqa: E402


def logits(edgeperf, model, image, out_dir, *flags):
    shutil.rmtree(out_dir, ignore_errors=True)
    run([edgeperf, "run", model, "--input", f"input={image}", "--output-dir", out_dir,
         "--threads", "2", "--no-thread-tuning", *flags])
    outputs = sorted(Path(out_dir).glob("*.npy"))
    if len(outputs) != 1:
        raise RuntimeError(f"expected one output in {out_dir}, got {outputs}")
    return np.load(outputs[0]).astype(np.float64)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--images", type=int, default=2)
    args = parser.parse_args()
    work = Path(args.work_dir).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    model, quantized = work / "mobilenet_v2.onnx", work / "mobilenet_v2_int8.onnx"
    run([args.edgeperf, "zoo", "mobilenet_v2", "-o", model])
    rng = np.random.default_rng(3)
    calib = rng.normal(0.0, 1.0, (8, 3, 224, 224)).astype(np.float32)
    np.save(work / "calib.npy", calib)
    run([args.edgeperf, "quantize", model, "-o", quantized, "--mode", "static", "--per-channel",
         "--calib", work / "calib.npy"])
    failures = []
    for index in range(args.images):
        image = work / f"image{index}.npy"
        np.save(image, rng.normal(0.0, 1.0, (1, 3, 224, 224)).astype(np.float32))
        ours = logits(args.edgeperf, quantized, image, work / "ours", "--backend", "onednn")
        onednn = logits(args.edgeperf, quantized, image, work / "onednn", "--backend", "onednn",
                        "--onednn-kernels-only")
        reference = logits(args.edgeperf, quantized, image, work / "ref", "--backend",
                           "reference")
        spread = float(np.ptp(reference))
        ours_error = float(np.max(np.abs(ours - reference)))
        onednn_error = float(np.max(np.abs(onednn - reference)))
        print(f"image {index}: logits range {spread:.4f}; max |diff| vs reference: ours "
              f"{ours_error:.5f}, oneDNN only {onednn_error:.5f}")
        if ours_error > 0.02 * spread:
            failures.append(f"image {index}: ours off by {ours_error:.5f} > 2% of {spread:.4f}")
        if ours_error > 1.5 * onednn_error + 0.002 * spread:
            failures.append(f"image {index}: ours off by {ours_error:.5f}, oneDNN's kernels "
                            f"by {onednn_error:.5f}")
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
