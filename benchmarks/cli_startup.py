"""Start-up cost of the `egate` command: --version and --help (target 0.3 s).

    .venv/bin/python benchmarks/cli_startup.py [--runs 10]

Wall time of whole processes (fork, interpreter, imports), median and worst, beside a
bare `python -c pass` for the interpreter's own share.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

EGATE = [sys.executable, str(Path(sys.executable).with_name("egate"))]


def measure(cmd: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    rows = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "egate --version": [*EGATE, "--version"],
        "egate --help": [*EGATE, "--help"],
    }
    print(f"{'command':18} {'median s':>9} {'max s':>7}")
    for name, cmd in rows.items():
        t = measure(cmd, args.runs)
        print(f"{name:18} {statistics.median(t):9.3f} {max(t):7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
