#!/usr/bin/python3
"""Builds edgeperf's model suite: ONNX models as users bring them, into an output folder.

Models come from Debian's torchvision with random weights (fixed seeds), non-trivial
BatchNorm statistics and no all-zero layers, exported by Debian's torch (opsets 7-17);
variants are written with python3-onnx:
  - opsets 18-21: the opset-17 export with the nodes whose form changed rewritten
    (Reduce* axes attribute -> input at 18; nothing else in these models changed);
  - Constant-node weights (as Paddle2ONNX and tf2onnx write them);
  - NHWC input behind a Transpose (as tf2onnx writes it);
  - dynamic H and W (checked at two input sizes).
manifest.json lists every model with its family, opset and the input shapes to check.
Nothing here is committed: the models are large. Models already built are kept.

  build_suite.py --out DIR [--set full|ci] [--only NAME ...]
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

CLASSIFIERS = ["mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0", "shufflenet_v2_x1_0",
               "squeezenet1_1", "mnasnet1_0", "regnet_y_400mf", "densenet121", "googlenet",
               "convnext_tiny", "resnet50", "vit_b_16", "swin_t"]
SMALL = ["mobilenet_v3_small", "shufflenet_v2_x1_0", "squeezenet1_1", "mnasnet1_0",
         "regnet_y_400mf", "efficientnet_b0"]
SEGMENTATION = ["lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large"]
DETECTION = ["ssdlite320_mobilenet_v3_large"]
# Models exported before opset 11 by torch 1.13 (no HardSwish/HardSigmoid/Gelu trouble).
OLD_OPSET = [("squeezenet1_1", 7), ("squeezenet1_1", 9), ("shufflenet_v2_x1_0", 10),
             ("mnasnet1_0", 9), ("resnet18", 8)]
NEW_OPSET = [("mobilenet_v3_small", 18), ("regnet_y_400mf", 19), ("efficientnet_b0", 20),
             ("squeezenet1_1", 21)]
REDUCE_OPS = {"ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
              "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"}
CI_SET = ["mobilenet_v3_small_op11", "squeezenet1_1_op7", "shufflenet_v2_x1_0_op10",
          "efficientnet_b0_op13_constants", "mobilenet_v3_small_op18", "squeezenet1_1_op21",
          "regnet_y_400mf_op13_nhwc", "lraspp_mobilenet_v3_large_op13_dynamic",
          "ssdlite320_mobilenet_v3_large_op13"]


def torch_modules():
    import torch
    import torchvision
    return torch, torchvision


def randomize(model, torch, seed):
    """Random weights that exercise every layer: BatchNorm statistics far from (0, 1),
    and no layer left all-zero by its initializer (ViT's head, say)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (torch.nn.BatchNorm2d, torch.nn.BatchNorm1d)):
                shape = module.running_mean.shape
                module.running_mean.copy_(torch.rand(shape, generator=generator) - 0.5)
                module.running_var.copy_(torch.rand(shape, generator=generator) * 1.5 + 0.5)
                module.weight.copy_(torch.rand(shape, generator=generator) + 0.5)
                module.bias.copy_(torch.rand(shape, generator=generator) * 0.4 - 0.2)
        for parameter in model.parameters():
            if parameter.numel() > 0 and float(parameter.abs().max()) == 0.0:
                parameter.copy_((torch.rand(parameter.shape, generator=generator) - 0.5) * 0.1)
    return model.eval()


def spread_detection_scores(model, torch, seed):
    """Random weights leave every class score near 1/91, so the detector's ranking
    (TopK, NMS, the final top 300) turns on differences of 1e-8 that any two runtimes,
    or one runtime at two thread counts, resolve differently. Scaled class logits spread
    the scores apart, so the outputs compare as a trained detector's would."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        # BatchNorm statistics measured on random images (as training would), so the
        # features stay varied instead of saturating into ties.
        batch_norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        for bn in batch_norms:
            bn.reset_running_stats()
            bn.momentum = None
            bn.train()
        images = torch.rand(8, 3, 320, 320, generator=generator)
        features = list(model.backbone(images).values())
        model.head(features)
        for bn in batch_norms:
            bn.eval()
        for block in model.head.classification_head.module_list:
            last = [m for m in block.modules() if isinstance(m, torch.nn.Conv2d)][-1]
            last.weight.mul_(3.0)
            last.bias.copy_((torch.rand(last.bias.shape, generator=generator) - 0.5) * 0.5)
    return model


def build_torch_model(name, torch, torchvision):
    torch.manual_seed(0)
    if name in DETECTION:
        return getattr(torchvision.models.detection, name)(weights=None, weights_backbone=None)
    if name in SEGMENTATION:
        inner = getattr(torchvision.models.segmentation, name)(weights=None, weights_backbone=None)

        class Segmentation(torch.nn.Module):
            def __init__(self, model):
                super().__init__()
                self.model = model

            def forward(self, x):
                return self.model(x)["out"]
        return Segmentation(inner)
    kwargs = {"weights": None}
    if name == "googlenet":
        kwargs.update(aux_logits=False, init_weights=True)
    return getattr(torchvision.models, name)(**kwargs)


def export(name, opset, path, dynamic=False):
    torch, torchvision = torch_modules()
    model = randomize(build_torch_model(name, torch, torchvision), torch, seed=len(name))
    if name in DETECTION:
        model = spread_detection_scores(model, torch, seed=len(name))
    size = 320 if name in DETECTION else (256 if name in SEGMENTATION else 224)
    x = torch.rand(1, 3, size, size)
    if name in DETECTION:
        torch.onnx.export(model, ([x[0]],), str(path), opset_version=opset, input_names=["x"],
                          output_names=["boxes", "scores", "labels"])
        return
    axes = {"x": {0: "N", 2: "H", 3: "W"}, "y": {0: "N", 2: "H", 3: "W"}} if dynamic else None
    torch.onnx.export(model, x, str(path), opset_version=opset, input_names=["x"],
                      output_names=["y"], dynamic_axes=axes)


def relabel(source, target_opset, path):
    """The model at a newer opset, with the Reduce ops' axes moved to an input (18)."""
    model = onnx.load(str(source))
    graph = model.graph
    for node in graph.node:
        if node.op_type in REDUCE_OPS and target_opset >= 18:
            axes = [a for a in node.attribute if a.name == "axes"]
            if axes:
                name = f"{node.output[0]}_axes"
                graph.initializer.append(numpy_helper.from_array(np.array(axes[0].ints, np.int64), name))
                node.attribute.remove(axes[0])
                node.input.append(name)
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            entry.version = target_opset
    model.ir_version = 10 if target_opset >= 21 else (9 if target_opset >= 19 else 8)
    onnx.save(model, str(path))


def with_constant_weights(source, path):
    model = onnx.load(str(source))
    graph = model.graph
    constants = [helper.make_node("Constant", [], [t.name], name=f"const_{t.name}", value=t)
                 for t in graph.initializer]
    del graph.initializer[:]
    names = {c.output[0] for c in constants}
    kept_inputs = [i for i in graph.input if i.name not in names]
    del graph.input[:]
    graph.input.extend(kept_inputs)
    nodes = constants + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(model, str(path))


def with_nhwc_input(source, path):
    model = onnx.load(str(source))
    graph = model.graph
    x = graph.input[0]
    dims = [d.dim_value for d in x.type.tensor_type.shape.dim]
    nchw_name = x.name + "_nchw"
    for node in graph.node:
        node.input[:] = [nchw_name if i == x.name else i for i in node.input]
    transpose = helper.make_node("Transpose", [x.name], [nchw_name], name="input_nhwc_to_nchw",
                                 perm=[0, 3, 1, 2])
    graph.node.insert(0, transpose)
    nhwc = [dims[0], dims[2], dims[3], dims[1]]
    graph.input[0].CopyFrom(helper.make_tensor_value_info(x.name, onnx.TensorProto.FLOAT, nhwc))
    onnx.save(model, str(path))


def plan(set_name):
    """(id, family, opset, how, shapes) for every suite model."""
    entries = []

    def add(model_id, family, opset, how, shapes):
        entries.append({"id": model_id, "family": family, "opset": opset, "how": how,
                        "shapes": shapes})
    image = [[1, 3, 224, 224]]
    for name in CLASSIFIERS:
        opsets = [11, 13, 17] if name in SMALL else ([14] if name == "vit_b_16" else [13])
        if name == "swin_t":
            opsets = [17]
        for opset in opsets:
            add(f"{name}_op{opset}", "classifier", opset, {"export": name}, image)
    for opset in (11, 13, 17):
        add(f"lraspp_mobilenet_v3_large_op{opset}", "segmentation", opset,
            {"export": "lraspp_mobilenet_v3_large"}, [[1, 3, 256, 256]])
    for opset in (11, 13, 17):
        add(f"deeplabv3_mobilenet_v3_large_op{opset}", "segmentation", opset,
            {"export": "deeplabv3_mobilenet_v3_large"}, [[1, 3, 256, 256]])
    add("lraspp_mobilenet_v3_large_op13_dynamic", "segmentation", 13,
        {"export": "lraspp_mobilenet_v3_large", "dynamic": True}, [[1, 3, 256, 256], [1, 3, 320, 224]])
    add("mobilenet_v3_small_op13_dynamic", "classifier", 13,
        {"export": "mobilenet_v3_small", "dynamic": True}, [[1, 3, 224, 224], [2, 3, 160, 192]])
    for opset in (11, 13, 17):
        add(f"ssdlite320_mobilenet_v3_large_op{opset}", "detection", opset,
            {"export": "ssdlite320_mobilenet_v3_large"}, [[3, 320, 320]])
    for name, opset in OLD_OPSET:
        add(f"{name}_op{opset}", "classifier-old-opset", opset, {"export": name}, image)
    for name, opset in NEW_OPSET:
        add(f"{name}_op{opset}", "classifier-new-opset", opset,
            {"relabel": f"{name}_op17" if name in SMALL else f"{name}_op13"}, image)
    add("efficientnet_b0_op13_constants", "constant-weights", 13, {"constants": "efficientnet_b0_op13"}, image)
    add("mobilenet_v3_small_op11_constants", "constant-weights", 11,
        {"constants": "mobilenet_v3_small_op11"}, image)
    add("regnet_y_400mf_op13_nhwc", "nhwc-input", 13, {"nhwc": "regnet_y_400mf_op13"}, [[1, 224, 224, 3]])
    add("shufflenet_v2_x1_0_op17_nhwc", "nhwc-input", 17, {"nhwc": "shufflenet_v2_x1_0_op17"},
        [[1, 224, 224, 3]])
    if set_name == "ci":
        wanted = set(CI_SET)
        needed = set()
        for entry in entries:
            if entry["id"] in wanted:
                needed.update(v for k, v in entry["how"].items() if k in ("relabel", "constants", "nhwc"))
        entries = [e for e in entries if e["id"] in wanted or e["id"] in needed]
        for entry in entries:
            entry["ci_only_source"] = entry["id"] not in wanted
    return entries


def build(entry, out):
    path = out / f"{entry['id']}.onnx"
    if path.exists():
        return path
    how = entry["how"]
    tmp = path.with_suffix(".tmp.onnx")
    if "export" in how:
        export(how["export"], entry["opset"], tmp, dynamic=how.get("dynamic", False))
    elif "relabel" in how:
        relabel(out / f"{how['relabel']}.onnx", entry["opset"], tmp)
    elif "constants" in how:
        with_constant_weights(out / f"{how['constants']}.onnx", tmp)
    else:
        with_nhwc_input(out / f"{how['nhwc']}.onnx", tmp)
    tmp.rename(path)
    return path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--set", default="full", choices=["full", "ci"])
    parser.add_argument("--only", nargs="*", default=[])
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    entries = plan(args.set)
    # Sources first: variants are made from exports.
    entries.sort(key=lambda e: 0 if "export" in e["how"] else 1)
    manifest = []
    for entry in entries:
        if args.only and entry["id"] not in args.only:
            continue
        try:
            path = build(entry, args.out)
            entry["file"] = path.name
            entry["bytes"] = path.stat().st_size
            print(f"built {entry['id']} ({entry['bytes'] / 1e6:.1f} MB)", flush=True)
        except Exception as error:  # an export that fails is a suite row, not a crash
            entry["build_error"] = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            print(f"FAILED {entry['id']}: {entry['build_error']}", flush=True)
        manifest.append(entry)
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(manifest)} models, manifest at {args.out / 'manifest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
