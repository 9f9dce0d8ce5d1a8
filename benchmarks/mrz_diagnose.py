"""Where each real image fails: zone not found, wrong layout, recognition, or refused.

    PYTHONPATH=. .venv/bin/python benchmarks/mrz_diagnose.py [--real DIR] [FILE...]

For every labelled image of ../shared/mrz-dev that does not read valid and correct,
prints the failure class and, for recognition failures, each misread position
(line, position, truth -> read) with the reading's problem.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.mrz_read import DEFAULT_REAL, load_labels
from devices.mrz.reader import read_image
from kiosk.cli.mrz import load_image


def classify(lines: tuple[str, ...], truth: tuple[str, ...], valid: bool, found: bool) -> str:
    if not found:
        return "zone not found"
    if valid:
        return "correct" if lines == truth else "WRONG-VALID"
    if len(lines) != len(truth) or any(
        len(a) != len(b) for a, b in zip(lines, truth, strict=False)
    ):
        return "wrong layout / segmentation"
    if lines == truth:
        return "refused (text right, trust rule)"
    return "recognition"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=DEFAULT_REAL)
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    counts: collections.Counter[str] = collections.Counter()
    confusions: collections.Counter[str] = collections.Counter()
    for file, truth in load_labels(args.real):
        if not truth or (args.files and file not in args.files):
            continue
        image = load_image(args.real / file)
        if image is None:
            counts["unreadable"] += 1
            continue
        r = read_image(image)
        kind = classify(r.lines, truth, r.valid, r.found)
        counts[kind] += 1
        if kind == "correct":
            continue
        print(f"{file:28} {kind:32} {r.layout} conf {r.confidence:.2f} {r.ms:.0f} ms | {r.problem}")
        if kind in ("recognition", "WRONG-VALID", "refused (text right, trust rule)"):
            for i, (a, b) in enumerate(zip(truth, r.lines, strict=False)):
                diffs = [
                    f"{j + 1}:{x}->{y}"
                    for j, (x, y) in enumerate(zip(a, b, strict=False))
                    if x != y
                ]
                confusions.update(f"{x}->{y}" for x, y in zip(a, b, strict=False) if x != y)
                mean = sum(r.cell_scores[i]) / len(r.cell_scores[i]) if r.cell_scores else 0.0
                print(f"    line {i + 1} mean {mean:.2f}: {' '.join(diffs) or 'ok'}")
        elif r.lines:
            print("    read:  " + " / ".join(r.lines))
            print("    truth: " + " / ".join(truth))
    print(dict(counts))
    print("confusions:", confusions.most_common(25))
    return 0


if __name__ == "__main__":
    sys.exit(main())
