"""The lane's passport-to-decision time split into device-bound time and egate's own
overhead (issue 25 items 3-4), over `egate simulate lane` runs, one per seed and
device timing, each with a fresh local database. Prints median and p95 of every
part and the load average before and after each run; re-run it on an idle machine.

    .venv/bin/python benchmarks/lane_timing.py [--seeds 1] [--travellers 40]
        [--devices instant realistic] [--busy]

--busy starts two spinning processes of its own (both cores loaded) for the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PARTS = ("total", "chip_io", "walk", "capture_window", "device", "overhead")


def _run(seed: int, travellers: int, devices: str) -> dict:  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "egate.toml"
        cfg.write_text(f'[storage]\nlocal_url = "sqlite:///{tmp}/local.sqlite"\n')
        egate = Path(sys.executable).with_name("egate")
        done = subprocess.run(
            [str(egate), "simulate", "lane", "--config", str(cfg), "--json", "--ui", "none",
             "--travellers", str(travellers), "--seed", str(seed), "--devices", devices],
            capture_output=True, text=True, check=False,
        )
        try:
            out: dict = json.loads(done.stdout)  # type: ignore[type-arg]
        except json.JSONDecodeError:
            out = {}
        out["status"] = done.returncode
        out["stderr"] = done.stderr[-2000:]
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--travellers", type=int, default=40)
    parser.add_argument("--devices", nargs="+", default=["instant", "realistic"])
    parser.add_argument("--busy", action="store_true")
    args = parser.parse_args()
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(2 if args.busy else 0)]
    try:
        for devices in args.devices:
            for seed in args.seeds:
                before = os.getloadavg()[0]
                out = _run(seed, args.travellers, devices)
                after = os.getloadavg()[0]
                if "timing_ms" not in out:
                    print(f"{devices} seed {seed}: failed (exit {out['status']}): "
                          f"{out.get('error') or out['stderr']}")
                    continue
                split = out["timing_ms"]
                answers = f"{out['admitted']}/{out['referred']}/{out['aborted']}"
                print(f"{devices} seed {seed}: exit {out['status']}, admitted/referred/"
                      f"aborted {answers}, mismatches {len(out['mismatches'])}, "
                      f"load {before:.1f} -> {after:.1f}")
                for part in PARTS:
                    print(f"  {part:15} median {split[part]['median']!s:>8} ms"
                          f"   p95 {split[part]['p95']!s:>8} ms")
    finally:
        for p in spinners:
            p.kill()
            p.wait()


if __name__ == "__main__":
    main()
