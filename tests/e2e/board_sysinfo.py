#!/usr/bin/env python3
"""`edgeperf sysinfo --json --root TREE` on fake Raspberry Pi 5 and Jetson Orin trees.

Each tree holds what the board's kernel and firmware expose: /proc/cpuinfo with MIDR
fields, cpufreq limits, the device-tree model, and the power sensors (Pi 5: a vcgencmd
that prints PMIC ADC readings and throttling flags; Jetson: INA3221 under hwmon). The
test checks that sysinfo names the core types and shows the rails with their watts.
(Energy integrated from sampled rails during `bench` is tests/bench/power_test.cpp.)
"""
import argparse
import json
import shutil
import stat
import subprocess
import sys
from pathlib import Path


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def cpuinfo(parts: list[str], features: str) -> str:
    blocks = [
        f"processor\t: {cpu}\nBogoMIPS\t: 54.00\nFeatures\t: {features}\nCPU implementer\t: 0x41\n"
        f"CPU architecture: 8\nCPU variant\t: 0x1\nCPU part\t: {part}\nCPU revision\t: 1\n"
        for cpu, part in enumerate(parts)
    ]
    return "\n".join(blocks) + "\n"


def fake_pi5(root: Path) -> None:
    features = "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp"
    write(root, "proc/cpuinfo", cpuinfo(["0xd0b"] * 4, features) +
          "Revision\t: d04170\nModel\t\t: Raspberry Pi 5 Model B Rev 1.0\n")
    write(root, "proc/meminfo", "MemTotal:        8245000 kB\nMemAvailable:    7500000 kB\n")
    write(root, "sys/firmware/devicetree/base/model", "Raspberry Pi 5 Model B Rev 1.0\0")
    for cpu in range(4):
        write(root, f"sys/devices/system/cpu/cpu{cpu}/cpufreq/cpuinfo_max_freq", "2400000\n")
        write(root, f"sys/devices/system/cpu/cpu{cpu}/cpufreq/scaling_cur_freq", "1500000\n")
    write(root, "sys/class/thermal/thermal_zone0/type", "cpu-thermal\n")
    write(root, "sys/class/thermal/thermal_zone0/temp", "48250\n")
    write(root, "pmic.txt",
          "   3V3_SYS_A current(1)=0.06000000A\n"
          "  VDD_CORE_A current(7)=1.50000000A\n"
          "   3V3_SYS_V volt(9)=3.30000000V\n"
          "  VDD_CORE_V volt(15)=0.80000000V\n"
          "     EXT5V_V volt(24)=5.10000000V\n")
    vcgencmd = root / "usr/bin/vcgencmd"
    write(root, "usr/bin/vcgencmd",
          "#!/bin/sh\ncase \"$1\" in\n"
          f"  pmic_read_adc) cat '{root / 'pmic.txt'}' ;;\n"
          "  get_throttled) echo throttled=0x50000 ;;\n"
          "  *) echo error=2; exit 1 ;;\nesac\n")
    vcgencmd.chmod(vcgencmd.stat().st_mode | stat.S_IXUSR)


def fake_jetson_orin_nano(root: Path) -> None:
    write(root, "proc/cpuinfo", cpuinfo(["0xd42"] * 6, "fp asimd evtstrm aes pmull crc32 atomics fphp asimdhp asimddp"))
    write(root, "proc/meminfo", "MemTotal:        7620000 kB\nMemAvailable:    6000000 kB\n")
    write(root, "sys/firmware/devicetree/base/model",
          "NVIDIA Jetson Orin Nano Developer Kit\0")
    for cpu in range(6):
        write(root, f"sys/devices/system/cpu/cpu{cpu}/cpufreq/cpuinfo_max_freq", "1510400\n")
    ina = "sys/class/hwmon/hwmon1/"
    for channel, (label, millivolts, milliamps) in enumerate(
            [("VDD_IN", 5080, 1100), ("VDD_CPU_GPU_CV", 5080, 300), ("VDD_SOC", 5080, 250)], start=1):
        write(root, ina + f"in{channel}_label", label + "\n")
        write(root, ina + f"in{channel}_input", f"{millivolts}\n")
        write(root, ina + f"curr{channel}_input", f"{milliamps}\n")
    write(root, ina + "name", "ina3221\n")


def sysinfo(edgeperf: str, root: Path) -> dict:
    done = subprocess.run([edgeperf, "sysinfo", "--json", "--root", str(root)],
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        sys.exit(f"sysinfo --root {root} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def check(condition: bool, what: str, failures: list[str]) -> None:
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def rail(info: dict, name: str) -> dict:
    return next((r for r in info["power_rails"] if r["name"] == name), {})


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    args = parser.parse_args()
    work = Path(args.work_dir)
    shutil.rmtree(work, ignore_errors=True)
    failures: list[str] = []

    pi = work / "pi5"
    fake_pi5(pi)
    info = sysinfo(args.edgeperf, pi)
    print(json.dumps({k: info[k] for k in ("board", "cpu_model", "cpu_clusters", "power_method",
                                           "power_rails", "throttling")}, indent=1))
    check(info["board"] == "Raspberry Pi 5 Model B Rev 1.0", "Pi 5: board from the device tree", failures)
    check(info["cpu_clusters"] == [{"core": "Cortex-A76", "midr": "0x41:0xd0b", "cpus": [0, 1, 2, 3],
                                    "max_mhz": 2400.0}], "Pi 5: one cluster of 4 Cortex-A76 at 2400 MHz", failures)
    check(info["power_method"] == "pi5-pmic:3V3_SYS,VDD_CORE", "Pi 5: PMIC rails found", failures)
    check(abs(rail(info, "VDD_CORE").get("watts", 0) - 1.2) < 1e-9, "Pi 5: VDD_CORE = 1.5 A x 0.8 V", failures)
    check(info["throttling"] == {"raw": "0x50000", "now": [],
                                 "since_boot": ["under-voltage", "throttled"]},
          "Pi 5: throttling flags decoded", failures)
    check(info["energy_method"] == "unavailable", "Pi 5: no energy counter (no RAPL)", failures)

    jetson = work / "jetson"
    fake_jetson_orin_nano(jetson)
    info = sysinfo(args.edgeperf, jetson)
    print(json.dumps({k: info[k] for k in ("board", "cpu_model", "cpu_clusters", "power_method",
                                           "power_rails", "throttling")}, indent=1))
    check(info["board"] == "NVIDIA Jetson Orin Nano Developer Kit", "Jetson: board", failures)
    check(info["cpu_model"] == "6x Cortex-A78AE", "Jetson: 6x Cortex-A78AE", failures)
    check(info["power_method"] == "ina3221:VDD_IN,VDD_CPU_GPU_CV,VDD_SOC", "Jetson: INA3221 rails", failures)
    check(abs(rail(info, "VDD_IN").get("watts", 0) - 5.588) < 1e-9 and rail(info, "VDD_IN")["in_total"]
          and not rail(info, "VDD_SOC")["in_total"], "Jetson: VDD_IN = 5.08 V x 1.1 A, the total", failures)
    check(info["throttling"] == "unavailable", "Jetson: no vcgencmd, throttling unavailable", failures)

    # This machine has no such sensors: the real sysinfo says so rather than inventing one.
    here = subprocess.run([args.edgeperf, "sysinfo", "--json"], capture_output=True, text=True, timeout=120)
    check(here.returncode == 0 and "power_method" in json.loads(here.stdout), "sysinfo on this machine", failures)
    bad = subprocess.run([args.edgeperf, "sysinfo", "--root", str(work / "missing")],
                         capture_output=True, text=True, timeout=60)
    check(bad.returncode != 0 and "missing" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1,
          "sysinfo --root on a missing directory: one-line error", failures)

    if failures:
        print(f"{len(failures)} check(s) failed: {failures}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
