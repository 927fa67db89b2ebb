#!/usr/bin/python3
"""Accuracy that training recovers, judged by ONNX Runtime on the held-out sets.

For the keyword-spotting DS-CNN and digits_cnn (models/fixtures):
  - FP32, static PTQ (`edgeperf quantize --mode static`) and QAT (`edgeperf qat`) at
    w8a8 and w4a8 per-channel, and where PTQ loses: w3a8 per-tensor, w2a8 per-channel.
    QAT three ways: distillation alone (no --train: the calibration inputs and the FP32
    model's logits), labels (--train), labels plus the FP32 teacher (--teacher);
  - every QAT model's top-1 agreement between ONNX Runtime and edgeperf's int8 run, and its
    edgeperf p50 against the PTQ file of the same layout (1 thread, interleaved rounds);
  - a QAT MobileNetV2 against the PTQ file of the same layout, p50 at 1 and 2 threads;
  - pruning on KWS (70% unstructured, 30% channels): alone, `edgeperf finetune` with
    labels, and with the FP32 teacher; the zeros kept;
  - what the FP32 teacher adds (--teacher), over several seeds: KWS QAT w4a8 and w2a8, and
    the 70%-pruned fine-tune, with labels alone and with labels + teacher.
One recipe per model for every setting (no per-setting tuning). Writes JSON and prints
Markdown tables. Needs the training splits: `make kws-data digits-data`.

  bench/train/qat_accuracy.py --edgeperf build/edgeperf [--out build/qat_accuracy.json]
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "models/fixtures"

MODELS = {
    "kws_dscnn": {"calib": "kws_calib_inputs.npy", "eval": "kws_eval", "train": "build/kws/train",
                  "distill": ["--epochs", "30", "--lr", "3e-4"],
                  "labeled": ["--epochs", "8", "--lr", "1e-3"]},
    "digits_cnn": {"calib": "digits_calib_inputs.npy", "eval": "digits_eval", "train": "build/digits/train",
                   "distill": ["--epochs", "30", "--lr", "3e-4"],
                   "labeled": ["--epochs", "20", "--lr", "1e-3"]},
}
SETTINGS = [("w8a8 per-channel", ["--weight-bits", "8", "--per-channel"]),
            ("w4a8 per-channel", ["--weight-bits", "4", "--per-channel"]),
            ("w3a8 per-tensor", ["--weight-bits", "3"]),
            ("w2a8 per-channel", ["--weight-bits", "2", "--per-channel"])]
FINETUNE = ["--epochs", "20", "--lr", "3e-3"]
PRUNINGS = [("70% unstructured", ["--method", "magnitude", "--sparsity", "0.7", "--format", "dense"]),
            ("30% channels", ["--method", "channel", "--sparsity", "0.3"])]


def run(*args):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, args))}\n{result.stderr}")
    return result.stdout


class Judge:
    def __init__(self, edgeperf, node, work):
        self.edgeperf, self.node, self.work = edgeperf, node, work

    def predictions(self, model, eval_prefix):
        inputs = FIXTURES / f"{eval_prefix}_inputs.npy"
        out = self.work / f"ort_{model.stem}"
        run(self.node, ROOT / "bench/peers/ort_run.js", model, "--input", f"input={inputs}",
            "--output-dir", out, "--threads", "1")
        ort = np.load(out / "logits.npy").argmax(1)
        ours_dir = self.work / f"ours_{model.stem}"
        run(self.edgeperf, "run", model, "--input", f"input={inputs}", "--output-dir", ours_dir)
        ours = np.load(ours_dir / "logits.npy").argmax(1)
        return ort, ours

    def score(self, model, eval_prefix):
        labels = np.load(FIXTURES / f"{eval_prefix}_labels.npy")
        ort, ours = self.predictions(model, eval_prefix)
        return {"ort_accuracy": float((ort == labels).mean()), "ort_correct": int((ort == labels).sum()),
                "edgeperf_accuracy": float((ours == labels).mean()),
                "agreement": float((ort == ours).mean()), "samples": int(len(labels))}

    def p50_ratio(self, model, reference, rounds=3, runs=3000):
        ratios = []
        for _ in range(rounds):
            p50 = {}
            for path in (model, reference):
                report = self.work / "speed.json"
                run(self.edgeperf, "bench", path, "--threads", "1", "--runs", runs, "--json", report)
                p50[path] = json.loads(report.read_text())["models"][0]["batches"][0]["latency_ms"]["p50"]
            ratios.append(p50[model] / p50[reference])
        return ratios


def quantize_rows(judge, name, spec, work, edgeperf):
    model = FIXTURES / f"{name}.onnx"
    calib = FIXTURES / spec["calib"]
    train = ROOT / spec["train"]
    if not (train.parent / "train_inputs.npy").exists():
        sys.exit(f"{train}_inputs.npy is missing: run `make kws-data digits-data`")
    rows = [{"model": name, "setting": "FP32", "method": "float", **judge.score(model, spec["eval"])}]
    for setting, flags in SETTINGS:
        tag = setting.split()[0] + ("pc" if "--per-channel" in flags else "pt")
        ptq = work / f"{name}_{tag}_ptq.onnx"
        run(edgeperf, "quantize", model, "-o", ptq, "--mode", "static", "--calib", calib, "--no-speed-check", *flags)
        rows.append({"model": name, "setting": setting, "method": "PTQ", **judge.score(ptq, spec["eval"])})
        variants = [("QAT distill", spec["distill"], []),
                    ("QAT labels", spec["labeled"], ["--train", train]),
                    ("QAT labels + teacher", spec["labeled"], ["--train", train, "--teacher", model])]
        for method, recipe, extra in variants:
            out = work / f"{name}_{tag}_{method.replace(' ', '_').replace('+', '')}.onnx"
            start = time.monotonic()
            run(edgeperf, "qat", model, "-o", out, "--calib", calib, *flags, *recipe, *extra)
            row = {"model": name, "setting": setting, "method": method,
                   "train_seconds": round(time.monotonic() - start, 1), **judge.score(out, spec["eval"])}
            if method == "QAT distill":
                row["speed_vs_ptq"] = judge.p50_ratio(out, ptq)
            rows.append(row)
            print(f"{name} {setting} {method}: ORT {row['ort_accuracy']:.4f}", file=sys.stderr, flush=True)
    return rows


def zeros_of(path):
    return {i.name: numpy_helper.to_array(i) == 0 for i in onnx.load(path).graph.initializer
            if i.data_type == onnx.TensorProto.FLOAT}


def pruning_rows(judge, work, edgeperf):
    name, spec = "kws_dscnn", MODELS["kws_dscnn"]
    model = FIXTURES / f"{name}.onnx"
    train = ROOT / spec["train"]
    rows = []
    for pruning, flags in PRUNINGS:
        tag = pruning.split()[0].rstrip("%") + pruning.split()[1][:4]
        pruned = work / f"{name}_{tag}.onnx"
        run(edgeperf, "prune", model, "-o", pruned, "--no-speed-check", *flags)
        rows.append({"pruning": pruning, "method": "pruned", **judge.score(pruned, spec["eval"])})
        before = zeros_of(pruned)
        for method, extra in [("finetune labels", []), ("finetune labels + teacher", ["--teacher", model])]:
            out = work / f"{name}_{tag}_{method.replace(' ', '_').replace('+', '')}.onnx"
            run(edgeperf, "finetune", pruned, "-o", out, "--train", train, *FINETUNE, *extra)
            after = zeros_of(out)
            kept = all(np.all(after[k][v]) for k, v in before.items())
            rows.append({"pruning": pruning, "method": method, "zeros": int(sum(v.sum() for v in before.values())),
                         "zeros_kept": bool(kept), **judge.score(out, spec["eval"])})
            print(f"{pruning} {method}: ORT {rows[-1]['ort_accuracy']:.4f}", file=sys.stderr, flush=True)
    return rows


def distillation_rows(judge, work, edgeperf, seeds):
    name, spec = "kws_dscnn", MODELS["kws_dscnn"]
    model = FIXTURES / f"{name}.onnx"
    train = ROOT / spec["train"]
    pruned = work / f"{name}_70unst.onnx"
    if not pruned.exists():
        run(edgeperf, "prune", model, "-o", pruned, "--no-speed-check", *PRUNINGS[0][1])
    jobs = [("QAT w4a8 per-channel", ["qat", model, "--calib", FIXTURES / spec["calib"], *SETTINGS[1][1], *spec["labeled"]]),
            ("QAT w2a8 per-channel", ["qat", model, "--calib", FIXTURES / spec["calib"], *SETTINGS[3][1], *spec["labeled"]]),
            ("finetune 70% unstructured", ["finetune", pruned, *FINETUNE])]
    rows = []
    for job, command in jobs:
        for teacher in (False, True):
            scores = []
            for seed in range(seeds):
                out = work / f"distill_{len(rows)}_{seed}.onnx"
                extra = ["--teacher", model] if teacher else []
                run(edgeperf, *command, "-o", out, "--train", train, "--seed", seed, *extra)
                scores.append(judge.score(out, spec["eval"])["ort_accuracy"])
            rows.append({"job": job, "teacher": teacher, "seeds": seeds, "ort_accuracy": scores})
            print(f"{job} teacher={teacher}: {scores}", file=sys.stderr, flush=True)
    return rows


def speed_rows(judge, work, edgeperf, rounds=3):
    """A QAT model runs at the speed of the PTQ model of the same layout: the zoo's
    MobileNetV2 (untrained; 16 random calibration images, one epoch of distillation)."""
    model = work / "mnv2.onnx"
    calib = work / "mnv2_calib.npy"
    run(edgeperf, "zoo", "mobilenet_v2", "-o", model)
    np.save(calib, np.random.default_rng(0).random((16, 3, 224, 224), dtype=np.float32))
    ptq, qat = work / "mnv2_ptq.onnx", work / "mnv2_qat.onnx"
    run(edgeperf, "quantize", model, "-o", ptq, "--mode", "static", "--per-channel", "--calib", calib,
        "--no-speed-check")
    run(edgeperf, "qat", model, "-o", qat, "--per-channel", "--calib", calib, "--epochs", "1", "--batch", "8")
    rows = []
    for threads in (1, 2):
        for round_ in range(rounds):
            p50 = {}
            for path in (ptq, qat):
                report = work / "speed.json"
                run(edgeperf, "bench", path, "--threads", threads, "--runs", 300, "--json", report)
                p50[path.stem] = json.loads(report.read_text())["models"][0]["batches"][0]["latency_ms"]["p50"]
            rows.append({"threads": threads, "round": round_ + 1, "ptq_p50_ms": p50["mnv2_ptq"],
                         "qat_p50_ms": p50["mnv2_qat"], "ratio": p50["mnv2_qat"] / p50["mnv2_ptq"]})
    return rows


def markdown(quant, prune, distill, speed):
    lines = ["| model | setting | method | ORT accuracy | edgeperf accuracy | ORT/edgeperf agreement | train s | p50 vs PTQ |",
             "|---|---|---|---|---|---|---|---|"]
    for r in quant:
        speed = ", ".join(f"{x:.2f}" for x in r.get("speed_vs_ptq", [])) or "-"
        lines.append(f"| {r['model']} | {r['setting']} | {r['method']} | {100 * r['ort_accuracy']:.2f} "
                     f"({r['ort_correct']}/{r['samples']}) | {100 * r['edgeperf_accuracy']:.2f} | "
                     f"{100 * r['agreement']:.2f}% | {r.get('train_seconds', '-')} | {speed} |")
    lines += ["", "| KWS pruning | method | ORT accuracy | zeros kept |", "|---|---|---|---|"]
    for r in prune:
        kept = f"{r['zeros']} {'all kept' if r['zeros_kept'] else 'LOST'}" if "zeros" in r else "-"
        lines.append(f"| {r['pruning']} | {r['method']} | {100 * r['ort_accuracy']:.2f} ({r['ort_correct']}/{r['samples']}) | {kept} |")
    if distill:
        lines += ["", "| KWS, labels | FP32 teacher | ORT accuracy per seed | mean |", "|---|---|---|---|"]
        for r in distill:
            scores = ", ".join(f"{100 * x:.2f}" for x in r["ort_accuracy"])
            lines.append(f"| {r['job']} | {'yes' if r['teacher'] else 'no'} | {scores} | "
                         f"{100 * float(np.mean(r['ort_accuracy'])):.2f} |")
    if speed:
        lines += ["", "| MobileNetV2 int8 | round | PTQ p50 ms | QAT p50 ms | QAT / PTQ |", "|---|---|---|---|---|"]
        for r in speed:
            lines.append(f"| {r['threads']} thread(s) | {r['round']} | {r['ptq_p50_ms']:.3f} | "
                         f"{r['qat_p50_ms']:.3f} | {r['ratio']:.3f} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edgeperf", default=str(ROOT / "build/edgeperf"))
    parser.add_argument("--node", default="node")
    parser.add_argument("--work-dir", default=str(ROOT / "build/qat_accuracy"))
    parser.add_argument("--out", default=str(ROOT / "build/qat_accuracy.json"))
    parser.add_argument("--models", default="kws_dscnn,digits_cnn")
    parser.add_argument("--no-pruning", action="store_true")
    parser.add_argument("--no-quantization", action="store_true")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--distill-seeds", type=int, default=3, help="0: skip the teacher study")
    args = parser.parse_args()
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    judge = Judge(args.edgeperf, args.node, work)
    quant = [] if args.no_quantization else [
        row for name in args.models.split(",") for row in quantize_rows(judge, name, MODELS[name], work, args.edgeperf)]
    prune = [] if args.no_pruning else pruning_rows(judge, work, args.edgeperf)
    distill = distillation_rows(judge, work, args.edgeperf, args.distill_seeds) if args.distill_seeds else []
    speed = [] if args.no_speed else speed_rows(judge, work, args.edgeperf)
    Path(args.out).write_text(json.dumps({"quantization": quant, "pruning": prune, "distillation": distill,
                                          "speed": speed}, indent=2) + "\n")
    print(markdown(quant, prune, distill, speed))


if __name__ == "__main__":
    main()
