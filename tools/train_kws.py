#!/usr/bin/python3
"""Trains the keyword-spotting fixture: MLPerf Tiny's DS-CNN on data made here by
tools/make_kws_data.py (espeak-ng voices, sox noise and shifts, MFCC 49 x 10).

Writes (each atomically) to --out:
  kws_dscnn.onnx          DS-CNN, opset 13, input `input` [batch, 1, 49, 10], output `logits` [batch, 12]
  kws_eval_inputs.npy     float32 [M, 1, 49, 10], the held-out speakers' utterances
  kws_eval_labels.npy     int64 [M]
  kws_calib_inputs.npy    float32 [100, 1, 49, 10], from the training speakers (for PTQ)
  kws_labels.txt          the 12 class names, in label order
  KWS.md                  provenance, split and the accuracy measured here
Deterministic: fixed torch seed, one CPU thread. Needs python3-torch (scripts/setup.sh).
Usage: tools/train_kws.py --data DIR (make_kws_data.py's output) [--out models/fixtures]
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from atomic_file import save_atomic  # noqa: E402

TORCH_SEED = 0
EPOCHS = 30
BATCH_SIZE = 64
LEARNING_RATE = 2e-3
CALIBRATION = 100
OPSET = 13


class DsCnn(nn.Module):
    """MLPerf Tiny's DS-CNN: Conv 64 10x4 stride 2 ('same' padding), then four depthwise-
    separable blocks (depthwise 3x3, pointwise 64), each conv followed by BatchNorm and
    ReLU, average pooling over the 25 x 5 map and a 12-way classifier."""

    def __init__(self, classes=12, width=64):
        super().__init__()
        layers = [nn.ZeroPad2d((1, 1, 4, 5)), nn.Conv2d(1, width, (10, 4), stride=2),
                  nn.BatchNorm2d(width), nn.ReLU(), nn.Dropout(0.2)]
        for _ in range(4):
            layers += [nn.Conv2d(width, width, 3, padding=1, groups=width), nn.BatchNorm2d(width), nn.ReLU(),
                       nn.Conv2d(width, width, 1), nn.BatchNorm2d(width), nn.ReLU()]
        layers += [nn.Dropout(0.4), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, classes)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--out", default=Path("models/fixtures"), type=Path)
    args = parser.parse_args()
    torch.manual_seed(TORCH_SEED)
    torch.set_num_threads(1)
    manifest = json.loads((args.data / "manifest.json").read_text())
    train_x, train_y = np.load(args.data / "train_inputs.npy"), np.load(args.data / "train_labels.npy")
    eval_x, eval_y = np.load(args.data / "eval_inputs.npy"), np.load(args.data / "eval_labels.npy")
    model = DsCnn(len(manifest["classes"]))
    generator = torch.Generator().manual_seed(TORCH_SEED)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, EPOCHS)
    loss_fn = nn.CrossEntropyLoss()
    inputs, targets = torch.from_numpy(train_x), torch.from_numpy(train_y)
    for epoch in range(EPOCHS):
        model.train()
        order = torch.randperm(len(inputs), generator=generator)
        total = 0.0
        for start in range(0, len(inputs), BATCH_SIZE):
            batch = order[start:start + BATCH_SIZE]
            optimizer.zero_grad()
            loss = loss_fn(model(inputs[batch]), targets[batch])
            loss.backward()
            optimizer.step()
            total += float(loss) * len(batch)
        schedule.step()
        if epoch % 5 == 4 or epoch == EPOCHS - 1:
            print(f"epoch {epoch + 1}: loss {total / len(inputs):.4f}, held-out accuracy "
                  f"{accuracy(model, eval_x, eval_y):.4f}", flush=True)
    model.eval()
    held_out = accuracy(model, eval_x, eval_y)
    train_accuracy = accuracy(model, train_x, train_y)
    args.out.mkdir(parents=True, exist_ok=True)
    example = torch.from_numpy(eval_x[:1])
    save_atomic(args.out / "kws_dscnn.onnx", lambda tmp: torch.onnx.export(
        model, example, tmp, opset_version=OPSET, input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}))
    save_atomic(args.out / "kws_eval_inputs.npy", lambda tmp: np.save(tmp, eval_x.astype(np.float32)))
    save_atomic(args.out / "kws_eval_labels.npy", lambda tmp: np.save(tmp, eval_y.astype(np.int64)))
    calib = train_x[np.random.default_rng(TORCH_SEED).choice(len(train_x), CALIBRATION, replace=False)]
    save_atomic(args.out / "kws_calib_inputs.npy", lambda tmp: np.save(tmp, calib.astype(np.float32)))
    save_atomic(args.out / "kws_labels.txt",
                lambda tmp: Path(tmp).write_text("\n".join(manifest["classes"]) + "\n"))
    parameters = sum(p.numel() for p in model.parameters())
    correct = int(round(held_out * len(eval_y)))
    text = f"""# Keyword-spotting fixture

Generated (do not edit by hand):

    /usr/bin/python3 tools/make_kws_data.py --out build/kws --seed {manifest['seed']}
    /usr/bin/python3 tools/train_kws.py --data build/kws --out models/fixtures

(`make kws-fixtures` runs both; `make kws-data` only the first.)

Data: made here, nothing downloaded. Debian's espeak-ng speaks the ten Speech Commands
keywords ({', '.join(manifest['classes'][2:])}), "unknown" words, and "silence" is noise
alone: 12 classes in MLPerf Tiny's order ({', '.join(manifest['classes'])}). A speaker is an
espeak-ng accent and voice variant; train and held-out speakers are disjoint
({len(manifest['speakers']['train'])} and {len(manifest['speakers']['eval'])} speakers; the
lists are in build/kws/manifest.json). Every utterance varies rate, pitch and amplitude, a
random start (sox pad/trim) and white, pink or brown noise at a random level (sox synth).
Features: MFCC 49 x 10 per second (tools/kws_features.py; the C++ front end in src/audio
computes the same, tests/e2e/mfcc_parity.py).

Training: torch {torch.__version__} on CPU, one thread, `torch.manual_seed({TORCH_SEED})`,
Adam lr {LEARNING_RATE} with cosine decay, batch {BATCH_SIZE}, {EPOCHS} epochs, on
{len(train_y)} utterances. Exported with `torch.onnx.export`, opset {OPSET}, input `input`
[batch, 1, 49, 10], output `logits` [batch, 12].

| model | parameters | held-out accuracy (torch) | training accuracy |
|---|---|---|---|
| kws_dscnn.onnx (DS-CNN: Conv 64 10x4/2, 4 x [depthwise 3x3, pointwise 64], BatchNorm + ReLU after each, average pool, Linear 12) | {parameters} | {held_out:.4f} ({correct}/{len(eval_y)}) | {train_accuracy:.4f} |

Files: `kws_eval_inputs.npy` float32 [{len(eval_y)}, 1, 49, 10] and `kws_eval_labels.npy`
int64 [{len(eval_y)}] (the held-out speakers), `kws_calib_inputs.npy` float32
[{CALIBRATION}, 1, 49, 10] (training speakers, for static quantization), `kws_labels.txt`.
Synthesized speech is easier than recorded speech: this accuracy is not comparable with
MLPerf Tiny's on Google Speech Commands.
"""
    save_atomic(args.out / "KWS.md", lambda tmp: Path(tmp).write_text(text))
    print(f"held-out accuracy {held_out:.4f} ({correct}/{len(eval_y)}), {parameters} parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
