"""Reference jitter 0 against 10 on a subset of calib-ea: time and distance shift.

Run: nice -n 10 .venv/bin/python benchmarks/face_jitter.py  (needs ../shared/faces/calib-ea
at /work/shared/faces/calib-ea; edit `root` otherwise). Prints seconds per photo for each
setting (2 processes) and the mean genuine / impostor distances of the same pairs.
"""

import csv, time, numpy as np
from pathlib import Path
from kiosk.biometrics.batch import encode_paths
from kiosk.biometrics.stills import StillSettings

root = Path("/work/shared/faces/calib-ea")
rows = list(csv.DictReader(open(root / "labels.csv")))
by = {}
for r in rows:
    by.setdefault(r["identity"], []).append(r["file"])
people = sorted(by)[:7]
files = [f for p in people for f in by[p][:3]]
ids = [p for p in people for f in by[p][:3]]
paths = [root / f for f in files]
out = {}
for j in (0, 10):
    t0 = time.perf_counter()
    enc = encode_paths(paths, StillSettings(jitters=j), workers=2)
    t = time.perf_counter() - t0
    out[j] = enc
    print(
        f"jitters {j}: {len(paths)} photos in {t:.0f} s ({t / len(paths):.2f} s/photo wall, 2 processes)",
        flush=True,
    )
ok = [
    i
    for i in range(len(paths))
    if out[0][i].descriptor is not None and out[10][i].descriptor is not None
]


def dists(j):
    g, im = [], []
    for a in ok:
        for b in ok:
            if a < b:
                d = float(np.linalg.norm(out[j][a].descriptor - out[j][b].descriptor))
                (g if ids[a] == ids[b] else im).append(d)
    return np.array(g), np.array(im)


g0, i0 = dists(0)
g10, i10 = dists(10)
print(
    f"genuine mean {g0.mean():.4f} vs {g10.mean():.4f}; impostor min {i0.min():.4f} vs {i10.min():.4f}, mean {i0.mean():.4f} vs {i10.mean():.4f}; max |diff| pairs genuine {np.abs(g0 - g10).max():.4f} impostor {np.abs(i0 - i10).max():.4f}"
)
