#!/usr/bin/python3
"""Models at the opsets users bring (7 to 21) agree with ONNX Runtime 1.30.

Hand-written models use each version's own form of the ops that changed: Upsample-7
(scales attribute) and -9 (scales input), BatchNormalization-7 (spatial), Dropout-7
(ratio attribute), Clip-6 (min/max attributes), Slice-1 and Pad-2 (attributes),
Softmax before 13 (2-D coercion), Resize-10 (asymmetric), Reduce axes as an input and
Split num_outputs (18), Pad axes (18), Gelu (20) and opset-21 Reshape/Transpose.
Each runs in edgeperf (auto and reference backends, 1 and 2 threads) and must match ORT
within 1e-4 * max(1, max|ref|); each also goes through edgeperf's import and export
(`optimize --passes dce`) and must still run in ORT at its own opset with the same
outputs. Opsets 6 and 22, and Upsample at opset 10, are one-line errors.
Exits 77 (skip) only when node_modules/onnxruntime-node is not installed.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import onnx_wire as w  # noqa: E402
from ort_parity import (SKIP_RETURN_CODE as SKIP, ParityError, check_outputs,  # noqa: E402
                        parse_parity_args, report_failures, run_cmd as run)


def f32(name, array):
    array = np.asarray(array, np.float32)
    return w.tensor(name, w.FLOAT, list(array.shape), array.tobytes())


def i64(name, values):
    array = np.asarray(values, np.int64)
    return w.tensor(name, w.INT64, list(array.shape), array.tobytes())


def bn_params(channels, seed):
    rng = np.random.default_rng(seed)
    return [f32("bn_scale", rng.uniform(0.5, 1.5, channels)), f32("bn_bias", rng.normal(0, 0.2, channels)),
            f32("bn_mean", rng.normal(0, 0.3, channels)), f32("bn_var", rng.uniform(0.5, 2, channels))]


def opset7():
    nodes = [w.node("BatchNormalization", ["x", "bn_scale", "bn_bias", "bn_mean", "bn_var"], ["bn"],
                    attributes=[w.attr_int("spatial", 1), w.attr_float("epsilon", 1e-3)]),
             w.node("Clip", ["bn"], ["clip"], attributes=[w.attr_float("min", -0.5), w.attr_float("max", 0.8)]),
             w.node("Upsample", ["clip"], ["up"], attributes=[w.attr_floats("scales", [1, 1, 2, 2]),
                                                             w.attr_string("mode", "nearest")]),
             w.node("Pad", ["up"], ["pad"], attributes=[w.attr_ints("pads", [0, 0, 1, 2, 0, 0, 1, 0]),
                                                       w.attr_float("value", 0.25)]),
             w.node("Slice", ["pad"], ["slice"], attributes=[w.attr_ints("starts", [1, 0]),
                                                            w.attr_ints("ends", [9, 7]),
                                                            w.attr_ints("axes", [2, 3])]),
             w.node("Dropout", ["slice"], ["drop"], attributes=[w.attr_float("ratio", 0.3)]),
             w.node("Softmax", ["drop"], ["y"], attributes=[w.attr_int("axis", 1)])]
    # IR 3, as exporters of the time wrote it: initializers are listed as graph inputs too.
    weights = [w.value_info(name, w.FLOAT, [3]) for name in ("bn_scale", "bn_bias", "bn_mean", "bn_var")]
    g = w.graph(nodes, [w.value_info("x", w.FLOAT, [1, 3, 4, 4]), *weights],
                [w.value_info("y", w.FLOAT, [1, 3, 8, 7])], bn_params(3, 7))
    return w.model(g, opset=7, ir_version=3), {"x": (1, 3, 4, 4)}


def opset9():
    nodes = [w.node("Upsample", ["x", "scales"], ["up"], attributes=[w.attr_string("mode", "linear")]),
             w.node("ReduceMean", ["up"], ["mean"], attributes=[w.attr_ints("axes", [3]),
                                                               w.attr_int("keepdims", 1)]),
             w.node("Squeeze", ["mean"], ["sq"], attributes=[w.attr_ints("axes", [3])]),
             w.node("Unsqueeze", ["sq"], ["unsq"], attributes=[w.attr_ints("axes", [0])]),
             w.node("Split", ["unsq"], ["a", "b"], attributes=[w.attr_int("axis", 3),
                                                              w.attr_ints("split", [2, 4])]),
             w.node("Mul", ["a", "a"], ["y"])]
    g = w.graph(nodes, [w.value_info("x", w.FLOAT, [1, 2, 3, 4])],
                [w.value_info("y", w.FLOAT, [1, 1, 2, 2]), w.value_info("b", w.FLOAT, [1, 1, 2, 4])],
                [f32("scales", [1, 1, 2, 1.5])])
    return w.model(g, opset=9, ir_version=4), {"x": (1, 2, 3, 4)}


def opset10():
    nodes = [w.node("Resize", ["x", "scales_up"], ["up"], attributes=[w.attr_string("mode", "nearest")]),
             w.node("Resize", ["x", "scales_lin"], ["lin"], attributes=[w.attr_string("mode", "linear")]),
             w.node("Slice", ["up", "starts", "ends", "axes", "steps"], ["y"]),
             w.node("MaxPool", ["lin"], ["pool"], attributes=[w.attr_ints("kernel_shape", [3, 3]),
                                                             w.attr_ints("strides", [2, 2]),
                                                             w.attr_int("ceil_mode", 1)])]
    g = w.graph(nodes, [w.value_info("x", w.FLOAT, [1, 2, 5, 5])],
                [w.value_info("y", w.FLOAT, [1, 2, 5, 8]), w.value_info("pool", w.FLOAT, [1, 2, 4, 2])],
                [f32("scales_up", [1, 1, 2, 3]), f32("scales_lin", [1, 1, 1.6, 0.8]),
                 i64("starts", [0, 1]), i64("ends", [10, 100]), i64("axes", [2, 3]), i64("steps", [2, 2])])
    return w.model(g, opset=10, ir_version=5), {"x": (1, 2, 5, 5)}


def opset18():
    nodes = [w.node("ReduceMean", ["x", "axes"], ["mean"], attributes=[w.attr_int("keepdims", 1)]),
             w.node("Sub", ["x", "mean"], ["centered"]),
             w.node("Split", ["centered"], ["s0", "s1", "s2"], attributes=[w.attr_int("axis", 1),
                                                                          w.attr_int("num_outputs", 3)]),
             w.node("Pad", ["s1", "pads", "pad_value", "pad_axes"], ["padded"],
                    attributes=[w.attr_string("mode", "reflect")]),
             w.node("Resize", ["padded", "", "scales"], ["y"],
                    attributes=[w.attr_string("mode", "linear"),
                                w.attr_string("coordinate_transformation_mode", "half_pixel")]),
             w.node("ReduceMax", ["s2", "axes"], ["m"], attributes=[w.attr_int("keepdims", 0)])]
    g = w.graph(nodes, [w.value_info("x", w.FLOAT, [1, 6, 4, 5])],
                [w.value_info("y", w.FLOAT, [1, 2, 8, 14]), w.value_info("s0", w.FLOAT, [1, 2, 4, 5]),
                 w.value_info("m", w.FLOAT, [1, 2, 4])],
                [i64("axes", [3]), i64("pads", [0, 1, 0, 1]), f32("pad_value", 0.0), i64("pad_axes", [2, 3]),
                 f32("scales", [1, 1, 2, 2])])
    return w.model(g, opset=18, ir_version=8), {"x": (1, 6, 4, 5)}


def opset21():
    nodes = [w.node("Gelu", ["x"], ["g"], attributes=[w.attr_string("approximate", "tanh")]),
             w.node("Reshape", ["g", "shape"], ["r"]),
             w.node("Transpose", ["r"], ["t"], attributes=[w.attr_ints("perm", [0, 2, 1])]),
             w.node("Unsqueeze", ["t", "unsq_axes"], ["u"]),
             w.node("ReduceSum", ["u", "sum_axes"], ["y"], attributes=[w.attr_int("keepdims", 0)]),
             w.node("Flatten", ["t"], ["flat"], attributes=[w.attr_int("axis", 1)])]
    g = w.graph(nodes, [w.value_info("x", w.FLOAT, [2, 3, 4])],
                [w.value_info("y", w.FLOAT, [2, 12]), w.value_info("flat", w.FLOAT, [2, 12])],
                [i64("shape", [2, 12, 1]), i64("unsq_axes", [1]), i64("sum_axes", [1, 3])])
    return w.model(g, opset=21, ir_version=10), {"x": (2, 3, 4)}


def resize_crop_and_axes():
    """Resize-18: tf_crop_and_resize (roi partly outside the input, extrapolation value),
    linear and nearest, and scales/sizes given for `axes` only."""
    crop = {"coordinate_transformation_mode": "tf_crop_and_resize"}
    nodes = [w.node("Resize", ["x", "roi", "", "crop_sizes"], ["crop_linear"],
                    attributes=[w.attr_string("mode", "linear"), w.attr_float("extrapolation_value", -7.0),
                                w.attr_ints("axes", [2, 3]),
                                *[w.attr_string(k, v) for k, v in crop.items()]]),
             w.node("Resize", ["x", "roi", "", "crop_sizes"], ["crop_nearest"],
                    attributes=[w.attr_string("mode", "nearest"), w.attr_ints("axes", [2, 3]),
                                *[w.attr_string(k, v) for k, v in crop.items()]]),
             w.node("Resize", ["x", "", "axis_scales"], ["axes_cubic"],
                    attributes=[w.attr_string("mode", "cubic"), w.attr_ints("axes", [3])])]
    g = w.graph(nodes, [w.value_info("x", w.FLOAT, [1, 2, 5, 6])],
                [w.value_info("crop_linear", w.FLOAT, [1, 2, 4, 7]), w.value_info("crop_nearest", w.FLOAT, [1, 2, 4, 7]),
                 w.value_info("axes_cubic", w.FLOAT, [1, 2, 5, 9])],
                [f32("roi", [0.2, -0.3, 0.9, 1.2]), i64("crop_sizes", [4, 7]), f32("axis_scales", [1.5])])
    return w.model(g, opset=18, ir_version=8), {"x": (1, 2, 5, 6)}


def resize_modes():
    """Resize-13 cubic (default a, and a = -0.5 with exclude_outside) and align_corners linear."""
    nodes = [w.node("Resize", ["x", "", "scales_up"], ["cubic"],
                    attributes=[w.attr_string("mode", "cubic")]),
             w.node("Resize", ["x", "", "", "sizes"], ["cubic_excl"],
                    attributes=[w.attr_string("mode", "cubic"), w.attr_float("cubic_coeff_a", -0.5),
                                w.attr_int("exclude_outside", 1),
                                w.attr_string("coordinate_transformation_mode", "asymmetric")]),
             w.node("Resize", ["x", "", "scales_down"], ["cubic_down"],
                    attributes=[w.attr_string("mode", "cubic"),
                                w.attr_string("coordinate_transformation_mode", "pytorch_half_pixel")]),
             w.node("Resize", ["x", "", "", "sizes"], ["linear_ac"],
                    attributes=[w.attr_string("mode", "linear"),
                                w.attr_string("coordinate_transformation_mode", "align_corners")])]
    g = w.graph(nodes, [w.value_info("x", w.FLOAT, [1, 2, 5, 6])],
                [w.value_info("cubic", w.FLOAT, [1, 2, 10, 15]), w.value_info("cubic_excl", w.FLOAT, [1, 2, 7, 4]),
                 w.value_info("cubic_down", w.FLOAT, [1, 2, 3, 3]), w.value_info("linear_ac", w.FLOAT, [1, 2, 7, 4])],
                [f32("scales_up", [1, 1, 2, 2.5]), i64("sizes", [1, 2, 7, 4]), f32("scales_down", [1, 1, 0.6, 0.5])])
    return w.model(g, opset=13, ir_version=8), {"x": (1, 2, 5, 6)}


def main():
    args, ort_run = parse_parity_args()
    if ort_run is None:
        return SKIP
    failures = []
    rng = np.random.default_rng(11)
    for build in (opset7, opset9, opset10, opset18, opset21, resize_modes, resize_crop_and_axes):
        model_bytes, inputs = build()
        name = build.__name__
        model = args.work_dir / f"{name}.onnx"
        model.write_bytes(model_bytes)
        flags = []
        for input_name, shape in inputs.items():
            path = args.work_dir / f"{name}_{input_name}.npy"
            np.save(path, rng.standard_normal(shape).astype(np.float32))
            flags += ["--input", f"{input_name}={path}"]
        try:
            ref_dir = args.work_dir / f"{name}_ort"
            run([args.node, ort_run, model, *flags, "--output-dir", ref_dir], f"ORT {name}")
            for backend in ("auto", "reference"):
                for threads in (1, 2):
                    out_dir = args.work_dir / f"{name}_{backend}_{threads}"
                    run([args.edgeperf, "run", model, *flags, "--backend", backend, "--threads",
                         threads, "--output-dir", out_dir], f"edgeperf {name} {backend}")
                    check_outputs(out_dir, ref_dir, f"{name} {backend} {threads}t", failures)
            exported = args.work_dir / f"{name}_roundtrip.onnx"
            run([args.edgeperf, "optimize", model, "-o", exported, "--passes", "dce"], f"export {name}")
            round_dir = args.work_dir / f"{name}_roundtrip_ort"
            run([args.node, ort_run, exported, *flags, "--output-dir", round_dir], f"ORT round trip {name}")
            check_outputs(round_dir, ref_dir, f"{name} round trip in ORT", failures)
        except ParityError as error:
            print(f"FAIL  {error}")
            failures.append(str(error))

    bad = {"opset 6": (w.model(w.graph([w.node("Relu", ["x"], ["y"])], [w.value_info("x", w.FLOAT, [2])],
                                        [w.value_info("y", w.FLOAT, [2])]), opset=6), "opset 6 is not supported"),
           "opset 22": (w.model(w.graph([w.node("Relu", ["x"], ["y"])], [w.value_info("x", w.FLOAT, [2])],
                                         [w.value_info("y", w.FLOAT, [2])]), opset=22), "opset 22 is not supported"),
           "Upsample at opset 10": (w.model(w.graph(
               [w.node("Upsample", ["x", "s"], ["y"])], [w.value_info("x", w.FLOAT, [1, 1, 2, 2])],
               [w.value_info("y", w.FLOAT, [1, 1, 4, 4])], [f32("s", [1, 1, 2, 2])]), opset=10),
               ("Upsample", "10"))}
    for what, (model_bytes, expected) in bad.items():
        path = args.work_dir / "bad.onnx"
        path.write_bytes(model_bytes)
        proc = subprocess.run([args.edgeperf, "run", str(path)], capture_output=True, text=True)
        lines = proc.stderr.strip().splitlines()
        expected = (expected,) if isinstance(expected, str) else expected
        ok = proc.returncode == 1 and len(lines) == 1 and all(e in lines[0] for e in expected)
        print(f"{'ok  ' if ok else 'FAIL'}  {what}: {proc.stderr.strip()}")
        if not ok:
            failures.append(f"{what}: {proc.stderr.strip()!r}")
    return report_failures(failures)


if __name__ == "__main__":
    sys.exit(main())
