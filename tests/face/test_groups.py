"""Per-group calibration, k-fold over people, and the admit rule (issue 25).

Synthetic descriptors with a known structure: a "tight" group whose different
people lie much closer together than the others' (as dlib puts East Asian
faces), so an overall threshold admits many of its impostor pairs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kiosk.face import calibration as cal
from kiosk.face import heldout


def people(
    rng: np.random.Generator, n: int, spread: float, noise: float, photos: int = 4
) -> list[np.ndarray]:
    """`n` people around one centre: identities `spread` apart, photos `noise` apart."""
    centre = rng.normal(0.0, 1.0, 128)
    out = []
    for _ in range(n):
        person = centre + rng.normal(0.0, spread / np.sqrt(128), 128)
        out += [person + rng.normal(0.0, noise / np.sqrt(128), 128) for _ in range(photos)]
    return out


def dataset(seed: int = 1, tight_people: int = 22, wide_people: int = 24) -> cal.EncodedDataset:
    rng = np.random.default_rng(seed)
    wide = people(rng, wide_people, spread=0.85, noise=0.25)  # impostors ~0.85 * sqrt(2)
    tight = people(rng, tight_people, spread=0.50, noise=0.20)  # impostors ~0.50 * sqrt(2)
    descs = tight + wide
    ids = [f"t{i // 4}" for i in range(len(tight))] + [f"w{i // 4}" for i in range(len(wide))]
    groups = ["tight"] * len(tight) + ["wide"] * len(wide)
    files = tuple(f"{i}.jpg" for i in range(len(descs)))
    return cal.EncodedDataset(files, tuple(ids), tuple(descs), (), tuple(groups))


def test_labels_with_a_group_column(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("file,identity,group\na.jpg,x,east_asian\nb.jpg,y,\n")
    rows = cal.read_labels(tmp_path)
    assert [(r.identity, r.group) for r in rows] == [("x", "east_asian"), ("y", "")]


def test_report_gives_each_group_its_within_group_figures() -> None:
    enc = dataset()
    report = cal.calibration_report(enc, 0.55, folds=5)
    groups = report["groups"]
    assert set(groups) == {"tight", "wide"}
    tight, wide = groups["tight"], groups["wide"]
    # 22 people x 4 photos: C(88, 2) - 22 * C(4, 2) within-group impostor pairs.
    assert tight["at_shipped_threshold"]["impostor_pairs"] == 88 * 87 // 2 - 22 * 6
    assert tight["people"] == 22 and wide["people"] == 24
    # The tight group's own 0.1% point is far below the overall one, and the
    # recommended (admit) threshold follows the stricter of the two.
    cands = report["recommended_candidates"]
    assert cands["tight"] < cands["overall"]
    assert report["recommended_threshold"] == min(cands.values()) == cands["tight"]
    assert tight["threshold_at_target_within_group"] == cands["tight"]
    # At a threshold fitted on everyone the tight group's impostors pass far more often.
    at_overall = heldout.group_rates_at(
        heldout.pair_table(enc.descriptors, enc.identities, enc.groups), cands["overall"]
    )
    by = {g.group: g for g in at_overall}
    assert by["tight"].false_matches / by["tight"].impostor_pairs > 0.003
    assert by["wide"].false_matches / by["wide"].impostor_pairs < 0.002
    # Held out (5 folds over people): the admit rule keeps the tight group's FMR low.
    held = tight["held_out"]
    assert held["impostor_pairs"] == tight["at_shipped_threshold"]["impostor_pairs"]
    assert held["fmr"] <= 0.005
    lo, hi = held["fmr_clopper_pearson"]
    assert lo <= held["fmr"] <= hi
    assert report["held_out_identities"]["method"] == "k-fold over people (k=5)"


def test_no_group_column_no_group_section() -> None:
    enc = dataset()
    plain = cal.EncodedDataset(enc.files, enc.identities, enc.descriptors, ())
    report = cal.calibration_report(plain, 0.55, folds=4)
    assert report["groups"] == {}
    assert set(report["recommended_candidates"]) == {"overall"}


def test_kfold_with_one_person_per_fold_is_leave_one_person_out() -> None:
    """The fast path keeps the meaning: k = number of people reproduces the
    leave-one-person-out figures of calibration.leave_one_identity_out exactly."""
    enc = dataset(seed=3, tight_people=4, wide_people=5)  # one tail fit per person
    table = heldout.pair_table(enc.descriptors, enc.identities, enc.group_labels())

    def overall(t: heldout.PairTable, keep: heldout.Bools) -> float:
        return cal.select_threshold(t.distance[keep & ~t.same].tolist())

    kfold = heldout.kfold_held_out(table, k=len(table.people), rule=overall)
    lopo = cal.leave_one_identity_out(enc.descriptors, enc.identities)
    assert kfold == lopo


def test_no_fold_threshold_sees_its_people() -> None:
    enc = dataset(seed=4)
    table = heldout.pair_table(enc.descriptors, enc.identities, enc.group_labels())
    fold = heldout.assign_folds(table.people, table.groups, 6)
    seen: list[set[int]] = []

    def spy(t: heldout.PairTable, keep: heldout.Bools) -> float:
        seen.append(set(t.person_a[keep].tolist()) | set(t.person_b[keep].tolist()))
        return 0.5

    held = heldout.kfold_held_out(table, k=6, rule=spy)
    assert len(seen) == 6 and len(held) == len(table.people)
    for f, used in enumerate(seen):
        assert used.isdisjoint(np.flatnonzero(fold == f).tolist())
    # Stratified: every fold holds people of both groups.
    for f in range(6):
        assert {table.groups[p] for p in np.flatnonzero(fold == f)} == {"tight", "wide"}


def test_pair_table_matches_pair_distances() -> None:
    enc = dataset(seed=5)
    table = heldout.pair_table(enc.descriptors, enc.identities, enc.group_labels())
    pairs = cal.pair_distances(enc.descriptors, enc.identities)
    assert np.allclose(sorted(table.distance[table.same]), sorted(pairs.genuine))
    assert np.allclose(sorted(table.distance[~table.same]), sorted(pairs.impostor))


def test_a_person_in_two_groups_is_refused() -> None:
    v = [np.zeros(128), np.ones(128)]
    with pytest.raises(cal.DatasetError, match="two groups"):
        heldout.pair_table(v, ["p", "p"], ["a", "b"])


def test_blocked_tail_likelihood_keeps_the_fitted_point() -> None:
    """Large sets fit the tail on <= MAX_FIT_POINTS weighted order statistics: the 0.1%
    point must equal the full-likelihood fit's well within the 0.01 setting step."""
    from kiosk.face import impostor_tail as it

    rng = np.random.default_rng(7)
    x = 0.3 + 0.5 * rng.weibull(4.0, 24_000)  # a tail of 6,000 > 2,000 points
    for family in ("normal", "weibull"):
        blocked = it.fit_family(family, x)  # type: ignore[arg-type]
        full = it.fit_family(family, x, max_points=10**9)  # type: ignore[arg-type]
        assert abs(blocked.quantile(0.001) - full.quantile(0.001)) < 0.002
        assert blocked.tail_points == full.tail_points == 6_000
