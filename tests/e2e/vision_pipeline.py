#!/usr/bin/env python3
"""`edgeperf vision` end to end: a video made here with ffmpeg through the zoo MobileNetV2.

Checks the statistics JSON (per-stage p50/p99, end-to-end latency, FPS, drops), that no
frame is lost silently (captured = processed + dropped), the image-folder source, the
annotated frames of --out, a video cut short mid-stream, and one-line errors for bad input.
The speed targets (FPS against the inference bound, preprocessing's share) are in
bench/vision/pipeline_fps.py.
"""
import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

from e2e_checks import check, run


def video(path, size, seconds, *extra):
    run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size={size}:rate=30",
         "-t", str(seconds), "-pix_fmt", "yuv420p", *extra, path])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--source-dir", required=True)
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        print("ffmpeg not installed (scripts/setup.sh installs it)")
        return 77
    work = Path(args.work_dir)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    failures = []
    edgeperf = args.edgeperf
    model = work / "mobilenet_v2.onnx"
    run([edgeperf, "zoo", "mobilenet_v2", "-o", model])

    clip = work / "clip.mp4"
    video(clip, "640x480", 3)
    stats = work / "stats.json"
    out = work / "frames"
    done = run([edgeperf, "vision", "--model", model, "--source", f"file:{clip}", "--threads", "2",
                "--json", stats, "--out", out])
    print(done.stdout)
    s = json.loads(stats.read_text())
    for stage in ("capture", "preprocess", "infer", "render"):
        check(all(k in s["stages_ms"][stage] for k in ("p50", "p99", "max")), f"stage {stage}: p50, p99, max", failures)
    check(s["end_to_end_ms"]["p50"] >= s["stages_ms"]["infer"]["p50"], "end-to-end p50 covers inference", failures)
    check(s["frames_captured"] == 90, f"90 frames captured ({s['frames_captured']})", failures)
    check(s["frames_processed"] + s["frames_dropped"] == s["frames_captured"],
          "captured = processed + dropped", failures)
    check(abs(s["source_fps"] - 30) < 0.01 and s["fps"] > 0 and s["infer_bound_fps"] > 0,
          f"fps {s['fps']:.1f}, source {s['source_fps']}, inference bound {s['infer_bound_fps']:.1f}", failures)
    jpegs = sorted(out.glob("*.jpg"))
    check(len(jpegs) == s["frames_processed"] and not list(out.glob("*.tmp")),
          f"--out: one JPEG per rendered frame ({len(jpegs)})", failures)

    frames_dir = work / "images"
    frames_dir.mkdir()
    run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=5", "-t", "1",
         frames_dir / "f%02d.png"])
    folder = json.loads(run([edgeperf, "vision", "--model", model, "--source", f"images:{frames_dir}",
                             "--json", work / "folder.json", "--threads", "1"]).returncode == 0
                        and (work / "folder.json").read_text())
    check(folder["frames_processed"] == 5 and folder["frames_dropped"] == 0, "images: every file once", failures)

    # Data that stops mid-stream (moov first, the rest cut): what was read is processed.
    whole = work / "faststart.mp4"
    video(whole, "320x240", 3, "-movflags", "+faststart")
    cut = work / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    partial = json.loads(run([edgeperf, "vision", "--model", model, "--source", f"file:{cut}", "--no-pace",
                              "--json", work / "cut.json"]).returncode == 0 and (work / "cut.json").read_text())
    check(0 < partial["frames_processed"] < 90 and partial["frames_dropped"] == 0,
          f"a video cut mid-stream: {partial['frames_processed']} frames, then the end", failures)

    truncated = work / "truncated.mp4"
    truncated.write_bytes(clip.read_bytes()[:4000])
    empty_dir = work / "empty"
    empty_dir.mkdir()
    # An int8 (static QDQ) model: preprocessing writes the quantized input itself; its
    # predictions agree with feeding f32 through the model's own QuantizeLinear.
    calib = work / "calib.npy"
    np.save(calib, np.random.default_rng(0).standard_normal((8, 3, 224, 224)).astype(np.float32))
    int8_model = work / "mobilenet_v2_int8.onnx"
    run([edgeperf, "quantize", model, "-o", int8_model, "--mode", "static", "--per-channel", "--calib", calib,
         "--no-speed-check"])
    tops = {}
    for flag in ("", "--float-input"):
        record = work / f"record{flag}"
        done = run([edgeperf, "vision", "--model", int8_model, "--source", f"file:{clip}", "--no-pace",
                    "--frames", "30", "--record", record, *([flag] if flag else [])])
        if not flag:
            check("input fed quantized (uint8" in done.stdout, "int8 model: input quantized in preprocessing", failures)
        tops[flag] = record
    agree = run(["node", "--input-type=module", "-e",
                 "import { DuckDBInstance } from '@duckdb/node-api';"
                 "const db = await DuckDBInstance.create(':memory:'); const c = await db.connect();"
                 f"const r = await c.runAndReadAll(\"SELECT count(*)::INTEGER AS n, sum((a.top_class = b.top_class)::INTEGER)::INTEGER AS same "
                 f"FROM read_parquet('{tops['']}/*.parquet') a JOIN read_parquet('{tops['--float-input']}/*.parquet') b USING (frame)\");"
                 "console.log(JSON.stringify(r.getRowObjects()[0]));"], cwd=args.source_dir)
    counts = json.loads(agree.stdout)
    check(counts["n"] == 30 and counts["same"] >= 27,
          f"int8 model: quantized-input and f32-input runs agree on top-1 in {counts['same']}/{counts['n']} frames", failures)

    bad = {
        "missing file": ["--model", model, "--source", f"file:{work / 'nope.mp4'}"],
        "truncated mp4 (no index)": ["--model", model, "--source", f"file:{truncated}"],
        "model without an image input": ["--model", Path(args.source_dir) / "models/fixtures/digits_mlp.onnx",
                                         "--source", "synthetic", "--frames", "2"],
        "unknown source kind": ["--model", model, "--source", "webcam:0"],
        "folder without images": ["--model", model, "--source", f"images:{empty_dir}"],
        "bad synthetic size": ["--model", model, "--source", "synthetic:10x"],
        "unknown task": ["--model", model, "--task", "pose", "--frames", "1"],
        "missing camera": ["--model", model, "--source", "v4l2:/dev/edgeperf-no-such-video"],
        "not a camera": ["--model", model, "--source", "v4l2:/dev/null"],
        "bad camera spec": ["--model", model, "--source", "v4l2:/dev/video0:640x"],
        "classifier asked to detect": ["--model", model, "--task", "detect", "--frames", "1"],
        "zero standard deviation": ["--model", model, "--std", "0,1,1", "--frames", "1"],
    }
    for what, flags in bad.items():
        done = run([edgeperf, "vision", *flags], expect_ok=False)
        lines = done.stderr.strip().splitlines()
        check(done.returncode == 1 and len(lines) == 1 and lines[0].startswith("edgeperf: error:"),
              f"{what}: {lines[0] if lines else '(no message)'}", failures)

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
