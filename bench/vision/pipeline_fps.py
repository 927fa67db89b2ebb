#!/usr/bin/env python3
"""The vision pipeline's speed against its own bounds, measured in the same run.

For each resolution, a 30 fps test video (made with ffmpeg) runs through `edgeperf vision`
with the zoo MobileNetV2. Pipelining should hide everything but inference:
  FPS >= 0.9 x min(source FPS, 1000 / inference p50)
and preprocessing should cost under 10% of inference (p50). Also run unpaced (--no-pace),
where the source is read as fast as the pipeline goes and the bound is inference alone.

  bench/vision/pipeline_fps.py --edgeperf build/edgeperf [--threads 2] [--seconds 5]
Prints one row per run; exit 1 when a target is missed.
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--sizes", default="640x480,1280x720")
    args = parser.parse_args()
    missed = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = work / "mobilenet_v2.onnx"
        subprocess.run([args.edgeperf, "zoo", "mobilenet_v2", "-o", str(model)], check=True, capture_output=True)
        print(f"{'size':>10} {'mode':>8} {'fps':>7} {'bound':>7} {'ratio':>6} {'pre p50':>8} {'inf p50':>8} "
              f"{'pre/inf':>8} {'e2e p50':>8} {'e2e p99':>8} {'drops':>6}")
        for size in args.sizes.split(","):
            clip = work / f"{size}.mp4"
            subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size={size}:rate=30",
                            "-t", str(args.seconds), "-pix_fmt", "yuv420p", str(clip)], check=True)
            for mode in ("paced", "no-pace"):
                stats = work / "stats.json"
                command = [args.edgeperf, "vision", "--model", str(model), "--source", f"file:{clip}",
                           "--threads", str(args.threads), "--json", str(stats)]
                if mode == "no-pace":
                    command.append("--no-pace")
                subprocess.run(command, check=True, capture_output=True)
                s = json.loads(stats.read_text())
                pre = s["stages_ms"]["preprocess"]["p50"]
                inf = s["stages_ms"]["infer"]["p50"]
                bound = 1000 / inf if mode == "no-pace" else min(s["source_fps"], 1000 / inf)
                ratio = s["fps"] / bound
                print(f"{size:>10} {mode:>8} {s['fps']:7.1f} {bound:7.1f} {ratio:6.2f} {pre:8.3f} {inf:8.3f} "
                      f"{pre / inf:8.1%} {s['end_to_end_ms']['p50']:8.2f} {s['end_to_end_ms']['p99']:8.2f} "
                      f"{s['frames_dropped']:6d}")
                if ratio < 0.9:
                    missed.append(f"{size} {mode}: FPS {ratio:.2f} of the bound")
                if size == "640x480" and pre >= 0.1 * inf:
                    missed.append(f"{size} {mode}: preprocessing {pre / inf:.1%} of inference")
    for line in missed:
        print("missed:", line)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
