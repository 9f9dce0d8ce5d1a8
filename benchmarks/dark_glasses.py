"""How often the dark-glasses check (kiosk/face/occlusion.py) fires on real photographs:
prints the count of photographs with a detected face, the flagged ones with their
ratios, and a Wilson 95% interval of the flag rate. Label the flagged ones by eye.

    .venv/bin/python benchmarks/dark_glasses.py [FOLDER ...]   (default ../shared/faces)
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from kiosk.face.detection import detect_faces
from kiosk.face.landmarks import find_landmarks
from kiosk.face.models import load_models
from kiosk.face.occlusion import eye_region
from kiosk.face.quality import QualityThresholds
from kiosk.face.reference import load_image_file

SUFFIXES = {".jpg", ".jpeg", ".png"}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "faces"
    parser.add_argument("folders", nargs="*", type=Path, default=[default])
    args = parser.parse_args()
    t = QualityThresholds()
    models = load_models()
    seen, flagged = 0, []
    for folder in args.folders:
        for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES):
            try:
                rgb = load_image_file(path)
            except Exception as exc:  # an unreadable file is reported, not fatal
                print(f"skipped {path}: {exc}")
                continue
            boxes = detect_faces(rgb, models)
            if not boxes:
                continue
            eyes = eye_region(rgb, find_landmarks(rgb, boxes[0], models))
            if eyes is None:
                continue
            seen += 1
            if eyes.dark_glasses(t.max_eye_median_ratio, t.max_eye_bright_ratio):
                flagged.append(
                    f"{path}  median {eyes.median_ratio:.3f}  p90 {eyes.bright_ratio:.3f}"
                )
    low, high = wilson(len(flagged), seen)
    print(
        f"photographs with a face: {seen}; flagged: {len(flagged)} "
        f"({100 * len(flagged) / max(seen, 1):.2f}%, 95% CI {100 * low:.2f}-{100 * high:.2f}%)"
    )
    print(*flagged, sep="\n")


if __name__ == "__main__":
    main()
