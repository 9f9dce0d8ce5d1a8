"""Reference jitter 0 against 10 on a subset of calib-ea: time and distance shift.

Run: nice -n 10 .venv/bin/python benchmarks/face_jitter.py [--dataset ../shared/faces/calib-ea]
Prints seconds per photo for each setting (2 processes) and the mean genuine and
impostor distances of the same pairs under both settings (docs/face.md).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from kiosk.face.batch import Encoded, encode_paths
from kiosk.face.calibration import read_labels
from kiosk.face.stills import StillSettings


def distances(enc: list[Encoded], ids: list[str], ok: list[int]) -> tuple[np.ndarray, np.ndarray]:
    genuine, impostor = [], []
    for n, a in enumerate(ok):
        for b in ok[n + 1 :]:
            va, vb = enc[a].descriptor, enc[b].descriptor
            assert va is not None and vb is not None
            d = float(np.linalg.norm(va - vb))
            (genuine if ids[a] == ids[b] else impostor).append(d)
    return np.asarray(genuine), np.asarray(impostor)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", type=Path, default=Path("../shared/faces/calib-ea"))
    ap.add_argument("--people", type=int, default=7)
    args = ap.parse_args()
    by: dict[str, list[str]] = {}
    for row in read_labels(args.dataset):
        by.setdefault(row.identity, []).append(row.file)
    people = sorted(by)[: args.people]
    files = [(p, f) for p in people for f in by[p][:3]]
    paths = [args.dataset / f for _, f in files]
    ids = [p for p, _ in files]
    out: dict[int, list[Encoded]] = {}
    for jitters in (0, 10):
        t0 = time.perf_counter()
        out[jitters] = encode_paths(paths, StillSettings(jitters=jitters), workers=2)
        t = time.perf_counter() - t0
        print(f"jitters {jitters}: {len(paths)} photos in {t:.0f} s ({t / len(paths):.2f} s/photo)")
    ok = [i for i in range(len(paths)) if all(out[j][i].descriptor is not None for j in out)]
    g0, i0 = distances(out[0], ids, ok)
    g10, i10 = distances(out[10], ids, ok)
    print(f"genuine mean {g0.mean():.4f} (jitter 0) vs {g10.mean():.4f} (jitter 10)")
    print(
        f"impostor mean {i0.mean():.4f} vs {i10.mean():.4f}, min {i0.min():.4f} vs {i10.min():.4f}"
    )
    print(
        f"largest change of one pair: genuine {np.abs(g0 - g10).max():.4f}, "
        f"impostor {np.abs(i0 - i10).max():.4f}"
    )


if __name__ == "__main__":
    main()
