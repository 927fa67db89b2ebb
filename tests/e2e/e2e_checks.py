"""Helpers shared by the Python e2e scripts: run a command, record a check."""
import subprocess
import sys


def run(command, expect_ok=True, timeout=900, **kwargs):
    """Runs `command` (paths allowed) capturing text output; exits the script with the
    command's stderr when it fails and `expect_ok`."""
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=timeout,
                          **kwargs)
    if expect_ok and done.returncode != 0:
        sys.exit(f"FAIL {' '.join(map(str, command))}: exit {done.returncode}\n{done.stderr}")
    return done


def check(condition, what, failures):
    """Prints `ok` or `FAIL` with `what`; a failure is appended to `failures`."""
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)
