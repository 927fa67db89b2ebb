#!/usr/bin/env python3
"""The amd64 .deb that `make package` writes: its control fields, its contents, and what
the packaged binary does when unpacked outside the build tree.

scripts/package.sh builds the package from this build directory into a work folder. The
test reads `dpkg-deb -I` (architecture, version, Depends from dpkg-shlibdeps), asks apt
whether this machine satisfies every dependency (`apt-get install --simulate`), unpacks the
package with `dpkg-deb -x`, and runs the unpacked /usr/bin/edgeperf: --version, a zoo
model written and benchmarked, and the dashboard serving its pages and npm libraries
from /usr/share/edgeperf. (Installing it for real, `apt-get install ./dist/...deb`, is
what a user does; the unpacked tree is the same files without changing this machine.)
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, **kwargs)
    if done.returncode != 0:
        sys.exit(f"FAIL {' '.join(command)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def check(condition: bool, what: str, failures: list[str]) -> None:
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def serve_dashboard(edgeperf: Path, failures: list[str]) -> None:
    server = subprocess.Popen([str(edgeperf), "dashboard", "--port", "0", "--rate", "20"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        match = re.search(r"http://([\d.]+):(\d+)/", line)
        check(match is not None, f"dashboard starts from the package's assets: {line.strip()!r}", failures)
        if not match:
            print(server.stderr.read())
            return
        base = f"http://{match[1]}:{match[2]}"
        for path in ("/", "/student", "/vendor/uplot/uPlot.iife.min.js", "/vendor/three/three.module.js",
                     "/vendor/three/three.core.js"):
            with urllib.request.urlopen(base + path, timeout=10) as response:
                check(response.status == 200 and len(response.read()) > 0, f"dashboard serves {path}", failures)
    finally:
        server.terminate()
        server.wait(timeout=30)


def openmp_package(build_dir: str) -> str:
    """The package of the OpenMP runtime the built edgeperf runs on (cmake/openmp_runtime.cmake)."""
    libraries = run([f"{build_dir}/edgeperf", "sysinfo"]).stdout
    return "libomp5" if "OpenMP libomp.so" in libraries else "libgomp1"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    args = parser.parse_args()
    work = Path(args.work_dir)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    failures: list[str] = []

    env = dict(os.environ, EP_DIST_DIR=str(work / "dist"))
    deb = Path(run(["bash", f"{args.source_dir}/scripts/package.sh", args.build_dir, "amd64"], env=env,
                   cwd=args.source_dir).stdout.strip().splitlines()[-1])
    check(deb.is_file() and re.fullmatch(r"edgeperf_[\d.]+_amd64\.deb", deb.name) is not None,
          f"package written: {deb.name}", failures)
    check(not list(deb.parent.glob(".*.tmp")), "no temporary file left beside it", failures)
    fields = run(["dpkg-deb", "-f", str(deb), "Architecture", "Version", "Depends"]).stdout
    print(fields)
    depends = re.search(r"^Depends: (.*)$", fields, re.M)
    check("Architecture: amd64" in fields, "Architecture: amd64", failures)
    # libavformat comes from the video module (usr/lib/edgeperf/edgeperf-video.so).
    for library in ("libc6", "libstdc++6", "libdnnl", "libprotobuf", "libonnx", "libfmt", "libavformat",
                    openmp_package(args.build_dir)):
        check(depends is not None and library in depends[1], f"Depends names {library}", failures)

    simulated = subprocess.run(["apt-get", "install", "--simulate", "--no-install-recommends", str(deb)],
                               capture_output=True, text=True, timeout=600)
    check(simulated.returncode == 0, "apt-get install --simulate: every dependency is satisfiable here",
          failures)

    root = work / "root"
    run(["dpkg-deb", "-x", str(deb), str(root)])
    edgeperf = root / "usr/bin/edgeperf"
    contents = run(["dpkg-deb", "-c", str(deb)]).stdout
    for path in ("./usr/bin/edgeperf", "./usr/share/edgeperf/web/pro.html",
                 "./usr/share/edgeperf/node_modules/three/build/three.module.js",
                 "./usr/share/doc/edgeperf/README.md", "./usr/share/doc/edgeperf/docs/arm.md",
                 "./usr/share/edgeperf/models/digits_cnn.onnx", "./usr/lib/edgeperf/edgeperf-video.so"):
        check(path in contents, f"package holds {path}", failures)
    version = run([str(edgeperf), "--version"]).stdout.strip()
    check(version.startswith("edgeperf ") and version.split()[-1] in deb.name, f"--version: {version}", failures)

    model = work / "mobilenet_v2.onnx"
    run([str(edgeperf), "zoo", "mobilenet_v2", "-o", str(model)])
    report = work / "bench.json"
    run([str(edgeperf), "bench", str(model), "--runs", "5", "--warmup", "1", "--threads", "1",
         "--json", str(report)])
    measured = json.loads(report.read_text())["models"][0]
    p50 = measured["batches"][0]["latency_ms"]["p50"]
    check(p50 > 0, f"packaged edgeperf benches the zoo MobileNetV2: p50 {p50:.2f} ms", failures)
    models = root / "usr/share/edgeperf/models"
    labeled = work / "digits.json"
    run([str(edgeperf), "bench", str(models / "digits_cnn.onnx"), "--data", str(models / "digits_eval"),
         "--runs", "5", "--threads", "1", "--json", str(labeled)])
    top1 = json.loads(labeled.read_text())["models"][0]["accuracy"]["top1"]
    check(top1 > 0.9, f"packaged fixture and labels: digits_cnn top-1 {top1:.3f}", failures)
    serve_dashboard(edgeperf, failures)

    if failures:
        print(f"{len(failures)} check(s) failed: {failures}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
