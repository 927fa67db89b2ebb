#!/usr/bin/python3
"""Exports torchvision MobileNetV2 and ResNet-18 to ONNX for parity tests.

Weights are random (seeded) and every BatchNorm gets non-trivial running
statistics and affine parameters, so a wrong BatchNorm fold or epsilon shows up
as a numeric difference. Models are exported in eval mode at each requested
opset in two forms: NAME_opsetN.onnx with BatchNorm folded into Conv by the
exporter, and NAME_opsetN_bn.onnx that keeps the BatchNormalization nodes (and
the exporter's Identity nodes) for edgeperf's own passes to handle. Needs Debian's python3-torch and python3-torchvision (scripts/setup.sh
--tools); the outputs are large and must not be committed.

  tools/export_torchvision.py --out-dir /tmp/tv_models [--opsets 13,17] [--seed 0]
"""

import argparse
import os
import sys
from pathlib import Path

import torch
import torchvision

MODELS = {
    "mobilenet_v2": lambda: torchvision.models.mobilenet_v2(weights=None),
    "resnet18": lambda: torchvision.models.resnet18(weights=None),
}
INPUT_SHAPE = (1, 3, 224, 224)


def randomize_batchnorm(model, generator):
    """Gives every BatchNorm running stats and affine parameters far from the identity."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                n = module.num_features
                module.running_mean.copy_(torch.randn(n, generator=generator) * 0.2)
                module.running_var.copy_(torch.rand(n, generator=generator) * 1.5 + 0.25)
                module.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(n, generator=generator) * 0.1)


def build(name, seed):
    torch.manual_seed(seed)
    model = MODELS[name]()
    randomize_batchnorm(model, torch.Generator().manual_seed(seed + 1))
    return model.eval()


def export(model, path, opset, keep_batchnorm):
    tmp = path.with_name(path.name + ".tmp")
    dummy = torch.zeros(INPUT_SHAPE)
    # In EVAL mode the exporter folds BatchNorm into Conv; PRESERVE on an eval()
    # model without constant folding keeps the BatchNormalization nodes.
    mode = torch.onnx.TrainingMode.PRESERVE if keep_batchnorm else torch.onnx.TrainingMode.EVAL
    torch.onnx.export(model, dummy, str(tmp), opset_version=opset, input_names=["input"],
                      output_names=["logits"], training=mode,
                      do_constant_folding=not keep_batchnorm)
    os.replace(tmp, path)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--opsets", default="13,17")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in args.models.split(","):
        if name not in MODELS:
            print(f"export_torchvision: error: unknown model '{name}'", file=sys.stderr)
            return 2
        model = build(name, args.seed)
        for opset in (int(o) for o in args.opsets.split(",")):
            for keep_batchnorm in (False, True):
                path = out_dir / f"{name}_opset{opset}{'_bn' if keep_batchnorm else ''}.onnx"
                export(model, path, opset, keep_batchnorm)
                print(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
