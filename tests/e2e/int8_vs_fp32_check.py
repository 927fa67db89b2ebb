#!/usr/bin/python3
"""bench/suite/int8_vs_fp32.py: the table and verdict from two suite_vs_ort.py JSON files,
and bad input rejected with one line on stderr and exit 1 (2 for bad options)."""
import argparse
import json
import pathlib
import subprocess
import sys


def summary(rows):
    return {"summary": [{"model": m, "threads": t, "edgeperf": {"p50_ms": ms}} for m, t, ms in rows]}


def run(script, args):
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    args = parser.parse_args()
    script = pathlib.Path(args.source_dir) / "bench/suite/int8_vs_fp32.py"
    work = pathlib.Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    failures = 0

    def check(what, ok, proc):
        nonlocal failures
        if not ok:
            failures += 1
            print(f"FAIL {what}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}")
        else:
            print(f"ok   {what}")

    int8 = work / "int8.json"
    fp32 = work / "fp32.json"
    int8.write_text(json.dumps(summary([("a_int8", 1, 1.0), ("b_int8", 1, 4.0),
                                        ("a_int8", 2, 2.0), ("b_int8", 2, 2.0)])))
    fp32.write_text(json.dumps(summary([("a", 1, 4.0), ("b", 1, 9.0),
                                        ("a", 2, 4.0), ("b", 2, 4.0)])))
    # 1 thread: sqrt(0.25 * 4/9) = 0.333 (met); 2 threads: 0.5 (missed): exit 2.
    proc = run(script, ["--int8", str(int8), "--fp32", str(fp32)])
    check("geomeans and verdicts", proc.returncode == 2 and "| 1 | 2 | 0.333 | <= 0.4: met |"
          in proc.stdout and "| 2 | 2 | 0.500 | <= 0.4: missed |" in proc.stdout, proc)
    proc = run(script, ["--int8", str(int8), "--fp32", str(fp32), "--target", "0.5"])
    check("every target met: exit 0", proc.returncode == 0, proc)

    partial = work / "partial.json"
    partial.write_text(json.dumps(summary([("a", 1, 4.0)])))
    empty = work / "empty.json"
    empty.write_text(json.dumps(summary([])))
    no_manifest = work / "no_manifest"
    no_manifest.mkdir(exist_ok=True)
    suite = work / "suite"
    suite.mkdir(exist_ok=True)
    (suite / "manifest.json").write_text(json.dumps([{"id": "c_int8", "file": "c.onnx"}]))
    cases = [
        ("missing FP32 row", ["--int8", str(int8), "--fp32", str(partial)], "no FP32 row for b"),
        ("missing file", ["--int8", str(work / "absent.json"), "--fp32", str(fp32)], "absent.json"),
        ("no model", ["--int8", str(empty), "--fp32", str(fp32)], "no INT8 model"),
        ("no manifest", ["--int8-suite", str(no_manifest), "--fp32-suite", str(suite)],
         "no_manifest/manifest.json"),
        ("unknown id", ["--int8-suite", str(suite), "--fp32-suite", str(suite), "--only", "zz"],
         "zz"),
        ("no FP32 file", ["--int8-suite", str(suite), "--fp32-suite", str(suite)],
         "no FP32 file for c_int8"),
    ]
    for what, case_args, needle in cases:
        proc = run(script, case_args)
        lines = proc.stderr.strip().splitlines()
        check(what, proc.returncode == 1 and len(lines) == 1 and needle in lines[0], proc)
    proc = run(script, ["--int8", str(int8)])
    check("half a pair of options", proc.returncode == 2 and "--fp32" in proc.stderr, proc)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
