#!/usr/bin/python3
"""Accuracy on the trained fixtures (digits_cnn; the keyword-spotting DS-CNN, whose eval
set is held-out speakers): `edgeperf bench --data` and `edgeperf tinyperf --task kws`
count exactly the correct predictions ONNX Runtime makes over the same eval set."""
import argparse
import json
import pathlib
import subprocess
import sys

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--node", default="node")
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    args = parser.parse_args()
    source, work = pathlib.Path(args.source_dir), pathlib.Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    if not (source / "node_modules/onnxruntime-node").is_dir():
        print("SKIP: node_modules/onnxruntime-node is absent (run scripts/setup.sh)")
        return 77
    fixtures = source / "models/fixtures"
    failures = 0
    checks = 0
    for model, prefix in [("digits_cnn", "digits_eval"), ("kws_dscnn", "kws_eval")]:
        checks += 1
        inputs = f"{prefix}_inputs.npy"
        labels = np.load(fixtures / f"{prefix}_labels.npy")
        subprocess.run([args.node, str(source / "bench/peers/ort_run.js"), str(fixtures / f"{model}.onnx"),
                        "--input", f"input={fixtures / inputs}", "--output-dir", str(work / f"ort_{model}"),
                        "--threads", "1"], check=True, capture_output=True)
        logits = np.load(work / f"ort_{model}" / "logits.npy")
        ort_correct = int((logits.argmax(axis=1) == labels).sum())
        subprocess.run([args.edgeperf, "bench", str(fixtures / f"{model}.onnx"), "--runs", "10", "--warmup", "1",
                        "--data", str(fixtures / prefix), "--json", str(work / f"{model}.json")],
                       check=True, capture_output=True)
        accuracy = json.load(open(work / f"{model}.json"))["models"][0]["accuracy"]
        ok = accuracy["top1_correct"] == ort_correct and accuracy["samples"] == len(labels)
        failures += not ok
        print(f"{model}: edgeperf {accuracy['top1_correct']}/{accuracy['samples']} correct, "
              f"ONNX Runtime {ort_correct}/{len(labels)}: {'ok' if ok else 'FAIL'}")
    # tinyperf reports the same count for the KWS task, and the task's 90% target.
    checks += 1
    subprocess.run([args.edgeperf, "tinyperf", "--task", "kws", str(fixtures / "kws_dscnn.onnx"),
                    "--data", str(fixtures / "kws_eval"), "--runs", "20", "--json", str(work / "kws.json")],
                   check=True, capture_output=True)
    report = json.loads((work / "kws.json").read_text())
    measured = report["measured"]
    ok = (measured["samples"] == len(labels) and report["verdicts"]["accuracy"] == "pass" and
          abs(measured["accuracy_pct"] - 100.0 * ort_correct / len(labels)) < 1e-9)
    failures += not ok
    print(f"tinyperf --task kws: {'ok' if ok else 'FAIL'} (ONNX Runtime {ort_correct} correct)")
    # A w4a8 model (--weight-bits 4: a 4-bit weight grid held in int8 QDQ) and a w3a8 one:
    # edgeperf's int8 run and ONNX Runtime count the same correct predictions.
    for bits in (4, 3):
        checks += 1
        quantized = work / f"kws_w{bits}a8.onnx"
        subprocess.run([args.edgeperf, "quantize", str(fixtures / "kws_dscnn.onnx"), "-o", str(quantized),
                        "--mode", "static", "--per-channel", "--weight-bits", str(bits),
                        "--calib", str(fixtures / "kws_calib_inputs.npy")], check=True, capture_output=True)
        subprocess.run([args.node, str(source / "bench/peers/ort_run.js"), str(quantized), "--input",
                        f"input={fixtures / 'kws_eval_inputs.npy'}", "--output-dir", str(work / f"ort_w{bits}"),
                        "--threads", "1"], check=True, capture_output=True)
        ort_correct = int((np.load(work / f"ort_w{bits}" / "logits.npy").argmax(axis=1) == labels).sum())
        subprocess.run([args.edgeperf, "bench", str(quantized), "--runs", "10", "--warmup", "1", "--data",
                        str(fixtures / "kws_eval"), "--json", str(work / f"w{bits}.json")],
                       check=True, capture_output=True)
        accuracy = json.load(open(work / f"w{bits}.json"))["models"][0]["accuracy"]
        ok = accuracy["top1_correct"] == ort_correct
        failures += not ok
        print(f"kws_dscnn w{bits}a8: edgeperf {accuracy['top1_correct']}, ONNX Runtime {ort_correct} "
              f"of {len(labels)}: {'ok' if ok else 'FAIL'}")
    print(f"{checks - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
