"""Encoding variants scored by the threshold method with leave-one-person-out.

Run: .venv/bin/python benchmarks/face_variants.py [--dataset ../shared/faces/dev]
         [--cache /tmp/face-variants.pkl] [--limit N]
Prints the table of docs/face.md ("Encoding: what was measured"): for every variant the
method's threshold, the held-out false matches and, on the chip-versus-live stress proxy
(each photo once as a small JPEG "chip", once as a dim, side-lit, noisy "live frame";
genuine pairs = chip of one photo against the live frame of another photo of the same
person), the held-out FNMR with its people-bootstrap interval. Descriptors are cached
(the dlib runs take many minutes on a shared machine); the photos are never written.
"""

from __future__ import annotations

import argparse
import io
import pickle
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from kiosk.face import calibration as cal
from kiosk.face.intervals import bootstrap_ratio
from kiosk.face.landmarks import find_landmarks
from kiosk.face.models import DlibModels, load_models
from kiosk.face.reference import load_image_file, prepare_reference
from kiosk.face.selection import select_traveller
from kiosk.face.stills import find_still_faces

Rgb = np.ndarray


def clahe(chip: Rgb, clip: float = 2.0) -> Rgb:
    lab = cv2.cvtColor(chip, cv2.COLOR_RGB2LAB)
    lab[:, :, 0] = cv2.createCLAHE(clipLimit=clip, tileGridSize=(4, 4)).apply(lab[:, :, 0])
    return np.ascontiguousarray(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB))


def grey(chip: Rgb) -> Rgb:
    g = cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(np.dstack([g, g, g]))


def chipify(rgb: Rgb) -> Rgb:
    """A chip-like copy: 320 px high, JPEG quality 40."""
    h, w = rgb.shape[:2]
    f = 320.0 / h
    small = cv2.resize(rgb, (max(8, round(w * f)), 320), interpolation=cv2.INTER_AREA)
    buf = io.BytesIO()
    Image.fromarray(small if f < 1 else rgb).save(buf, format="JPEG", quality=40)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def livify(rgb: Rgb, seed: int) -> Rgb:
    """A live-frame-like copy: 640 px wide, gamma 1.5, side light, warm, blur, noise."""
    rng = np.random.default_rng(seed)
    h, w = rgb.shape[:2]
    size = (640, max(8, round(h * 640.0 / w)))
    shrink = cv2.INTER_AREA if w > 640 else cv2.INTER_LINEAR
    img = cv2.resize(rgb, size, interpolation=shrink).astype(np.float64) / 255.0
    ramp = np.linspace(0.45, 1.15, img.shape[1])[None, :, None]
    if rng.random() < 0.5:
        ramp = ramp[:, ::-1]
    img = cv2.GaussianBlur((img**1.5) * ramp * np.array([1.08, 1.0, 0.85]), (0, 0), 1.0)
    img = img + rng.normal(0, 5 / 255.0, img.shape)
    return np.clip(img * 255, 0, 255).astype(np.uint8)


def variants(models: DlibModels, img: Rgb) -> dict[str, np.ndarray]:
    import dlib

    img = prepare_reference(img)
    box = select_traveller(find_still_faces(img, models), img.shape[1], img.shape[0])
    shape = find_landmarks(img, box, models).shape5
    chips = {
        p: np.ascontiguousarray(dlib.get_face_chip(img, shape, 150, p))
        for p in (0.15, 0.2, 0.25, 0.35)
    }

    def desc(chip: Rgb) -> np.ndarray:
        with models.lock:
            v = models.encoder.compute_face_descriptor(np.ascontiguousarray(chip), 0)
        return np.asarray(v, dtype=np.float64)

    def mirrored(chip: Rgb, f: Callable[[Rgb], Rgb] = lambda c: c) -> np.ndarray:
        a = f(chip)
        return (desc(a) + desc(np.ascontiguousarray(a[:, ::-1]))) / 2.0

    out = {
        "padding 0.25, mirror of the aligned chip": mirrored(chips[0.25]),
        "no mirror": desc(chips[0.25]),
        "CLAHE (clip 2)": mirrored(chips[0.25], clahe),
        "CLAHE (clip 1)": mirrored(chips[0.25], lambda c: clahe(c, 1.0)),
        "greyscale": mirrored(chips[0.25], grey),
        "padding 0.15": mirrored(chips[0.15]),
        "padding 0.20": mirrored(chips[0.2]),
        "padding 0.35": mirrored(chips[0.35]),
    }
    out["mean of padding 0.15 and 0.25"] = (
        out["padding 0.15"] + out["padding 0.25, mirror of the aligned chip"]
    ) / 2.0
    return out


def held_out(
    d: np.ndarray, same: np.ndarray, valid: np.ndarray, who: list[np.ndarray]
) -> tuple[int, int, list[int], list[int], float]:
    """Leave-one-person-out of the threshold method on a pair-distance matrix."""
    people = sorted(set(np.unique(who[0]).tolist()))
    fm = n_imp = 0
    fnm: list[int] = []
    n_gen: list[int] = []
    for p in people:
        inv = (who[0] == p) | (who[1] == p)
        calibration = d[valid & ~same & ~inv]
        if len(calibration) < 3:
            continue  # too few people left to fit without p
        t = cal.select_threshold(calibration.tolist())
        fm += int(np.sum(d[valid & ~same & inv] <= t))
        n_imp += int(np.sum(valid & ~same & inv))
        fnm.append(int(np.sum(d[valid & same & inv] > t)))
        n_gen.append(int(np.sum(valid & same & inv)))
    return fm, n_imp, fnm, n_gen, cal.select_threshold(d[valid & ~same].tolist())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="../shared/faces/dev")
    parser.add_argument("--cache", default="/tmp/face-variants.pkl")
    parser.add_argument("--limit", type=int, default=0, help="first N images only (a smoke run)")
    args = parser.parse_args()
    dataset, cache_path = Path(args.dataset), Path(args.cache)
    rows = cal.read_labels(dataset)[: args.limit or None]
    cache = pickle.loads(cache_path.read_bytes()) if cache_path.exists() else {}
    models = load_models()
    for n, row in enumerate(rows):
        if row.file not in cache:
            rgb = load_image_file(dataset / row.file)
            cache[row.file] = {
                "identity": row.identity,
                "dev": variants(models, rgb),
                "chip": variants(models, chipify(rgb)),
                "live": variants(models, livify(rgb, n)),
            }
            cache_path.write_bytes(pickle.dumps(cache))
        print(f"\rencoded {n + 1}/{len(rows)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    entries = [cache[r.file] for r in rows]
    ids = np.array([e["identity"] for e in entries])
    i, j = np.meshgrid(np.arange(len(ids)), np.arange(len(ids)), indexing="ij")
    same = ids[i] == ids[j]
    print(f"{len(ids)} photos of {len(set(ids))} people")
    print(
        "variant | dev: t | dev LOPO FM | dev FNMR at 0.01% | stress: t | stress LOPO FM"
        " | stress LOPO FNMR (95%)"
    )
    for name in entries[0]["dev"]:
        dev = np.array([e["dev"][name] for e in entries])
        d = np.linalg.norm(dev[:, None] - dev[None, :], axis=2)
        fm, n_imp, _, _, t_dev = held_out(d, same, i < j, [ids[i], ids[j]])
        # In-sample FNMR at the fit's 0.01% point, where the variants differ more.
        fit = cal.choose_threshold(d[(i < j) & ~same].tolist()).model.chosen
        strict = float(np.mean(d[(i < j) & same] > fit.quantile(1e-4)))
        chip = np.array([e["chip"][name] for e in entries])
        live = np.array([e["live"][name] for e in entries])
        s = np.linalg.norm(chip[:, None] - live[None, :], axis=2)
        sfm, s_imp, fnm, n_gen, t_s = held_out(s, same, i != j, [ids[i], ids[j]])
        lo, hi = bootstrap_ratio(fnm, n_gen) if fnm else (0.0, 1.0)
        print(
            f"{name} | {t_dev:.2f} | {fm}/{n_imp} | {strict:.1%} | {t_s:.2f} | {sfm}/{s_imp} | "
            f"{sum(fnm) / max(1, sum(n_gen)):.1%}, {sum(fnm)}/{sum(n_gen)} ({lo:.1%}-{hi:.1%})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
