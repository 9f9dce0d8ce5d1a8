"""MRZ reading: valid-and-correct rate and time per image, real images beside rendered ones.

    .venv/bin/python benchmarks/mrz_read.py [--real DIR] [--per-condition 30] [--seed 1]
                                            [--no-rendered] [--verbose]

Real set: every image in DIR (default ../shared/mrz-dev) with its `labels.csv` truth,
decoded exactly as `egate mrz read` decodes a file. Rendered set: random TD1, TD2 and
TD3 documents printed in OCR-B (fonts-ocr-b) at 8 px/mm on cluttered pages, degraded.

A read counts as correct only when every check digit holds AND the lines equal the
truth. A valid read that differs from the truth ("wrong but valid": the check digits
happen to hold on a misread) is counted separately: it would give the chip a wrong key.
Images whose truth is empty (the specimen itself fails a check digit) must never read
as valid; any valid read there is counted as wrong.

The real set is split by a hash of its MRZ text (so the photos of one document stay on
one side) into a development part and a held-out part, reported apart: changes are
tuned on the first, and the second shows whether they carry over to unseen documents.
Rates carry 95% Wilson score intervals (they stay inside 0..100% at small n).
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.mrz.reader import read_image
from devices.simulated.data_page import Degradation, render_data_page
from devices.simulated.mrz_samples import random_mrz
from kiosk.cli.mrz import load_image

DEFAULT_REAL = Path(__file__).resolve().parents[2] / "shared" / "mrz-dev"
HOLDOUT_MODULUS = 3  # one document in three (by MRZ hash) is held out

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


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a binomial proportion, as fractions."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class Tally:
    n: int = 0
    correct: int = 0
    wrong_valid: int = 0
    found: int = 0

    def add(self, valid: bool, found: bool, lines: tuple[str, ...], truth: tuple[str, ...]) -> str:
        self.n += 1
        self.found += found
        if valid and truth and lines == truth:
            self.correct += 1
            return "correct"
        if valid:
            self.wrong_valid += 1
            return "WRONG-VALID"
        return "found" if found else "not found"

    def summary(self, label: str, times: list[float]) -> str:
        lo, hi = wilson(self.correct, self.n)
        wlo, whi = wilson(self.wrong_valid, self.n)
        med = statistics.median(times) if times else 0.0
        p95 = sorted(times)[min(len(times) - 1, int(0.95 * len(times)))] if times else 0.0
        rate = 100 * self.correct / self.n if self.n else 0.0
        return (
            f"{label:26} n={self.n:3d} correct {self.correct:3d} = {rate:5.1f}% "
            f"[{100 * lo:5.1f}, {100 * hi:5.1f}]  wrong-valid {self.wrong_valid} "
            f"[{100 * wlo:.1f}, {100 * whi:.1f}]  found {self.found}  "
            f"median {med:.0f} ms  p95 {p95:.0f} ms"
        )


def load_labels(directory: Path) -> list[tuple[str, tuple[str, ...]]]:
    with open(directory / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    out = []
    for row in rows:
        truth = tuple(
            line for line in (row["mrz_line1"], row["mrz_line2"], row["mrz_line3"]) if line
        )
        out.append((row["file"], truth))
    return out


def is_holdout(truth: tuple[str, ...], file: str) -> bool:
    key = "".join(truth) or file
    return zlib.crc32(key.encode()) % HOLDOUT_MODULUS == 0


def bench_real(directory: Path, verbose: bool) -> None:
    labels = load_labels(directory)
    parts = {"development": Tally(), "held out": Tally(), "no truth (must not read)": Tally()}
    times: dict[str, list[float]] = {name: [] for name in parts}
    for file, truth in labels:
        part = (
            "no truth (must not read)"
            if not truth
            else ("held out" if is_holdout(truth, file) else "development")
        )
        image = load_image(directory / file)
        if image is None:
            outcome, ms, lines = "unreadable", 0.0, ()
            parts[part].add(False, False, (), truth)
        else:
            reading = read_image(image)
            ms, lines = reading.ms, reading.lines
            outcome = parts[part].add(reading.valid, reading.found, reading.lines, truth)
            times[part].append(ms)
        if verbose:
            print(f"  {file:30} {part[:4]:4} {outcome:12} {ms:6.0f} ms {' / '.join(lines)}")
    total = Tally()
    all_times: list[float] = []
    for name in ("development", "held out"):
        print(parts[name].summary(f"real: {name}", times[name]))
        for attr in ("n", "correct", "wrong_valid", "found"):
            setattr(total, attr, getattr(total, attr) + getattr(parts[name], attr))
        all_times += times[name]
    print(total.summary("real: all with truth", all_times))
    nt = parts["no truth (must not read)"]
    print(f"real: no truth: {nt.n} images, read as valid {nt.wrong_valid} (must be 0)")


def bench_rendered(per_condition: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    total = Tally()
    all_times: list[float] = []
    for name, degradation in CONDITIONS.items():
        tally = Tally()
        times: list[float] = []
        for i in range(per_condition):
            fmt = ("TD1", "TD2", "TD3")[i % 3]
            mrz = random_mrz(rng, fmt)  # type: ignore[arg-type]
            image = render_data_page(
                mrz.lines(), seed=int(rng.integers(1 << 30)), degradation=degradation
            )
            reading = read_image(image)
            times.append(reading.ms)
            outcome = tally.add(reading.valid, reading.found, reading.lines, tuple(mrz.lines()))
            if outcome == "WRONG-VALID":  # always shown: the one outcome that must not happen
                print(f"  WRONG-VALID {name} #{i}: {' / '.join(reading.lines)}")
                print(f"        truth {name} #{i}: {' / '.join(mrz.lines())} {reading.corrections}")
        print(tally.summary(f"rendered: {name}", times))
        for attr in ("n", "correct", "wrong_valid", "found"):
            setattr(total, attr, getattr(total, attr) + getattr(tally, attr))
        all_times += times
    print(total.summary("rendered: all", all_times))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=DEFAULT_REAL, help="labelled image dir")
    parser.add_argument("--per-condition", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-rendered", action="store_true", help="real images only")
    parser.add_argument("--no-real", action="store_true", help="rendered pages only")
    parser.add_argument("--verbose", action="store_true", help="one line per real image")
    args = parser.parse_args()
    if not args.no_real:
        if (args.real / "labels.csv").exists():
            bench_real(args.real, args.verbose)
        else:
            print(f"real: {args.real}/labels.csv not found, real set skipped")
    if not args.no_rendered:
        bench_rendered(args.per_condition, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
