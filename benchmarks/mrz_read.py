"""MRZ reading on rendered data pages: valid-read rate and time per image.

    .venv/bin/python benchmarks/mrz_read.py [--per-condition 30] [--seed 1]

Each condition renders random TD1, TD2 and TD3 documents in OCR-B (fonts-ocr-b) at
8 px/mm and degrades them; a read counts only when every check digit holds AND the
lines equal the printed ones (a valid but wrong read is counted separately: it would
open the chip with the wrong key, which BAC/PACE then refuses).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.mrz.reader import read_image
from devices.simulated.data_page import Degradation, render_data_page
from devices.simulated.mrz_samples import random_mrz

CONDITIONS = {
    "clean": Degradation(),
    "blur 1.2px": Degradation(blur_px=1.2),
    "noise 12": Degradation(noise=12.0),
    "rotation 10deg": Degradation(rotation_deg=10.0),
    "rotation -7deg + blur": Degradation(rotation_deg=-7.0, blur_px=0.8),
    "perspective 4%": Degradation(perspective=0.04),
    "glare 0.6": Degradation(glare=0.6),
    "everything": Degradation(
        blur_px=0.9, noise=8.0, rotation_deg=5.0, perspective=0.03, glare=0.45, jpeg_quality=70
    ),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-condition", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(
        f"{'condition':24} {'images':>6} {'correct':>8} {'wrong':>6} "
        f"{'median ms':>10} {'p95 ms':>8}"
    )
    total = correct_total = 0
    for name, degradation in CONDITIONS.items():
        correct = wrong = 0
        times: list[float] = []
        for i in range(args.per_condition):
            fmt = ("TD1", "TD2", "TD3")[i % 3]
            mrz = random_mrz(rng, fmt)  # type: ignore[arg-type]
            image = render_data_page(
                mrz.lines(), seed=int(rng.integers(1 << 30)), degradation=degradation
            )
            reading = read_image(image)
            times.append(reading.ms)
            if reading.valid and reading.lines == mrz.lines():
                correct += 1
            elif reading.valid:
                wrong += 1
        total += args.per_condition
        correct_total += correct
        times.sort()
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        print(
            f"{name:24} {args.per_condition:6d} {correct:8d} {wrong:6d} "
            f"{statistics.median(times):10.0f} {p95:8.0f}"
        )
    print(
        f"overall valid-and-correct: {correct_total}/{total} = {100 * correct_total / total:.1f}%"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
