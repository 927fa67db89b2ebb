#!/usr/bin/python3
"""End-to-end tests of `edgeperf log` (crash-safe IMU logging to Parquet).

Chunks are read back with sensors_readback (tests/sensors/imu_readback.cpp),
which opens every finished .parquet file through ParquetReader and prints a
JSON summary; it exits non-zero if any finished file is unreadable.
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

TIMEOUT_S = 60
FAILURES = []


def check(condition, message):
    if not condition:
        FAILURES.append(message)
        print(f"FAIL: {message}", file=sys.stderr)


def run(args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT_S, **kwargs)


def readback(tool, directory):
    result = run([tool, str(directory)])
    check(result.returncode == 0, f"readback of {directory} failed: {result.stderr.strip()}")
    return json.loads(result.stdout) if result.returncode == 0 else None


def sidecar(directory):
    files = sorted(Path(directory).glob("log-*.json"))
    check(len(files) == 1, f"expected one sidecar in {directory}, found {len(files)}")
    return json.loads(files[0].read_text()) if files else {}


def start_logger(edgeperf, out, *extra):
    return subprocess.Popen([edgeperf, "log", "--out", str(out), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_chunks(out, count, limit_s=20):
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if len(list(Path(out).glob("date=*/*.parquet"))) >= count:
            return True
        time.sleep(0.05)
    return False


def test_logs_and_reads_back(edgeperf, tool, work):
    out = work / "basic"
    result = run([edgeperf, "log", "--source", "sim", "--rate", "200", "--duration", "3",
                  "--chunk-rows", "100", "--out", str(out), "--sensor-id", "3"])
    check(result.returncode == 0, f"basic log failed: {result.stderr.strip()}")
    summary = readback(tool, out)
    if summary:
        check(summary["rows"] == 600, f"basic: expected 600 rows, got {summary['rows']}")
        check(summary["ordered"], "basic: timestamps not strictly increasing")
        check(summary["sensor_ids"] == [3], f"basic: sensor ids {summary['sensor_ids']}")
        # 6 chunks of 100 rows; 7 if the run crossed midnight UTC (chunks split at dates).
        check(len(summary["files"]) in (6, 7), f"basic: expected 6 chunks, got {summary['files']}")
        check(all(f["path"].startswith("date=") for f in summary["files"]),
              "basic: chunk outside a date= partition")
        check(not summary["temporaries"], f"basic: temporaries left {summary['temporaries']}")
        day = time.strftime("%Y-%m-%d", time.gmtime(summary["first_ts"] / 1e9))
        check(any(f["path"].startswith(f"date={day}/") for f in summary["files"]),
              f"basic: no partition date={day}")
    stats = sidecar(out)
    check(stats.get("status") == "complete", f"basic: sidecar status {stats.get('status')}")
    check(stats.get("samples") == 600 and stats.get("dropped_samples") == 0,
          f"basic: sidecar counters {stats}")
    for key in ("late_samples", "jitter_us", "i2c"):
        check(key in stats, f"basic: sidecar lacks {key}")
    check("jitter p50" in result.stdout, "basic: no counter summary printed")
    return out, summary


def test_replay(edgeperf, tool, work, source_dir, source_summary):
    out = work / "replay"
    result = run([edgeperf, "log", "--source", f"replay:{source_dir}", "--rate", "5000",
                  "--out", str(out), "--chunk-rows", "250"])
    check(result.returncode == 0, f"replay log failed: {result.stderr.strip()}")
    summary = readback(tool, out)
    if summary and source_summary:
        check(summary["rows"] == source_summary["rows"], "replay: row count differs")
        check(summary["first_ts"] == source_summary["first_ts"], "replay: timestamps differ")
        check(summary["last_ts"] == source_summary["last_ts"], "replay: last timestamp differs")


def test_kill_9_leaves_only_complete_chunks(edgeperf, tool, work, delay_s):
    out = work / f"kill9_{delay_s}"
    logger = start_logger(edgeperf, out, "--rate", "1000", "--chunk-rows", "100",
                          "--compression", "none")
    got_chunks = wait_for_chunks(out, 3)
    time.sleep(delay_s)  # land somewhere inside a chunk or a write
    logger.kill()
    logger.wait(timeout=TIMEOUT_S)
    check(got_chunks, "kill9: logger wrote no chunks")
    summary = readback(tool, out)
    if summary:
        check(len(summary["files"]) >= 3, f"kill9: only {len(summary['files'])} chunks")
        check(all(f["rows"] == 100 for f in summary["files"]),
              f"kill9: a final-named chunk is partial: {summary['files']}")
        check(summary["ordered"], "kill9: timestamps not increasing")
    check(sidecar(out).get("status") == "running", "kill9: sidecar should still say running")


def test_signal_flushes_open_chunk(edgeperf, tool, work, sig):
    name = signal.Signals(sig).name
    out = work / name.lower()
    logger = start_logger(edgeperf, out, "--rate", "500", "--chunk-rows", "100000")
    time.sleep(1.5)
    logger.send_signal(sig)
    stdout, stderr = logger.communicate(timeout=TIMEOUT_S)
    check(logger.returncode == 0, f"{name}: exit {logger.returncode}: {stderr.strip()}")
    summary = readback(tool, out)
    stats = sidecar(out)
    if summary:
        check(len(summary["files"]) in (1, 2), f"{name}: expected one flushed chunk")
        check(summary["rows"] > 100, f"{name}: only {summary['rows']} rows flushed")
        check(summary["rows"] == stats.get("rows_written"), f"{name}: rows differ from sidecar")
    check(stats.get("status") == "complete", f"{name}: sidecar status {stats.get('status')}")


def tree_hashes(directory):
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in Path(directory).glob("date=*/*.parquet")}


def test_full_disk(edgeperf, tool, work):
    out = work / "fulldisk"
    first = run([edgeperf, "log", "--rate", "200", "--duration", "1", "--chunk-rows", "50",
                 "--out", str(out)])
    check(first.returncode == 0, f"fulldisk: first run failed: {first.stderr.strip()}")
    before = tree_hashes(out)
    check(len(before) == 4, f"fulldisk: expected 4 earlier chunks, got {len(before)}")
    # 4000 uncompressed rows are ~150 KB, over a 64 KiB file size limit.
    command = (f"ulimit -f 64; exec '{edgeperf}' log --rate 2000 --duration 5 --chunk-rows 4000 "
               f"--compression none --out '{out}'")
    second = run(["bash", "-c", command])
    lines = second.stderr.strip().splitlines()
    check(second.returncode != 0, "fulldisk: logger exited 0 despite the file size limit")
    check(len(lines) == 1 and ".parquet" in second.stderr and "too large" in second.stderr,
          f"fulldisk: error should be one line naming the file: {second.stderr.strip()}")
    after = tree_hashes(out)
    check(after == before, "fulldisk: earlier chunks changed or a partial chunk appeared")
    summary = readback(tool, out)
    if summary:
        check(summary["rows"] == 200, f"fulldisk: expected 200 rows, got {summary['rows']}")
        check(not summary["temporaries"], f"fulldisk: temporaries left {summary['temporaries']}")
    failed = [json.loads(p.read_text()) for p in out.glob("log-*.json")]
    check(any(s.get("status") == "failed" and ".parquet" in s.get("error", "") for s in failed),
          "fulldisk: sidecar does not record the failure")


def expect_rejected(edgeperf, args, needle):
    result = run([edgeperf, "log", *args])
    lines = result.stderr.strip().splitlines()
    check(result.returncode != 0, f"{args}: accepted")
    check(len(lines) >= 1 and needle in result.stderr,
          f"{args}: error should mention {needle!r}: {result.stderr.strip()}")
    check(not any(m in result.stderr for m in ("Sanitizer", "terminate called", "Segmentation")),
          f"{args}: crashed: {result.stderr.strip()}")


def test_rejects_bad_options(edgeperf, work):
    out = str(work / "bad")
    for rate in ("0", "-1", "-0.5", "10001", "1e9", "nan"):
        expect_rejected(edgeperf, [f"--rate={rate}", "--out", out, "--duration", "1"], "--rate")
    expect_rejected(edgeperf, ["--rate", "abc", "--out", out], "rate")
    blocker = work / "a_file"
    blocker.write_text("not a directory")
    expect_rejected(edgeperf, ["--out", str(blocker / "sub"), "--duration", "1"], "a_file")
    expect_rejected(edgeperf, ["--out", str(blocker), "--duration", "1"], "a_file")
    if os.geteuid() != 0:  # root ignores directory permissions
        locked = work / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        expect_rejected(edgeperf, ["--out", str(locked), "--duration", "1"], "locked")
    expect_rejected(edgeperf, ["--source", "bogus", "--out", out], "unknown source")
    expect_rejected(edgeperf, ["--source", "sim:xyz", "--out", out], "seed")
    expect_rejected(edgeperf, ["--source", "mpu6050:/nonexistent/i2c-7", "--out", out],
                    "/nonexistent/i2c-7")
    expect_rejected(edgeperf, ["--chunk-rows", "0", "--out", out], "--chunk-rows")
    expect_rejected(edgeperf, ["--chunk-secs", "-2", "--out", out], "--chunk-secs")
    expect_rejected(edgeperf, ["--chunk-rows", "5", "--chunk-secs", "1", "--out", out], "chunk")
    expect_rejected(edgeperf, ["--compression", "lz4", "--out", out], "lz4")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--readback", required=True)
    parser.add_argument("--work-dir", required=True, type=Path)
    args = parser.parse_args()
    work = args.work_dir
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    basic_dir, basic_summary = test_logs_and_reads_back(args.edgeperf, args.readback, work)
    test_replay(args.edgeperf, args.readback, work, basic_dir, basic_summary)
    for delay_s in (0.37, 0.5, 0.61):
        test_kill_9_leaves_only_complete_chunks(args.edgeperf, args.readback, work, delay_s)
    test_signal_flushes_open_chunk(args.edgeperf, args.readback, work, signal.SIGINT)
    test_signal_flushes_open_chunk(args.edgeperf, args.readback, work, signal.SIGTERM)
    test_full_disk(args.edgeperf, args.readback, work)
    test_rejects_bad_options(args.edgeperf, work)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
        return 1
    print("all edgeperf log checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
