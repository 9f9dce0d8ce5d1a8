"""Presentation attack detection measured as ISO/IEC 30107-3 defines it.

Run: .venv/bin/python benchmarks/liveness.py [--seeds N] [--no-shared]

Bona fide presentations are live-like sequences synthesised from portraits
(head motion over a static background; with a blink for the challenge mode).
Attack presentations, one PAI species each: a still photo replayed, a printed
photo with its paper margin held by hand, a phone screen with its bezel, a
hand-held print cut to the head. Portraits: the public-domain astronaut and
Grace Hopper, plus one photo per person of ../shared/faces/dev when present.

APCER (per PAI species) = attack presentations classified bona fide / attacks;
BPCER = bona fide presentations classified as attacks (inconclusive counts as
not accepted, as the kiosk refers it) / bona fide presentations.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kiosk.face.detection import detect_faces
from kiosk.face.errors import FaceError
from kiosk.face.landmarks import find_landmarks
from kiosk.face.liveness import Challenge, assess_liveness, observe
from kiosk.face.models import DlibModels, load_models
from kiosk.face.reference import load_image_file
from kiosk.simulation import synthetic_faces as synthetic

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "faces" / "dev"
FRAMES = 24  # 0.8 s at 30 fps
STEP = 3  # the matcher analyses about every third frame

Sequence = list[np.ndarray]
Maker = Callable[..., Sequence]


def portraits(use_shared: bool) -> list[tuple[str, np.ndarray]]:
    from skimage import data

    out = [("astronaut", np.ascontiguousarray(data.astronaut()))]  # type: ignore[no-untyped-call]
    import matplotlib.cbook as cbook

    out.append(
        (
            "grace_hopper",
            load_image_file(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)),
        )
    )
    if use_shared and (SHARED / "labels.csv").is_file():
        seen: set[str] = set()
        with (SHARED / "labels.csv").open(newline="") as fh:
            for row in csv.DictReader(fh):
                if row["identity"] in seen:
                    continue
                try:
                    rgb = load_image_file(SHARED / row["file"])
                except FaceError:
                    continue
                if min(rgb.shape[:2]) >= 300:  # big enough to render a 640x480 frame from
                    seen.add(row["identity"])
                    out.append((row["identity"], rgb))
    return out


def decide(frames: Sequence, models: DlibModels, challenge: Challenge | None) -> str:
    observations = []
    for i in range(0, len(frames), STEP):
        rgb = np.ascontiguousarray(frames[i][:, :, ::-1])
        boxes = detect_faces(rgb, models)
        if not boxes:
            continue
        lm = find_landmarks(rgb, boxes[0], models, with68=True)
        observations.append(observe(rgb, boxes[0], lm, i / 30.0))
    return assess_liveness(observations, challenge).decision


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=2, help="presentations per portrait and kind")
    parser.add_argument("--no-shared", action="store_true", help="public portraits only")
    args = parser.parse_args()
    models = load_models(landmarks68=True)
    species: dict[str, Maker] = {
        "photo_replay": synthetic.photo_replay,
        "framed_photo": synthetic.framed_photo,
        "screen_replay": synthetic.screen_replay,
        "cutout_photo": synthetic.cutout_photo,
    }
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    people = portraits(not args.no_shared)
    start = time.perf_counter()
    for name, portrait in people:
        for seed in range(args.seeds):
            try:
                live = synthetic.live_sequence(portrait, models, FRAMES, seed=seed)
                blink = synthetic.live_sequence(
                    portrait, models, FRAMES, seed=seed, blink_at=(9, 10, 11, 12)
                )
                attacks = {
                    k: make(portrait, models, FRAMES, seed=seed) for k, make in species.items()
                }
            except ValueError:
                print(f"skipped {name}: no face to render", file=sys.stderr)
                break
            counts[("passive", "bona_fide")][decide(live, models, None)] += 1
            counts[("blink", "bona_fide")][decide(blink, models, "blink")] += 1
            for kind, frames in attacks.items():
                counts[("passive", kind)][decide(frames, models, None)] += 1
                counts[("blink", kind)][decide(frames, models, "blink")] += 1
    elapsed = time.perf_counter() - start
    print(f"{len(people)} portraits x {args.seeds} seeds, {elapsed:.0f} s")
    for mode in ("passive", "blink"):
        print(f"\nmode: {mode if mode == 'passive' else 'passive + blink challenge'}")
        bona = counts[(mode, "bona_fide")]
        n = sum(bona.values())
        rejected = n - bona["live"]
        print(f"  BPCER {rejected}/{n} = {rejected / max(n, 1):.1%}   ({dict(bona)})")
        worst = 0.0
        for kind in species:
            c = counts[(mode, kind)]
            m = sum(c.values())
            rate = c["live"] / max(m, 1)
            worst = max(worst, rate)
            print(f"  APCER {kind:14s} {c['live']}/{m} = {rate:.1%}   ({dict(c)})")
        print(f"  APCER (worst PAI species) = {worst:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
