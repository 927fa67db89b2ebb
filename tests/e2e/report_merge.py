#!/usr/bin/python3
"""`edgeperf report` merges bench reports from different machines.

One report is measured here; the other is a fixture standing for another machine (a
copy of the first with its system block replaced, labelled as a fixture). The merged
table has one device-profiling row per model and machine with every column filled
(a value, or a stated reason such as "not measured"), the HTML charts both machines'
models in one chart, and bad reports are one-line errors.
"""

import argparse
import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

COLUMNS = 14
FIXTURE_CPU = "Cortex-A76 (fixture: stands for a Raspberry Pi 5)"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--work-dir", required=True, type=Path)
    args = parser.parse_args()
    shutil.rmtree(args.work_dir, ignore_errors=True)
    args.work_dir.mkdir(parents=True)
    ep = args.edgeperf
    model = args.work_dir / "ds_cnn.onnx"
    subprocess.run([ep, "zoo", "ds_cnn", "-o", str(model)], check=True, capture_output=True)
    real = args.work_dir / "real.json"
    subprocess.run([ep, "bench", str(model), "--runs", "5", "--warmup", "1", "--threads", "1",
                    "--json", str(real)], check=True, capture_output=True)
    fixture_report = copy.deepcopy(json.loads(real.read_text()))
    fixture_report["system"].update({"cpu_model": FIXTURE_CPU, "architecture": "aarch64",
                                     "physical_cores": 4, "isa_extensions": ["neon", "asimddp"],
                                     "clock_ghz_measured": None})
    fixture = args.work_dir / "fixture_pi5.json"
    fixture.write_text(json.dumps(fixture_report))

    merged_json, html = args.work_dir / "merged.json", args.work_dir / "merged.html"
    proc = subprocess.run([ep, "report", str(real), str(fixture), "--json", str(merged_json),
                           "--html", str(html), "--md", str(args.work_dir / "merged.md")],
                          capture_output=True, text=True)
    failures = []
    if proc.returncode != 0:
        failures.append(f"report failed: {proc.stderr}")
    else:
        rows = [line for line in proc.stdout.splitlines() if line.startswith("| ") and "---" not in line]
        body = rows[1:]
        cells = [[c.strip() for c in row.strip("|").split("|")] for row in body]
        if len(body) != 2 or any(len(c) != COLUMNS for c in cells):
            failures.append(f"expected 2 rows of {COLUMNS} columns: {proc.stdout}")
        if any(cell in ("", "-") for row in cells for cell in row):
            failures.append(f"a placeholder cell: {proc.stdout}")
        targets = {row[0] for row in cells}
        if not any(FIXTURE_CPU in t for t in targets) or len(targets) != 2:
            failures.append(f"both machines must be rows: {targets}")
        if cells and cells[1][12] != "not measured":
            failures.append(f"the fixture's clock must read 'not measured': {cells[1][12]}")
        merged = json.loads(merged_json.read_text())
        if len(merged["machines"]) != 2 or len(merged["models"]) != 2:
            failures.append("the merged JSON does not hold both machines")
        page = html.read_text()
        charted = all(f'id="{chart}"' in page for chart in ("latency-bars", "pareto", "report-data"))
        if not charted or "uPlot" not in page or FIXTURE_CPU not in page or page.count("ds_cnn @") < 2:
            failures.append("the HTML does not chart both machines' models")
    for bad, expected in ((b"{}", "not an edgeperf bench report"), (b"not json", "not valid JSON")):
        path = args.work_dir / "bad.json"
        path.write_bytes(bad)
        proc = subprocess.run([ep, "report", str(real), str(path)], capture_output=True, text=True)
        lines = proc.stderr.strip().splitlines()
        if proc.returncode == 0 or len(lines) != 1 or expected not in lines[0] or "bad.json" not in lines[0]:
            failures.append(f"bad report {bad!r}: {proc.stderr!r}")
    for failure in failures:
        print("FAIL  " + failure)
    print("all checks passed" if not failures else f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
