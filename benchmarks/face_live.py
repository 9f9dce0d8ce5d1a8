"""Alternating presentations through the real face worker process, at length.

Run: .venv/bin/python benchmarks/face_live.py [--presentations N] [--busy]
Holder, someone else, holder, printed photo, nobody, repeated, through
kiosk.face.worker.ProcessFaceVerifier and the real dlib matcher on 320x240
scenes (tests/kiosk/presentations.py); each presentation starts a fresh chip
photo encoding. --busy runs two spinning processes meanwhile (both cores busy).
Prints the presentations decided on an earlier presentation's frames (must be
0), the outcomes that were wrong for their kind, and verdict timings.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import subprocess
import sys
import time

import numpy as np

from tests.kiosk.presentations import Presented, present


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--presentations", type=int, default=300)
    parser.add_argument("--busy", action="store_true", help="two spinning processes meanwhile")
    args = parser.parse_args()
    spinners = (
        [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
        if args.busy else []
    )
    done: list[Presented] = []
    started = time.monotonic()
    try:
        run = present(args.presentations, on_each=done.append)
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    elapsed = time.monotonic() - started
    earlier, wrong = run.earlier(), run.wrong()
    ms = [p.verdict.ms for p in run.presented]
    outcomes = collections.Counter(f"{p.kind}:{p.verdict.outcome}" for p in run.presented)
    print(f"presentations {len(run.presented)}  busy cores {bool(spinners)}  "
          f"wall {elapsed:.1f} s")
    print(f"decided on earlier frames: {len(earlier)}  {earlier[:5]}")
    print(f"wrong outcomes: {len(wrong)}  {wrong[:5]}")
    print(f"verdict ms: median {statistics.median(ms):.0f}  p95 {np.percentile(ms, 95):.0f}")
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    return 1 if earlier else 0


if __name__ == "__main__":
    raise SystemExit(main())
