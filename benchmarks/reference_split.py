"""The chip photo's encoding on one core (FaceMatcher.encode_reference) against the
split over two helper processes (kiosk.face.reference_pool), interleaved so
that other load hits both alike. Prints median and p95 ms and the load average.

    .venv/bin/python benchmarks/reference_split.py [--runs 10] [--jitters 10]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import time

import numpy as np

from kiosk.face.matcher import FaceMatcher, MatcherSettings
from kiosk.face.reference_pool import encode_reference_split, serve_halves


def _figures(ms: list[float]) -> str:
    s = sorted(ms)
    p95 = s[min(len(s) - 1, max(0, round(0.95 * len(s)) - 1))]
    return f"median {statistics.median(s):7.1f} ms  p95 {p95:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--jitters", type=int, default=10)
    args = parser.parse_args()
    from skimage import data

    portrait = np.ascontiguousarray(data.astronaut())  # type: ignore[no-untyped-call]
    matcher = FaceMatcher(MatcherSettings(reference_jitters=args.jitters))
    matcher.warm_up()
    ctx = mp.get_context("spawn")
    requests = (ctx.Queue(), ctx.Queue())
    results = ctx.Queue()
    helpers = [ctx.Process(target=serve_halves, args=(q, results), daemon=True)
               for q in requests]
    for helper in helpers:
        helper.start()
    for _ in helpers:
        results.get(timeout=120)
    print(f"load average at start: {os.getloadavg()}")
    whole: list[float] = []
    split: list[float] = []
    try:
        for i in range(args.runs):
            t = time.perf_counter()
            matcher.encode_reference(portrait)
            whole.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            encode_reference_split(matcher, portrait, (*requests, results), i + 1)
            split.append((time.perf_counter() - t) * 1000)
    finally:
        for q, helper in zip(requests, helpers, strict=True):
            q.put(None)
            helper.join(10)
    print(f"one core ({args.jitters} jitters + mirror): {_figures(whole)}")
    print(f"halves in two helper processes:     {_figures(split)}")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
