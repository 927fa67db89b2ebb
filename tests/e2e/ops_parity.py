#!/usr/bin/python3
"""Hand-written models of the ops detector and transformer exports use agree with ONNX
Runtime 1.30.

Models (python3-onnx helper) with what detector exports contain:
- If on a condition computed from the input, whose branches read values of the
  enclosing graph and give outputs of different shapes; fed so that each branch runs;
- Reshape to a shape given as an input at run time, with ops after it;
- NonZero and TopK feeding Gather, as in torchvision's per-class score filtering;
- NonMaxSuppression with a score threshold, boxes with their corners in either order;
- RoiAlign at opsets 10 and 16, avg and max;
and what transformer exports contain: GatherElements (negative indices), CumSum
(exclusive, reverse), Einsum (matmul, batched, attention scores, transpose, reduction,
trace, outer product, ellipsis).
Each runs in edgeperf (auto and reference backends, 1 and 2 threads) and must match ORT
within 1e-4 * max(1, max|ref|). Each also goes through `optimize` with every pass (an
Identity the branches read is removed, so the export renames what they capture) and
with `--passes dce`, and must still run in ORT with the same outputs.
Exits 77 (skip) only when node_modules/onnxruntime-node is not installed.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ort_parity import (SKIP_RETURN_CODE as SKIP, ParityError, check_outputs,  # noqa: E402
                        parse_parity_args, report_failures, run_cmd as run)


def if_branches():
    then_nodes = [helper.make_node("Mul", ["r_id", "two"], ["then_y"])]
    then_graph = helper.make_graph(then_nodes, "then", [],
                                   [helper.make_tensor_value_info("then_y", TensorProto.FLOAT, ["a", "b"])])
    else_nodes = [helper.make_node("Neg", ["r_id"], ["neg"]),
                  helper.make_node("Slice", ["neg", "starts", "ends", "axes"], ["else_y"])]
    else_graph = helper.make_graph(else_nodes, "else", [],
                                   [helper.make_tensor_value_info("else_y", TensorProto.FLOAT, ["a", "b"])],
                                   [numpy_helper.from_array(np.array([1], np.int64), "starts"),
                                    numpy_helper.from_array(np.array([3], np.int64), "ends"),
                                    numpy_helper.from_array(np.array([1], np.int64), "axes")])
    nodes = [helper.make_node("Relu", ["x"], ["r"]),
             helper.make_node("Identity", ["r"], ["r_id"]),
             helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0),
             helper.make_node("Greater", ["s", "zero"], ["c"]),
             helper.make_node("If", ["c"], ["branch"], then_branch=then_graph, else_branch=else_graph),
             helper.make_node("Add", ["branch", "one"], ["y"])]
    graph = helper.make_graph(
        nodes, "if_branches", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "b"]),
         helper.make_tensor_value_info("r", TensorProto.FLOAT, [2, 4])],
        [numpy_helper.from_array(np.array(0, np.float32), "zero"),
         numpy_helper.from_array(np.array(2, np.float32), "two"),
         numpy_helper.from_array(np.array(1, np.float32), "one")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    positive = np.abs(np.random.default_rng(1).standard_normal((2, 4))).astype(np.float32)
    return model, [{"x": positive}, {"x": -positive}]


def runtime_reshape():
    nodes = [helper.make_node("Relu", ["x"], ["r"]),
             helper.make_node("Reshape", ["r", "shape"], ["reshaped"]),
             helper.make_node("Softmax", ["reshaped"], ["y"], axis=-1)]
    graph = helper.make_graph(
        nodes, "runtime_reshape",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 6]),
         helper.make_tensor_value_info("shape", TensorProto.INT64, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "b"])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    x = np.random.default_rng(2).standard_normal((2, 6)).astype(np.float32)
    return model, [{"x": x, "shape": np.array([3, 4], np.int64)},
                   {"x": x, "shape": np.array([4, -1], np.int64)}]


def score_filter():
    """Scores above a threshold, top 3 of them (NonZero -> Gather -> TopK)."""
    nodes = [helper.make_node("Greater", ["scores", "threshold"], ["mask"]),
             helper.make_node("NonZero", ["mask"], ["nz"]),
             helper.make_node("Squeeze", ["nz", "axis0"], ["keep"]),
             helper.make_node("Gather", ["scores", "keep"], ["kept"]),
             helper.make_node("Shape", ["kept"], ["n"]),
             helper.make_node("Min", ["n", "k_max"], ["k"]),
             helper.make_node("TopK", ["kept", "k"], ["top", "top_index"]),
             helper.make_node("Gather", ["keep", "top_index"], ["y_index"])]
    graph = helper.make_graph(
        nodes, "score_filter", [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [10])],
        [helper.make_tensor_value_info("top", TensorProto.FLOAT, ["k"]),
         helper.make_tensor_value_info("y_index", TensorProto.INT64, ["k"])],
        [numpy_helper.from_array(np.array(0.5, np.float32), "threshold"),
         numpy_helper.from_array(np.array([0], np.int64), "axis0"),
         numpy_helper.from_array(np.array([3], np.int64), "k_max")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    rng = np.random.default_rng(3)
    return model, [{"scores": rng.uniform(0, 1, 10).astype(np.float32)},
                   {"scores": np.array([0.9, 0.1, 0.2, 0.6, 0, 0, 0, 0, 0, 0], np.float32)}]


def nms():
    """NonMaxSuppression on random boxes (corners in either order), two classes."""
    nodes = [helper.make_node("NonMaxSuppression", ["boxes", "scores", "max_boxes", "iou", "min_score"],
                              ["selected"])]
    graph = helper.make_graph(
        nodes, "nms", [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, 40, 4]),
                       helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 2, 40])],
        [helper.make_tensor_value_info("selected", TensorProto.INT64, ["n", 3])],
        [numpy_helper.from_array(np.array([8], np.int64), "max_boxes"),
         numpy_helper.from_array(np.array([0.4], np.float32), "iou"),
         numpy_helper.from_array(np.array([0.2], np.float32), "min_score")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)], ir_version=8)
    rng = np.random.default_rng(4)
    corners = rng.uniform(0, 10, (1, 40, 2)).astype(np.float32)
    sizes = rng.uniform(1, 4, (1, 40, 2)).astype(np.float32)
    boxes = np.concatenate([corners, corners + sizes], axis=2)
    boxes[0, ::3] = boxes[0, ::3][:, [2, 3, 0, 1]]  # some with the far corner first
    return model, [{"boxes": boxes, "scores": rng.uniform(0, 1, (1, 2, 40)).astype(np.float32)}]


def roi_align():
    """RoiAlign at opset 16 (half_pixel, avg and max) and 10 (output_half_pixel), regions
    partly outside the map, adaptive and fixed sampling."""
    rois = np.array([[0, 0, 7, 7], [1.5, 2.25, 6, 5], [-2, -1, 3, 9], [4, 4, 4.5, 4.2]], np.float32)
    batch = np.array([0, 1, 1, 0], np.int64)
    models = []
    for opset, nodes in ((16, [helper.make_node("RoiAlign", ["x", "rois", "batch"], ["avg"], output_height=3,
                                                output_width=2, spatial_scale=0.9),
                               helper.make_node("RoiAlign", ["x", "rois", "batch"], ["max"], mode="max",
                                                output_height=2, output_width=2, sampling_ratio=2)]),
                         (10, [helper.make_node("RoiAlign", ["x", "rois", "batch"], ["avg"], output_height=3,
                                                output_width=2, spatial_scale=0.9),
                               helper.make_node("RoiAlign", ["x", "rois", "batch"], ["max"], mode="max",
                                                output_height=2, output_width=2, sampling_ratio=2)])):
        graph = helper.make_graph(
            nodes, f"roi_align_{opset}", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 8, 8])],
            [helper.make_tensor_value_info("avg", TensorProto.FLOAT, [4, 3, 3, 2]),
             helper.make_tensor_value_info("max", TensorProto.FLOAT, [4, 3, 2, 2])],
            [numpy_helper.from_array(rois, "rois"), numpy_helper.from_array(batch, "batch")])
        models.append(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8))
    return models


def transformer_ops():
    rng = np.random.default_rng(6)
    nodes = [helper.make_node("GatherElements", ["x", "gather_index"], ["gathered"], axis=1),
             helper.make_node("CumSum", ["x", "axis1"], ["cumsum"]),
             helper.make_node("CumSum", ["x", "axis0"], ["cumsum_er"], exclusive=1, reverse=1),
             helper.make_node("Einsum", ["x", "w"], ["matmul"], equation="ij,jk->ik"),
             helper.make_node("Einsum", ["q", "k"], ["scores"], equation="bhid,bhjd->bhij"),
             helper.make_node("Einsum", ["x"], ["transposed"], equation="ij->ji"),
             helper.make_node("Einsum", ["x"], ["row_sums"], equation="ij->i"),
             helper.make_node("Einsum", ["square"], ["trace"], equation="ii"),
             helper.make_node("Einsum", ["v", "v"], ["outer"], equation="i,j->ij"),
             helper.make_node("Einsum", ["q", "k"], ["ellipsis"], equation="...id,...jd->...ij")]
    shapes = {"gathered": [3, 2], "cumsum": [3, 4], "cumsum_er": [3, 4], "matmul": [3, 5],
              "scores": [2, 2, 3, 3], "transposed": [4, 3], "row_sums": [3], "trace": [],
              "outer": [4, 4], "ellipsis": [2, 2, 3, 3]}
    graph = helper.make_graph(
        nodes, "transformer_ops",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4]),
         helper.make_tensor_value_info("q", TensorProto.FLOAT, [2, 2, 3, 8]),
         helper.make_tensor_value_info("k", TensorProto.FLOAT, [2, 2, 3, 8])],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, shape) for name, shape in shapes.items()],
        [numpy_helper.from_array(np.array([[0, -1], [3, 2], [-4, 1]], np.int64), "gather_index"),
         numpy_helper.from_array(np.array(1, np.int64), "axis1"),
         numpy_helper.from_array(np.array([0], np.int32), "axis0"),
         numpy_helper.from_array(rng.standard_normal((4, 5)).astype(np.float32), "w"),
         numpy_helper.from_array(rng.standard_normal((3, 3)).astype(np.float32), "square"),
         numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "v")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], ir_version=8)
    feeds = {"x": rng.standard_normal((3, 4)).astype(np.float32),
             "q": rng.standard_normal((2, 2, 3, 8)).astype(np.float32),
             "k": rng.standard_normal((2, 2, 3, 8)).astype(np.float32)}
    return model, [feeds]


def supported(edgeperf, model_path):
    proc = subprocess.run([edgeperf, "run", str(model_path)], capture_output=True, text=True)
    return "unsupported op" not in proc.stderr


def main():
    args, ort_run = parse_parity_args()
    if ort_run is None:
        return SKIP
    failures = []
    x = np.random.default_rng(5).uniform(0, 1, (2, 3, 8, 8)).astype(np.float32)
    cases = [(build.__name__, *build())
             for build in (if_branches, runtime_reshape, score_filter, nms, transformer_ops)]
    cases += [(f"roi_align_{i}", model, [{"x": x}]) for i, model in enumerate(roi_align())]
    for name, model, feeds_list in cases:
        path = args.work_dir / f"{name}.onnx"
        onnx.save(model, path)
        if not supported(args.edgeperf, path):
            print(f"skip  {name}: the reference backend lacks one of its ops")
            continue
        exported = {}
        try:
            for passes in ("all", "dce"):
                exported[passes] = args.work_dir / f"{name}_{passes}.onnx"
                flags = [] if passes == "all" else ["--passes", "dce"]
                run([args.edgeperf, "optimize", path, "-o", exported[passes], *flags], f"optimize {name}")
            for case, feeds in enumerate(feeds_list):
                flags = []
                for input_name, value in feeds.items():
                    npy = args.work_dir / f"{name}_{case}_{input_name}.npy"
                    np.save(npy, value)
                    flags += ["--input", f"{input_name}={npy}"]
                ref_dir = args.work_dir / f"{name}_{case}_ort"
                run([args.node, ort_run, path, *flags, "--output-dir", ref_dir], f"ORT {name}")
                for backend in ("auto", "reference"):
                    for threads in (1, 2):
                        out_dir = args.work_dir / f"{name}_{case}_{backend}_{threads}"
                        run([args.edgeperf, "run", path, *flags, "--backend", backend, "--threads",
                             threads, "--output-dir", out_dir], f"edgeperf {name} {backend}")
                        check_outputs(out_dir, ref_dir, f"{name}#{case} {backend} {threads}t", failures)
                for passes, model_path in exported.items():
                    out_dir = args.work_dir / f"{name}_{case}_{passes}_ort"
                    run([args.node, ort_run, model_path, *flags, "--output-dir", out_dir],
                        f"ORT after optimize {passes} {name}")
                    check_outputs(out_dir, ref_dir, f"{name}#{case} optimize {passes} in ORT", failures)
        except ParityError as error:
            print(f"FAIL  {error}")
            failures.append(str(error))
    return report_failures(failures)


if __name__ == "__main__":
    sys.exit(main())
