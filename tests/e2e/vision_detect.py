#!/usr/bin/env python3
"""`edgeperf vision` detect and segment paths against a Python reference.

The suite's SSDlite (torchvision, exported by Debian's torch) and two small YOLO-style
models made here (v5 layout with objectness, v8 layout without) run on frames made with
ffmpeg. With --dump, edgeperf writes each frame's raw outputs and the boxes it drew. This
script decodes the same raw outputs independently (numpy): score threshold, class-wise
greedy NMS, the box limit, and the mapping from model pixels back to the frame for the
stretch and letterbox fits. Boxes must match to 0.01 px, labels and scores exactly.

It also checks --record (DuckDB reads the per-frame Parquet; rows = processed + dropped)
and the segment path (lraspp, dynamic input size).
"""
import argparse
import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from e2e_checks import check, run


# --- the reference postprocessing, written from the formats' definitions -------------------

def iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    area = lambda r: max(0.0, r[2] - r[0]) * max(0.0, r[3] - r[1])
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


def nms(candidates, iou_limit, max_det):
    order = sorted(range(len(candidates)), key=lambda i: -candidates[i][1])  # stable
    kept = []
    for i in order:
        if len(kept) >= max_det:
            break
        box, score, label = candidates[i]
        if iou_limit is None or all(k[2] != label or iou(k[0], box) <= iou_limit for k in kept):
            kept.append(candidates[i])
    return kept


def decode_ssd(outputs, width, height, threshold):
    boxes = outputs["boxes"].reshape(-1, 4).astype(np.float64)
    scores = outputs["scores"].reshape(-1).astype(np.float64)
    labels = outputs["labels"].reshape(-1)
    normalized = len(boxes) > 0 and boxes.min() >= -0.5 and boxes.max() <= 1.5
    scale = np.array([width, height, width, height]) if normalized else np.ones(4)
    return [(list(boxes[i] * scale), float(np.float32(scores[i])), int(labels[i]))
            for i in range(len(scores)) if np.float32(scores[i]) >= threshold]


def decode_yolo(output, version, threshold):
    rows = output.reshape(output.shape[-2], output.shape[-1]).astype(np.float64)
    if version == 8:
        rows = rows.T  # [N, 4 + C]
    first_class = 5 if version == 5 else 4
    found = []
    for row in rows:
        classes = row[first_class:]
        best = int(np.argmax(classes))
        objectness = row[4] if version == 5 else 1.0
        score = float(np.float32(objectness * classes[best]))
        cx, cy, w, h = row[:4]
        # Corners held as float32, as the product holds them; a box with no area is dropped.
        box = [float(np.float32(v)) for v in (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)]
        if score < threshold or box[2] <= box[0] or box[3] <= box[1]:
            continue
        found.append((box, score, best))
    return found


def to_frame(box, fit, model_w, model_h, frame_w, frame_h):
    if fit == "stretch":
        sx, sy, dx, dy = frame_w / model_w, frame_h / model_h, 0, 0
    else:  # letterbox: scaled to fit, centred
        s = min(model_w / frame_w, model_h / frame_h)
        new_w = max(1, math.floor(frame_w * s + 0.5))
        new_h = max(1, math.floor(frame_h * s + 0.5))
        dx, dy = (model_w - new_w) // 2, (model_h - new_h) // 2
        sx, sy = frame_w / new_w, frame_h / new_h
    x1, y1, x2, y2 = box
    clip = lambda v, hi: min(max(v, 0.0), float(hi))
    return [clip((x1 - dx) * sx, frame_w), clip((y1 - dy) * sy, frame_h),
            clip((x2 - dx) * sx, frame_w), clip((y2 - dy) * sy, frame_h)]


def compare_dump(dump, decode, fit, model_size, iou_limit, max_det, what, failures):
    frames = sorted(dump.glob("frame_*.json"))
    mismatches, boxes, suppressed = [], 0, 0
    for meta_path in frames:
        meta = json.loads(meta_path.read_text())
        stem = meta_path.stem
        outputs = {p.name[len(stem) + 1:-4]: np.load(p) for p in dump.glob(f"{stem}.*.npy")}
        candidates = decode(outputs)
        expected = nms(candidates, iou_limit, max_det)
        suppressed += len(candidates) - len(expected)
        expected = [(to_frame(b, fit, *model_size, meta["width"], meta["height"]), s, l)
                    for b, s, l in expected]
        got = meta["detections"]
        boxes += len(got)
        if len(got) != len(expected):
            mismatches.append(f"{stem}: {len(got)} boxes, reference {len(expected)}")
            continue
        for g, (box, score, label) in zip(got, expected):
            if g["label"] != label or abs(g["score"] - score) > 1e-6 or \
                    max(abs(a - b) for a, b in zip(g["box"], box)) > 0.01:
                mismatches.append(f"{stem}: {g} vs reference {box} {score} {label}")
                break
    check(len(frames) > 0 and not mismatches,
          f"{what}: {len(frames)} frames, {boxes} boxes match the reference "
          f"({suppressed} candidates thresholded or suppressed)"
          + (f"; first mismatch {mismatches[0]}" if mismatches else ""), failures)


# --- small YOLO-style models ---------------------------------------------------------------

def yolo_model(path, version, classes=3, size=64, stride=8, metadata=None):
    """Conv (stride 8) -> per-cell cx, cy, w, h[, objectness], class scores, through a
    sigmoid and scaled to pixels: random boxes that overlap, so NMS has work."""
    rng = np.random.default_rng(version)
    fields = 4 + (1 if version == 5 else 0) + classes
    cells = (size // stride) ** 2
    weight = (rng.standard_normal((fields, 3, stride, stride)) * 0.3).astype(np.float32)
    bias = (rng.standard_normal(fields) * 0.5).astype(np.float32)
    scale = np.ones(fields, np.float32)
    scale[:4] = [size, size, size / 2, size / 2]
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], strides=[stride, stride],
                         kernel_shape=[stride, stride]),
        helper.make_node("Sigmoid", ["c"], ["s"]),
        helper.make_node("Reshape", ["s", "shape"], ["r"]),  # [1, fields, cells]
    ]
    if version == 5:
        nodes.append(helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 1]))
        nodes.append(helper.make_node("Mul", ["t", "scale"], ["y"]))
        scale_init = numpy_helper.from_array(scale, "scale")
        out_shape = [1, cells, fields]
    else:
        nodes.append(helper.make_node("Mul", ["r", "scale"], ["y"]))
        scale_init = numpy_helper.from_array(scale.reshape(fields, 1), "scale")
        out_shape = [1, fields, cells]
    graph = helper.make_graph(
        nodes, f"yolo_v{version}_tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        [numpy_helper.from_array(weight, "w"), numpy_helper.from_array(bias, "b"),
         numpy_helper.from_array(np.array([1, fields, cells], np.int64), "shape"), scale_init])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))


def duckdb_count(node, source_dir, pattern):
    script = (
        "import { DuckDBInstance } from '@duckdb/node-api';"
        "const db = await DuckDBInstance.create(':memory:');"
        "const c = await db.connect();"
        f"const r = await c.runAndReadAll(\"SELECT count(*)::INTEGER AS n, sum(dropped)::INTEGER AS d, "
        f"count(DISTINCT frame)::INTEGER AS f FROM read_parquet('{pattern}')\");"
        "console.log(JSON.stringify(r.getRowObjects()[0]));")
    done = run([node, "--input-type=module", "-e", script], cwd=source_dir)
    return json.loads(done.stdout)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--node", default="node")
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        print("ffmpeg not installed (scripts/setup.sh installs it)")
        return 77
    work = Path(args.work_dir)
    suite = work / "suite"  # kept between runs: the export takes a while
    for old in work.glob("*"):
        if old != suite:
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    work.mkdir(parents=True, exist_ok=True)
    failures = []
    edgeperf = args.edgeperf
    ssd_id = "ssdlite320_mobilenet_v3_large_op13"
    run(["/usr/bin/python3", Path(args.source_dir) / "bench/suite/build_suite.py", "--out", suite,
         "--only", ssd_id])
    ssd = suite / f"{ssd_id}.onnx"
    clip = work / "clip.mp4"
    run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x480:rate=10",
         "-t", "0.6", "-pix_fmt", "yuv420p", clip])

    # SSDlite: the model's own NMS output, thresholded, suppressed again at 0.3 (so the
    # reference has suppression to agree on), limited to 40 boxes.
    for fit in ("stretch", "letterbox"):
        dump = work / f"ssd_{fit}"
        stats = work / f"ssd_{fit}.json"
        run([edgeperf, "vision", "--model", ssd, "--source", f"file:{clip}", "--no-pace",
             "--fit", fit, "--score", "0.3", "--iou", "0.3", "--max-det", "40", "--dump", dump,
             "--json", stats, "--threads", "2"])
        s = json.loads(stats.read_text())
        check(s["task"] == "detect", f"ssdlite {fit}: task detect inferred from the outputs", failures)
        compare_dump(dump, lambda o: decode_ssd(o, 320, 320, 0.3), fit, (320, 320), 0.3, 40,
                     f"ssdlite {fit}", failures)

    frames = work / "frames"
    frames.mkdir()
    run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x200:rate=4",
         "-t", "1", frames / "f%02d.png"])
    for version in (5, 8):
        model = work / f"yolo_v{version}.onnx"
        yolo_model(model, version)
        dump = work / f"yolo_v{version}"
        stats = work / f"yolo_v{version}.json"
        run([edgeperf, "vision", "--model", model, "--source", f"images:{frames}", "--task", "detect",
             "--detect-format", f"yolov{version}", "--fit", "letterbox", "--score", "0.2",
             "--dump", dump, "--json", stats])
        compare_dump(dump, lambda o, v=version: decode_yolo(o["y"], v, 0.2), "letterbox", (64, 64),
                     0.45, 100, f"yolov{version} letterbox", failures)

    # An Ultralytics-style export: task, class names and letterboxing come from its
    # metadata_props, with no flag given.
    model = work / "yolo_ultralytics.onnx"
    names = {0: "cat", 1: "dog", 2: "bird"}
    yolo_model(model, 8, metadata={"author": "Ultralytics", "stride": "8", "task": "detect",
                                   "imgsz": "[64, 64]", "names": str(names)})
    dump = work / "yolo_ultralytics"
    stats = work / "yolo_ultralytics.json"
    done = run([edgeperf, "vision", "--model", model, "--source", f"images:{frames}", "--dump", dump,
                "--json", stats])
    s = json.loads(stats.read_text())
    check("model metadata (Ultralytics): 3 labels, task detect" in done.stdout and
          s["last_label"] in names.values(),
          f"Ultralytics metadata: task, names ({s['last_label']}) and letterbox taken from the model", failures)
    compare_dump(dump, lambda o: decode_yolo(o["y"], 8, 0.25), "letterbox", (64, 64), 0.45, 100,
                 "yolov8 with Ultralytics metadata", failures)

    # --record, read back by DuckDB: a camera-paced source faster than the model drops frames.
    record = work / "record"
    stats = work / "record.json"
    run([edgeperf, "vision", "--model", ssd, "--source", "synthetic:320x240@200", "--frames", "60",
         "--record", record, "--json", stats])
    s = json.loads(stats.read_text())
    counted = duckdb_count(args.node, args.source_dir, f"{record}/*.parquet")
    check(counted["n"] == s["frames_processed"] + s["frames_dropped"] == s["frames_captured"]
          and counted["d"] == s["frames_dropped"] and counted["f"] == counted["n"] and s["frames_dropped"] > 0,
          f"--record: DuckDB reads {counted['n']} rows = {s['frames_processed']} processed + "
          f"{s['frames_dropped']} dropped, {counted['d']} marked dropped", failures)

    # Segment: lraspp with dynamic H and W, at a size given on the command line.
    seg_id = "lraspp_mobilenet_v3_large_op13_dynamic"
    run(["/usr/bin/python3", Path(args.source_dir) / "bench/suite/build_suite.py", "--out", suite,
         "--only", "lraspp_mobilenet_v3_large_op13", seg_id])
    seg = suite / f"{seg_id}.onnx"
    stats = work / "segment.json"
    out = work / "segment_frames"
    run([edgeperf, "vision", "--model", seg, "--source", "synthetic:320x240@30", "--frames", "4",
         "--no-pace", "--input-size", "160x128", "--json", stats, "--out", out])
    s = json.loads(stats.read_text())
    check(s["task"] == "segment" and s["frames_processed"] == 4 and len(list(out.glob("*.jpg"))) == 4,
          "segment: lraspp at --input-size 160x128, 4 annotated frames", failures)
    missing = run([edgeperf, "vision", "--model", seg, "--source", "synthetic", "--frames", "1"],
                  expect_ok=False)
    check(missing.returncode != 0 and "--input-size" in missing.stderr and
          len(missing.stderr.strip().splitlines()) == 1,
          f"dynamic input without --input-size: one-line error ({missing.stderr.strip()})", failures)

    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
