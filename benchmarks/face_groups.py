"""Per-group face comparison figures on the calibration sets (issue 25).

Run (from the repository root, ../shared present):
    nice -n 10 .venv/bin/python benchmarks/face_groups.py \
        [--shared ../shared/faces] [--jitters 0] [--cache /tmp/face-groups-j0.pkl] [--folds 10]

Encodes calib-lfw, calib-ea and dev once per setting on every core (cached by file,
so a second run only reads the cache) and prints:
- in-sample rates at the uncertain threshold (0.55) overall and per group: all
  impostor pairs, East Asian within-group pairs, the other people's pairs;
- the tail-fit 0.1% point of each and the empirical 0.1% point of the EA pairs;
- the admit rule (heldout.admit_rule) checked by k-fold over people: held-out FMR
  and FNMR per group with Clopper-Pearson intervals;
- the two-threshold lane: the share of genuine pairs admitted, referred as
  match_uncertain and refused as mismatch, and the impostors admitted;
- the same on dev's passport-like pairs (both photos judged passport-like).
calib-lfw and dev have no group column: their people count as "other" here (a few of
them are East Asian; the EA figures come from calib-ea alone). The photos are never
written anywhere; only descriptors go to the cache.
"""

from __future__ import annotations

import argparse
import csv
import pickle
import time
from pathlib import Path

import numpy as np

from kiosk.face import heldout
from kiosk.face.batch import encode_paths
from kiosk.face.calibration import choose_threshold, empirical_threshold
from kiosk.face.intervals import clopper_pearson
from kiosk.face.matcher import SHIPPED_THRESHOLD, SHIPPED_UNCERTAIN_THRESHOLD
from kiosk.face.stills import StillSettings

SETS = ("calib-lfw", "calib-ea", "dev")


def rows(shared: Path) -> list[dict[str, str]]:
    out = []
    for name in SETS:
        with (shared / name / "labels.csv").open(newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                out.append(
                    {
                        "key": f"{name}/{r['file']}",
                        "path": str(shared / name / r["file"]),
                        "identity": f"{name}/{r['identity']}",
                        "group": (r.get("group") or "other").strip() or "other",
                        "passport_like": (r.get("passport_like") or "").strip(),
                    }
                )
    return out


def encode(items: list[dict[str, str]], jitters: int, cache: Path) -> dict[str, object]:
    known: dict[str, object] = pickle.loads(cache.read_bytes()) if cache.exists() else {}
    todo = [r for r in items if r["key"] not in known]
    if todo:
        t0 = time.perf_counter()
        done = encode_paths(
            [Path(r["path"]) for r in todo],
            StillSettings(jitters=jitters),
            progress=lambda n, total: print(f"\rencoding {n}/{total}", end="", flush=True),
        )
        wall = time.perf_counter() - t0
        print(f"\n{len(todo)} photos in {wall:.0f} s ({wall / len(todo):.3f} s/photo, all cores)")
        for r, e in zip(todo, done, strict=True):
            known[r["key"]] = e.descriptor
        cache.write_bytes(pickle.dumps(known))
    return known


def rate(k: int, n: int) -> str:
    if n == 0:
        return "-"
    lo, hi = clopper_pearson(k, n)
    return f"{k / n:.3%} ({k}/{n:,}; 95% {lo:.3%}-{hi:.3%})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default="../shared/faces", type=Path)
    ap.add_argument("--jitters", type=int, default=0)
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--folds", type=int, default=heldout.DEFAULT_FOLDS)
    args = ap.parse_args()
    cache = args.cache or Path(f"/tmp/face-groups-j{args.jitters}.pkl")
    items = rows(args.shared)
    vecs = encode(items, args.jitters, cache)
    usable = [r for r in items if vecs.get(r["key"]) is not None]
    print(f"{len(usable)} of {len(items)} photos usable")
    table = heldout.pair_table(
        [vecs[r["key"]] for r in usable],  # type: ignore[misc]
        [r["identity"] for r in usable],
        [r["group"] for r in usable],
    )
    imp = ~table.same
    ea = table.within("east_asian")
    other = table.within("other")
    d = table.distance
    n_gen, n_imp = int(table.same.sum()), int(imp.sum())
    print(f"{len(table.people)} people; {n_gen:,} genuine, {n_imp:,} impostor pairs")

    for t in sorted({SHIPPED_THRESHOLD, SHIPPED_UNCERTAIN_THRESHOLD, 0.45}):
        print(f"\nin sample at {t}:")
        for name, mask in (("all", np.ones_like(imp)), ("east_asian", ea), ("other", other)):
            fm = int(np.count_nonzero(d[mask & imp] <= t))
            fnm = int(np.count_nonzero(d[mask & table.same] > t))
            print(
                f"  {name:10s} FMR {rate(fm, int((mask & imp).sum()))}"
                f"  FNMR {rate(fnm, int((mask & table.same).sum()))}"
            )
    for name, mask in (("all", imp), ("east_asian", ea & imp), ("other", other & imp)):
        c = choose_threshold(d[mask].tolist())
        emp = empirical_threshold(d[mask].tolist())
        print(
            f"0.1% point {name}: tail fit {c.fitted_quantile:.4f} ({c.model.chosen.family}, "
            f"setting {c.threshold}), empirical {emp:.4f}; closest impostor {d[mask].min():.4f}"
        )
    admit, candidates = heldout.admit_rule(table)
    print(f"\nadmit rule on everyone: {admit} (candidates {candidates})")

    t0 = time.perf_counter()
    held = heldout.kfold_held_out(table, args.folds)
    print(f"k-fold ({args.folds}) in {time.perf_counter() - t0:.0f} s")
    ts = sorted({h.threshold for h in held})
    print(f"fold thresholds: {ts}")
    fm = sum(h.false_matches for h in held)
    n_imp = sum(h.impostor_pairs for h in held)
    fnm = sum(h.false_non_matches for h in held)
    n_gen = sum(h.genuine_pairs for h in held)
    print(
        f"held out, all people: FMR {rate(fm, n_imp)} (pairs counted per person), "
        f"FNMR {rate(fnm, n_gen)}"
    )
    for g in heldout.kfold_group_counts(table, held):
        print(
            f"held out, {g.group} ({g.people} people): within-group FMR "
            f"{rate(g.false_matches, g.impostor_pairs)}, FNMR "
            f"{rate(g.false_non_matches, g.genuine_pairs)}"
        )

    # The two-threshold lane at the shipped settings.
    u = SHIPPED_UNCERTAIN_THRESHOLD
    a = SHIPPED_THRESHOLD
    gen = d[table.same]
    print(f"\nlane at admit {a} / uncertain {u}:")
    print(f"  genuine admitted {rate(int((gen <= a).sum()), len(gen))}")
    between = int(((gen > a) & (gen <= u)).sum())
    print(f"  genuine referred as match_uncertain {rate(between, len(gen))}")
    print(f"  genuine refused as mismatch {rate(int((gen > u).sum()), len(gen))}")
    for name, mask in (("all", imp), ("east_asian", ea & imp)):
        print(f"  impostors admitted ({name}) {rate(int((d[mask] <= a).sum()), int(mask.sum()))}")

    passport = [r for r in usable if r["passport_like"] == "yes"]
    if passport:
        pt = heldout.pair_table(
            [vecs[r["key"]] for r in passport],  # type: ignore[misc]
            [r["identity"] for r in passport],
            ["other"] * len(passport),
        )
        pg = pt.distance[pt.same]
        print(
            f"dev passport-like photos ({len(passport)}): FNMR at {a} "
            f"{rate(int((pg > a).sum()), len(pg))}"
        )


if __name__ == "__main__":
    main()
