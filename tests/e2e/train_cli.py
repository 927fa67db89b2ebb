#!/usr/bin/python3
"""`edgeperf qat` and `edgeperf finetune` end to end:
  - bad input fails with one stderr line "edgeperf: error: ..." naming the problem, a
    non-zero exit, and no output file (labels out of range or miscounted, an empty
    training set, a loss that is not finite, no trainable layers, a teacher whose outputs
    differ, ...);
  - the same seed writes the same file byte for byte, another seed another file;
  - the QAT model runs in ONNX Runtime with top-1 agreement >= 99% against edgeperf's int8
    run on the held-out keyword-spotting set, and keeps the PTQ model's QDQ layout;
  - a 70%-pruned model fine-tuned keeps every zero.
Without edgeperf-train beside it (EP_TRAIN=OFF, arm64), `edgeperf qat` says so in one
line; the rest is then skipped (77)."""
import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_bad_input import Case, check_case  # noqa: E402


def relu_only_model(path):
    graph = helper.make_graph(
        [helper.make_node("Relu", ["input"], ["logits"], name="relu")], "relu_only",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", 4])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)


def with_unsupported_op(source, path):
    model = onnx.load(source)
    graph = model.graph
    last = graph.node[-1]
    renamed = last.output[0] + "_raw"
    old_output = last.output[0]
    last.output[0] = renamed
    graph.node.append(helper.make_node("Softsign", [renamed], [old_output], name="softsign"))
    onnx.save(model, path)


def teacher_with_11_classes(source, path):
    model = onnx.load(source)
    by_name = {init.name: init for init in model.graph.initializer}
    gemm = [node for node in model.graph.node if node.op_type == "Gemm"][-1]
    for name in gemm.input[1:3]:
        values = numpy_helper.to_array(by_name[name])[:11]
        by_name[name].CopyFrom(numpy_helper.from_array(values, name))
    onnx.save(model, path)


def bad_input_cases(work, fixtures):
    kws = fixtures / "kws_dscnn.onnx"
    digits = fixtures / "digits_cnn.onnx"
    calib = fixtures / "kws_calib_inputs.npy"
    inputs = np.load(calib)[:40]
    out = str(work / "out.onnx")

    np.save(work / "range_inputs.npy", inputs)
    np.save(work / "range_labels.npy", np.array([12] + [0] * 39, np.int64))
    np.save(work / "count_inputs.npy", inputs)
    np.save(work / "count_labels.npy", np.zeros(39, np.int64))
    np.save(work / "empty_inputs.npy", np.zeros((0, 1, 49, 10), np.float32))
    np.save(work / "empty_labels.npy", np.zeros(0, np.int64))
    relu_only_model(work / "relu_only.onnx")
    np.save(work / "relu_inputs.npy", np.ones((3, 4), np.float32))
    np.save(work / "relu_labels.npy", np.array([0, 1, 2], np.int64))
    with_unsupported_op(kws, work / "softsign.onnx")
    teacher_with_11_classes(kws, work / "teacher11.onnx")

    qat = lambda *extra: ["qat", str(kws), "-o", out, "--calib", str(calib), "--epochs", "1", *extra]  # noqa: E731
    finetune = lambda model, *extra: ["finetune", str(model), "-o", out, "--epochs", "1", *extra]  # noqa: E731
    return [
        Case("label out of range", qat("--train", str(work / "range")), ["label 12", "row 0", "12 classes"]),
        Case("labels and inputs disagree in count", finetune(kws, "--train", str(work / "count")),
             ["40", "39"]),
        Case("empty training set", finetune(kws, "--train", str(work / "empty")),
             [("no samples", "empty")]),
        Case("loss that is not finite", finetune(digits, "--train", str(fixtures / "digits_eval"), "--lr", "1e30"),
             ["loss", "nothing was written"]),
        Case("no trainable layers", finetune(work / "relu_only.onnx", "--train", str(work / "relu")),
             ["no trainable layers"]),
        Case("teacher with other outputs", qat("--teacher", str(work / "teacher11.onnx")),
             ["teacher", "[1, 11]", "[1, 12]"]),
        Case("teacher for another input", finetune(kws, "--train", str(fixtures / "kws_eval"), "--teacher", str(digits)),
             ["teacher"]),
        Case("op the engine lacks", finetune(work / "softsign.onnx", "--train", str(fixtures / "kws_eval")),
             ["softsign", "Softsign", "not supported"]),
        Case("qat without --calib", ["qat", str(kws), "-o", out], ["--calib"]),
        Case("finetune without --train", finetune(kws), ["--train"]),
        Case("unlabeled data and no teacher", finetune(kws, "--train", str(calib)), ["no labels", "teacher"]),
        Case("4-bit activations", qat("--activation-bits", "4"), ["--activation-bits"]),
        Case("missing model", finetune(work / "nowhere.onnx", "--train", str(calib)), ["nowhere.onnx"]),
        Case("held-out data without labels", qat("--data", str(calib)), ["--data", "label"]),
        Case("zero batch", qat("--batch", "0"), ["--batch"]),
    ]


def run(edgeperf, *args):
    return subprocess.run([edgeperf, *args], check=True, capture_output=True, text=True)


def ort_logits(node, source, model, inputs, out_dir):
    subprocess.run([node, str(source / "bench/peers/ort_run.js"), str(model), "--input", f"input={inputs}",
                    "--output-dir", str(out_dir), "--threads", "1"], check=True, capture_output=True)
    return np.load(out_dir / "logits.npy")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--node", default="node")
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--work-dir", default="/tmp/edgeperf-train-cli")
    args = parser.parse_args(argv)
    source = Path(args.source_dir)
    fixtures = source / "models/fixtures"
    work = Path(args.work_dir).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    failures = 0

    def report(name, problems):
        nonlocal failures
        print(f"{'PASS' if not problems else 'FAIL'}  {name}", flush=True)
        for problem in problems:
            print(f"        {problem}", flush=True)
        failures += bool(problems)

    # Without edgeperf-train beside it (an arm64 or -DEP_TRAIN=OFF build), edgeperf says so.
    alone = work / "alone"
    alone.mkdir()
    shutil.copy(args.edgeperf, alone / "edgeperf")
    report("qat without the training engine",
           check_case(str(alone / "edgeperf"), Case("no engine", ["qat", "m.onnx", "-o", "x.onnx"],
                                                     ["training engine is not part of this build"])))
    if not (Path(args.edgeperf).parent / "edgeperf-train").exists():
        print("SKIP: edgeperf-train is not built (EP_TRAIN=OFF)")
        return 1 if failures else 77

    for case in bad_input_cases(work, fixtures):
        problems = check_case(args.edgeperf, case)
        if (work / "out.onnx").exists():
            problems.append("the output file was written")
            (work / "out.onnx").unlink()
        report(case.name, problems)

    kws = fixtures / "kws_dscnn.onnx"
    calib = fixtures / "kws_calib_inputs.npy"
    common = ["--calib", str(calib), "--per-channel", "--weight-bits", "4", "--epochs", "2"]
    for name, seed in [("a", "3"), ("b", "3"), ("c", "4")]:
        run(args.edgeperf, "qat", str(kws), "-o", str(work / f"qat_{name}.onnx"), *common, "--seed", seed)
    a, b, c = (Path(work / f"qat_{name}.onnx").read_bytes() for name in "abc")
    report("same seed, same bytes", [] if a == b else ["two runs with --seed 3 differ"])
    report("another seed, another file", [] if a != c else ["--seed 3 and --seed 4 wrote the same file"])

    run(args.edgeperf, "quantize", str(kws), "-o", str(work / "ptq.onnx"), "--mode", "static", "--per-channel",
        "--weight-bits", "4", "--calib", str(calib), "--no-speed-check")
    layout = lambda path: [(n.op_type, list(n.input)) for n in onnx.load(path).graph.node]  # noqa: E731
    report("QAT keeps the PTQ model's QDQ layout",
           [] if layout(work / "qat_a.onnx") == layout(work / "ptq.onnx") else ["nodes differ"])

    if (source / "node_modules/onnxruntime-node").is_dir():
        eval_inputs = fixtures / "kws_eval_inputs.npy"
        labels = np.load(fixtures / "kws_eval_labels.npy")
        ort = ort_logits(args.node, source, work / "qat_a.onnx", eval_inputs, work / "ort").argmax(1)
        run(args.edgeperf, "run", str(work / "qat_a.onnx"), "--input", f"input={eval_inputs}",
            "--output-dir", str(work / "ours"))
        ours = np.load(work / "ours" / "logits.npy").argmax(1)
        agreement = float((ort == ours).mean())
        print(f"top-1 agreement {agreement:.4f}; accuracy ONNX Runtime {(ort == labels).mean():.4f}, "
              f"edgeperf {(ours == labels).mean():.4f}")
        report("ONNX Runtime agrees with edgeperf's int8 run >= 99%",
               [] if agreement >= 0.99 else [f"agreement {agreement:.4f}"])
    else:
        print("skip: ONNX Runtime agreement (node_modules/onnxruntime-node is absent)")

    np.save(work / "train_inputs.npy", np.load(fixtures / "kws_eval_inputs.npy"))
    np.save(work / "train_labels.npy", np.load(fixtures / "kws_eval_labels.npy"))
    run(args.edgeperf, "prune", str(kws), "-o", str(work / "pruned.onnx"), "--method", "magnitude",
        "--sparsity", "0.7", "--format", "dense", "--no-speed-check")
    run(args.edgeperf, "finetune", str(work / "pruned.onnx"), "-o", str(work / "tuned.onnx"), "--train",
        str(work / "train"), "--epochs", "2", "--lr", "1e-2", "--data", str(fixtures / "kws_eval"),
        "--report", str(work / "tuned.json"))
    tuned = json.loads((work / "tuned.json").read_text())
    report("finetune --report: every epoch with loss and held-out accuracy, zeros before = after",
           [] if (len(tuned["epochs"]) == 2 and all(0 <= e["held_out_accuracy"] <= 1 for e in tuned["epochs"])
                  and tuned["zero_weights"]["before"] == tuned["zero_weights"]["after"] > 10000
                  and tuned["labeled"] and tuned["training_samples"] == 444) else [f"report: {tuned}"])
    before = {i.name: numpy_helper.to_array(i) for i in onnx.load(work / "pruned.onnx").graph.initializer}
    after = {i.name: numpy_helper.to_array(i) for i in onnx.load(work / "tuned.onnx").graph.initializer}
    problems = [name for name, values in before.items()
                if values.dtype == np.float32 and np.any(after[name][values == 0] != 0)]
    zeros = sum(int((v == 0).sum()) for v in before.values() if v.dtype == np.float32)
    report(f"finetune keeps all {zeros} zeros of the pruned model",
           [f"{name} lost zeros" for name in problems] or ([] if zeros > 10000 else ["too few zeros"]))

    print(f"train_cli: {failures} failing case(s)" if failures else "train_cli: all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
