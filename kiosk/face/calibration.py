"""Threshold calibration: genuine and impostor distances, FMR and FNMR per threshold.

Terms follow ISO/IEC 19795-1: a genuine pair is two images of one person, an
impostor pair two images of different people; FMR is the share of impostor
pairs at or below the threshold, FNMR the share of genuine pairs above it.
The shipped threshold must keep FMR <= 0.1% on people never seen. With a few
thousand impostor pairs the empirical 0.1% point is the second or third
closest pair: tuned to noise. The rule instead fits the lower tail of the
impostor distances (impostor_tail) and reads the 0.1% point off the fit;
leave-one-person-out checks the rule on people it did not see, and the
intervals (intervals) say how little a few dozen people can tell.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.face.encoding import Descriptor
from kiosk.face.errors import FaceError
from kiosk.face.impostor_tail import (
    FAMILIES,
    TAIL_FRACTION,
    Family,
    TailFit,
    TailFitError,
    TailModel,
    fit_impostor_tail,
)
from kiosk.face.intervals import (
    BOOTSTRAP_RESAMPLES,
    CONFIDENCE,
    bootstrap_ratio,
    clopper_pearson,
)

TARGET_FMR = 0.001
# A group's within-group impostor pairs enter the admit rule only when there are
# enough of them for the 0.1% point of their tail to mean something.
MIN_GROUP_IMPOSTORS = 1000


class DatasetError(ValueError):
    """The calibration dataset is missing, malformed or too small."""


@dataclass(frozen=True)
class LabelledImage:
    file: str  # relative to the dataset folder
    identity: str
    group: str = ""  # optional column "group" (e.g. east_asian): per-group figures


@dataclass(frozen=True)
class ErrorRates:
    threshold: float
    fmr: float
    fnmr: float
    false_matches: int
    false_non_matches: int


@dataclass(frozen=True)
class PairDistances:
    genuine: tuple[float, ...]
    impostor: tuple[float, ...]


def read_labels(dataset: Path) -> list[LabelledImage]:
    labels = dataset / "labels.csv"
    try:
        with labels.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or not {"file", "identity"} <= set(reader.fieldnames):
                raise DatasetError(f"{labels}: needs the columns 'file' and 'identity'")
            rows = [
                LabelledImage(
                    (r["file"] or "").strip(),
                    (r["identity"] or "").strip(),
                    (r.get("group") or "").strip(),
                )
                for r in reader
            ]
    except OSError as exc:
        raise DatasetError(f"{labels}: cannot read ({exc.strerror})") from exc
    except (csv.Error, UnicodeDecodeError) as exc:
        raise DatasetError(f"{labels}: not a readable CSV file ({exc})") from exc
    rows = [r for r in rows if r.file]
    for r in rows:
        if not r.identity:
            raise DatasetError(f"{labels}: {r.file} has no identity")
        if Path(r.file).is_absolute() or ".." in Path(r.file).parts:
            raise DatasetError(f"{labels}: {r.file} is not a path inside the dataset")
    if len(rows) < 2:
        raise DatasetError(f"{labels}: fewer than two labelled images")
    return rows


def pair_distances(descriptors: Sequence[Descriptor], identities: Sequence[str]) -> PairDistances:
    if len(descriptors) < 2:
        return PairDistances((), ())
    mat = np.asarray(descriptors, dtype=np.float64)
    ids = np.asarray(identities)
    iu, ju = np.triu_indices(len(mat), 1)
    d = np.linalg.norm(mat[iu] - mat[ju], axis=1)
    same = ids[iu] == ids[ju]
    return PairDistances(tuple(d[same].tolist()), tuple(d[~same].tolist()))


def error_rates(pairs: PairDistances, thresholds: Sequence[float]) -> list[ErrorRates]:
    gen = np.asarray(pairs.genuine, dtype=np.float64)
    imp = np.asarray(pairs.impostor, dtype=np.float64)
    out = []
    for t in thresholds:
        fm = int(np.count_nonzero(imp <= t))
        fnm = int(np.count_nonzero(gen > t))
        out.append(
            ErrorRates(
                threshold=round(float(t), 4),
                fmr=fm / len(imp) if len(imp) else 0.0,
                fnmr=fnm / len(gen) if len(gen) else 0.0,
                false_matches=fm,
                false_non_matches=fnm,
            )
        )
    return out


def default_thresholds() -> list[float]:
    return [round(0.30 + 0.01 * i, 2) for i in range(41)]  # 0.30 .. 0.70


def empirical_threshold(impostor: Sequence[float], target_fmr: float = TARGET_FMR) -> float:
    """Largest threshold (just below an impostor distance) with FMR <= target."""
    imp = sorted(impostor)
    if not imp:
        raise DatasetError("no impostor pairs: the dataset needs at least two identities")
    allowed = int(np.floor(target_fmr * len(imp)))  # false matches tolerated
    return float(np.nextafter(imp[allowed], 0.0)) if allowed < len(imp) else float(imp[-1])


@dataclass(frozen=True)
class ThresholdChoice:
    threshold: float  # the setting, rounded down to 0.01
    fitted_quantile: float  # the model's target-FMR point before rounding
    model: TailModel
    basis: str  # "tail_fit", or "empirical" when the observed pairs refute the fit


def choose_threshold(
    impostor: Sequence[float],
    target_fmr: float = TARGET_FMR,
    tail_fraction: float = TAIL_FRACTION,
    families: Sequence[Family] = FAMILIES,
) -> ThresholdChoice:
    """The target-FMR quantile of the best-fitting lower-tail model (impostor_tail).

    The fit is refused when the impostor pairs observed at or below its
    quantile are too many for the target (the exact 95% interval of the
    observed FMR there lies wholly above it); the empirical target point is
    used then. Rounded down to two decimals, the setting's resolution, so the
    rounding never loosens FMR.
    """
    try:
        model = fit_impostor_tail(impostor, tail_fraction, families)
    except TailFitError as exc:
        raise DatasetError(f"cannot fit the impostor distances: {exc}") from exc
    q = model.chosen.quantile(target_fmr)
    observed = int(np.count_nonzero(np.asarray(impostor) <= q))
    t, basis = q, "tail_fit"
    if clopper_pearson(observed, len(impostor))[0] > target_fmr:
        t, basis = min(q, empirical_threshold(impostor, target_fmr)), "empirical"
    setting = round(math.floor(round(t * 100.0, 6)) / 100.0, 2)  # 0.29 * 100 is 28.999...
    if setting > t:
        setting = round(setting - 0.01, 2)
    return ThresholdChoice(setting, q, model, basis)


def select_threshold(impostor: Sequence[float], target_fmr: float = TARGET_FMR) -> float:
    """Shipped-threshold rule (choose_threshold's setting)."""
    return choose_threshold(impostor, target_fmr).threshold


@dataclass(frozen=True)
class HeldOutResult:
    identity: str
    threshold: float
    false_matches: int
    impostor_pairs: int
    false_non_matches: int
    genuine_pairs: int


def leave_one_identity_out(
    descriptors: Sequence[Descriptor], identities: Sequence[str], target_fmr: float = TARGET_FMR
) -> list[HeldOutResult]:
    """Calibrate without one person, then test on the pairs involving that person.

    This estimates how the threshold rule behaves on people never seen: the
    threshold of fold p never saw p's photos, neither as genuine nor as
    impostor pairs. An impostor pair (p, q) is tested twice, in fold p and in
    fold q, each time against a threshold that did not see one of its people.
    """
    ids = np.asarray(identities)
    n = len(descriptors)
    if n < 2:
        return []
    mat = np.asarray(descriptors, dtype=np.float64)
    dist = np.linalg.norm(mat[:, None, :] - mat[None, :, :], axis=2)
    iu, ju = np.triu_indices(n, 1)
    d = dist[iu, ju]
    same = ids[iu] == ids[ju]
    results = []
    for person in sorted(set(identities)):
        involves = (ids[iu] == person) | (ids[ju] == person)
        calib = d[~involves & ~same]
        if len(calib) == 0:
            continue
        t = select_threshold(calib.tolist(), target_fmr)
        gen = d[involves & same]
        imp = d[involves & ~same]
        results.append(
            HeldOutResult(
                person,
                t,
                false_matches=int(np.count_nonzero(imp <= t)),
                impostor_pairs=len(imp),
                false_non_matches=int(np.count_nonzero(gen > t)),
                genuine_pairs=len(gen),
            )
        )
    return results


def plot_thresholds() -> list[float]:
    """A fine grid for plotting (0.20 .. 0.90 in steps of 0.0025)."""
    return [round(0.20 + 0.0025 * i, 4) for i in range(281)]


def plot_det(
    rates: Sequence[ErrorRates],
    shipped: float,
    path: Path,
    model: TailFit | None = None,
    title: str | None = None,
) -> None:
    """DET (FNMR against FMR, log axes) and the rates per threshold, shipped threshold
    marked; with `model`, the fitted impostor tail drawn over the observed FMR."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    floor = 1e-4  # zero rates drawn at the axis floor so they stay visible on log axes
    fmr = [max(r.fmr, floor) for r in rates]
    fnmr = [max(r.fnmr, floor) for r in rates]
    fig, (ax_det, ax_rates) = plt.subplots(1, 2, figsize=(11, 4.5))
    try:
        ax_det.plot(fmr, fnmr, color="tab:blue", drawstyle="steps-post", label="observed")
        if model is not None:
            # Where no impostor pair was observed, the fitted tail gives the FMR axis.
            ax_det.plot(
                [max(model.cdf(r.threshold), floor * 0.01) for r in rates],
                fnmr,
                color="tab:blue",
                linestyle="--",
                label=f"FMR from the {model.family} tail fit",
            )
        at = min(rates, key=lambda r: abs(r.threshold - shipped))
        ax_det.plot(
            [max(at.fmr, floor)], [max(at.fnmr, floor)], "ko", label=f"threshold {shipped:.2f}"
        )
        ax_det.set_xscale("log")
        ax_det.set_yscale("log")
        ax_det.set_xlim(floor * 0.08 if model is not None else floor * 0.8, 1.0)
        ax_det.set_ylim(floor * 0.8, 1.0)
        ax_det.set_xlabel("false match rate (FMR)")
        ax_det.set_ylabel("false non-match rate (FNMR)")
        ax_det.set_title("DET (observed rates of 0 drawn at 1e-4)")
        ax_det.axvline(TARGET_FMR, color="tab:red", linestyle="--", label="FMR 0.1%")
        ax_det.grid(True, which="both", alpha=0.3)
        ax_det.legend(fontsize="small")
        ts = [r.threshold for r in rates]
        ax_rates.plot(ts, fmr, label="FMR (observed)", color="tab:red")
        ax_rates.plot(ts, fnmr, label="FNMR (observed)", color="tab:blue")
        if model is not None:
            ax_rates.plot(
                ts,
                [max(model.cdf(t), floor * 0.01) for t in ts],
                label=f"FMR ({model.family} tail fit)",
                color="tab:red",
                linestyle="--",
            )
        ax_rates.axhline(TARGET_FMR, color="grey", linestyle="--", linewidth=0.8)
        ax_rates.axvline(shipped, color="black", linestyle=":", label=f"threshold {shipped:.2f}")
        ax_rates.set_yscale("log")
        ax_rates.set_ylim(floor * 0.1, 1.0)
        ax_rates.set_xlabel("distance threshold")
        ax_rates.set_ylabel("rate")
        ax_rates.set_title("error rates per threshold")
        ax_rates.grid(True, which="both", alpha=0.3)
        ax_rates.legend(loc="lower right", fontsize="small")
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)


@dataclass(frozen=True)
class UnusableImage:
    file: str
    reason: str  # unreadable_image, no_face, multiple_faces
    message: str


@dataclass(frozen=True)
class EncodedDataset:
    files: tuple[str, ...]
    identities: tuple[str, ...]
    descriptors: tuple[Descriptor, ...]
    unusable: tuple[UnusableImage, ...]
    groups: tuple[str, ...] = ()  # one per file when the labels name groups; () = none

    def group_labels(self) -> tuple[str, ...]:
        return self.groups if self.groups else ("",) * len(self.files)


def encode_dataset(
    dataset: Path,
    encode: Callable[[Path], Descriptor],
    progress: Callable[[int, int], None] | None = None,
) -> EncodedDataset:
    """Encode every labelled image; failures are listed, never silently dropped."""
    rows = read_labels(dataset)
    files: list[str] = []
    identities: list[str] = []
    groups: list[str] = []
    descriptors: list[Descriptor] = []
    unusable: list[UnusableImage] = []
    for n, row in enumerate(rows, start=1):
        try:
            descriptors.append(encode(dataset / row.file))
            files.append(row.file)
            identities.append(row.identity)
            groups.append(row.group)
        except FaceError as exc:
            unusable.append(UnusableImage(row.file, exc.code, exc.message))
        if progress is not None:
            progress(n, len(rows))
    return EncodedDataset(
        tuple(files), tuple(identities), tuple(descriptors), tuple(unusable), tuple(groups)
    )


def dataset_from_results(
    rows: Sequence[LabelledImage],
    results: Sequence[tuple[Descriptor | None, str | None, str | None]],
) -> EncodedDataset:
    """An EncodedDataset from (descriptor, error code, error message) per row, in order
    (batch.encode_paths); failures are listed, never silently dropped."""
    files: list[str] = []
    identities: list[str] = []
    groups: list[str] = []
    descriptors: list[Descriptor] = []
    unusable: list[UnusableImage] = []
    for row, (vec, code, message) in zip(rows, results, strict=True):
        if vec is None:
            unusable.append(UnusableImage(row.file, code or "unusable", message or ""))
            continue
        files.append(row.file)
        identities.append(row.identity)
        groups.append(row.group)
        descriptors.append(vec)
    return EncodedDataset(
        tuple(files), tuple(identities), tuple(descriptors), tuple(unusable), tuple(groups)
    )


def pool_datasets(folders: Sequence[Path], parts: Sequence[EncodedDataset]) -> EncodedDataset:
    """Several calibration sets as one; files and identities are prefixed with their
    folder's position ("1/", "2/" ...), so a label reused in two sets stays two people."""

    def tag(k: int, name: str) -> str:
        return f"{k}/{name}"

    files: list[str] = []
    identities: list[str] = []
    groups: list[str] = []
    descriptors: list[Descriptor] = []
    unusable: list[UnusableImage] = []
    for k, (folder, part) in enumerate(zip(folders, parts, strict=True), start=1):
        files += [tag(k, f) for f in part.files]
        identities += [tag(k, i) for i in part.identities]
        groups += part.group_labels()
        descriptors += part.descriptors
        unusable += [
            UnusableImage(str(folder / u.file), u.reason, u.message) for u in part.unusable
        ]
    return EncodedDataset(
        tuple(files), tuple(identities), tuple(descriptors), tuple(unusable), tuple(groups)
    )


def _per_person(
    pairs_d: Any, same: Any, ia: Any, ib: Any, person: str, t: float
) -> tuple[int, int, int, int]:
    involves = (ia == person) | (ib == person)
    gen = pairs_d[involves & same]
    imp = pairs_d[involves & ~same]
    return (
        int(np.count_nonzero(imp <= t)),
        len(imp),
        int(np.count_nonzero(gen > t)),
        len(gen),
    )


def _interval(lo_hi: tuple[float, float]) -> list[float]:
    return [round(lo_hi[0], 6), round(lo_hi[1], 6)]


def rate_intervals(
    descriptors: Sequence[Descriptor], identities: Sequence[str], threshold: float
) -> dict[str, Any]:
    """95% intervals of FMR and FNMR at a fixed threshold: exact binomial over pairs,
    and a bootstrap over people (each person's pairs resampled together)."""
    ids = np.asarray(identities)
    mat = np.asarray(descriptors, dtype=np.float64)
    iu, ju = np.triu_indices(len(mat), 1)
    d = np.linalg.norm(mat[iu] - mat[ju], axis=1)
    same = ids[iu] == ids[ju]
    fm = int(np.count_nonzero(d[~same] <= threshold))
    fnm = int(np.count_nonzero(d[same] > threshold))
    people = [_per_person(d, same, ids[iu], ids[ju], p, threshold) for p in sorted(set(identities))]
    return {
        "fmr_clopper_pearson": _interval(clopper_pearson(fm, int(np.count_nonzero(~same)))),
        "fnmr_clopper_pearson": _interval(clopper_pearson(fnm, int(np.count_nonzero(same)))),
        # An impostor pair involves two people and counts for both in the resampling.
        "fmr_bootstrap_people": _interval(
            bootstrap_ratio([p[0] for p in people], [p[1] for p in people])
        ),
        "fnmr_bootstrap_people": _interval(
            bootstrap_ratio([p[2] for p in people], [p[3] for p in people])
        ),
    }


def held_out_summary(held_out: Sequence[HeldOutResult]) -> dict[str, Any]:
    """Leave-one-person-out totals with intervals, and each fold's figures."""
    fm = sum(h.false_matches for h in held_out)
    n_imp = sum(h.impostor_pairs for h in held_out)
    fnm = sum(h.false_non_matches for h in held_out)
    n_gen = sum(h.genuine_pairs for h in held_out)
    ts = [h.threshold for h in held_out]
    return {
        # Threshold chosen without one person, tested on that person's pairs;
        # summed over all people: an estimate for travellers never seen.
        "false_matches": fm,
        "impostor_pairs": n_imp,  # each impostor pair is tested in two folds
        "fmr": round(fm / n_imp, 6) if n_imp else 0.0,
        "false_non_matches": fnm,
        "genuine_pairs": n_gen,
        "fnmr": round(fnm / n_gen, 6) if n_gen else 0.0,
        "method": "leave-one-person-out",
        "folds": len(held_out),
        "threshold_min": min(ts) if ts else None,
        "threshold_median": round(statistics.median(ts), 4) if ts else None,
        "threshold_max": max(ts) if ts else None,
        "fmr_clopper_pearson": _interval(clopper_pearson(fm, n_imp)),
        "fnmr_clopper_pearson": _interval(clopper_pearson(fnm, n_gen)),
        "fmr_bootstrap_people": _interval(
            bootstrap_ratio(
                [h.false_matches for h in held_out], [h.impostor_pairs for h in held_out]
            )
        )
        if held_out
        else [0.0, 1.0],
        "fnmr_bootstrap_people": _interval(
            bootstrap_ratio(
                [h.false_non_matches for h in held_out], [h.genuine_pairs for h in held_out]
            )
        )
        if held_out
        else [0.0, 1.0],
        "per_identity": [
            {
                "identity": h.identity,
                "threshold": h.threshold,
                "false_matches": h.false_matches,
                "impostor_pairs": h.impostor_pairs,
                "false_non_matches": h.false_non_matches,
                "genuine_pairs": h.genuine_pairs,
            }
            for h in held_out
        ],
    }


def method_description(target_fmr: float, tail_fraction: float = TAIL_FRACTION) -> dict[str, Any]:
    return {
        "name": "impostor_lower_tail_fit",
        "target_fmr": target_fmr,
        "tail_fraction": tail_fraction,
        "families": list(FAMILIES),
        "fit": "maximum likelihood on the lowest tail_fraction of impostor distances, "
        "the rest right-censored",
        "selection": "lowest AIC; ks_pvalue tests the tail points against the chosen fit",
        "threshold": "the chosen fit's target_fmr quantile, rounded down to 0.01",
        "validation": "k-fold over people, stratified by group (held_out_identities); "
        "with k = the number of people, leave-one-person-out",
        "admit_rule": "the lowest of the target points of all impostor pairs and of each "
        f"group's within-group impostor pairs (groups with >= {MIN_GROUP_IMPOSTORS} such pairs)",
        "intervals": "95%: Clopper-Pearson over pairs; percentile bootstrap over people "
        f"({BOOTSTRAP_RESAMPLES} resamples)",
    }


def calibration_report(
    encoded: EncodedDataset,
    shipped_threshold: float,
    thresholds: Sequence[float] | None = None,
    target_fmr: float = TARGET_FMR,
    folds: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """The JSON document of `egate face calibrate` (keys documented in docs/face.md).

    `recommended_threshold` is the admit rule (heldout.admit_rule): the lowest
    target-FMR point of all impostor pairs and of each labelled group's
    within-group pairs. Held-out figures: k-fold over people (`folds`, default
    heldout.DEFAULT_FOLDS; progress(done, folds) after each fold).
    """
    from kiosk.face import heldout  # heldout builds on this module

    pairs = pair_distances(encoded.descriptors, encoded.identities)
    if not pairs.impostor:
        raise DatasetError("no impostor pairs: the dataset needs at least two identities")
    if not pairs.genuine:
        raise DatasetError("no genuine pairs: some identity needs at least two usable images")
    table = error_rates(pairs, thresholds or default_thresholds())
    (at_shipped,) = error_rates(pairs, [shipped_threshold])
    choice = choose_threshold(pairs.impostor, target_fmr)
    ptable = heldout.pair_table(encoded.descriptors, encoded.identities, encoded.group_labels())
    recommended, candidates = heldout.admit_rule(ptable, target_fmr=target_fmr)
    (at_recommended,) = error_rates(pairs, [recommended])
    k = heldout.DEFAULT_FOLDS if folds is None else folds
    held_out = (
        heldout.kfold_held_out(ptable, k, progress=progress) if len(ptable.people) > 2 else []
    )
    model = choice.model

    def rates(r: ErrorRates) -> dict[str, Any]:
        return {
            "fmr": round(r.fmr, 6),
            "fnmr": round(r.fnmr, 6),
            "false_matches": r.false_matches,
            "false_non_matches": r.false_non_matches,
        }

    def fit_dict(f: TailFit) -> dict[str, Any]:
        return {**f.as_dict(), "threshold_at_target": round(f.quantile(target_fmr), 4)}

    return {
        "images": len(encoded.files) + len(encoded.unusable),
        "usable_images": len(encoded.files),
        "identities": len(set(encoded.identities)),
        "unusable": [
            {"file": u.file, "reason": u.reason, "message": u.message} for u in encoded.unusable
        ],
        "genuine_pairs": len(pairs.genuine),
        "impostor_pairs": len(pairs.impostor),
        "target_fmr": target_fmr,
        "shipped_threshold": shipped_threshold,
        "at_shipped_threshold": rates(at_shipped),
        "recommended_threshold": recommended,
        "at_recommended_threshold": rates(at_recommended),
        "recommended_candidates": candidates,
        "held_out_identities": {
            **held_out_summary(held_out),
            "method": f"k-fold over people (k={min(k, len(ptable.people))})",
        },
        "groups": heldout.groups_report(
            ptable, held_out, shipped_threshold, recommended, candidates
        ),
        "method": method_description(target_fmr),
        "tail_model": {
            "chosen": fit_dict(model.chosen),
            "fits": [fit_dict(f) for f in model.fits],
            "failed": list(model.failed),
            "fitted_quantile": round(choice.fitted_quantile, 4),
            "threshold_basis": choice.basis,
            "modelled_fmr_at_shipped": float(f"{model.chosen.cdf(shipped_threshold):.3g}"),
            "modelled_fmr_at_recommended": float(f"{model.chosen.cdf(recommended):.3g}"),
            "empirical_threshold": round(empirical_threshold(pairs.impostor, target_fmr), 4),
        },
        "intervals": {
            "confidence": CONFIDENCE,
            "at_shipped_threshold": rate_intervals(
                encoded.descriptors, encoded.identities, shipped_threshold
            ),
            "at_recommended_threshold": rate_intervals(
                encoded.descriptors, encoded.identities, recommended
            ),
        },
        "distances": {
            "genuine_max": round(max(pairs.genuine), 4),
            "genuine_mean": round(statistics.fmean(pairs.genuine), 4),
            "impostor_min": round(min(pairs.impostor), 4),
            "impostor_mean": round(statistics.fmean(pairs.impostor), 4),
        },
        "thresholds": [
            {"threshold": r.threshold, "fmr": round(r.fmr, 6), "fnmr": round(r.fnmr, 6)}
            for r in table
        ],
    }
