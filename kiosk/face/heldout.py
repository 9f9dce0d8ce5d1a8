"""Held-out evaluation over people: k-fold, per group, for the admit threshold.

The admit threshold must hold on people never seen, and within every group of
similar-looking people (issue 25: between two East Asian strangers dlib's
distances are far shorter than between two people of different groups, so an
overall 0.1% point admits 28% of East Asian impostor pairs). The rule
(`admit_rule`) therefore takes the lowest of the tail-fit 0.1% points of all
impostor pairs and of each labelled group's within-group impostor pairs. It is
one threshold for everyone: a group label only decides which pairs the
calibration looks at, never how a traveller is treated.

Validation is k-fold over people (`kfold_held_out`): people are dealt into k
folds (stratified by group so every fold holds some of each), the threshold
of fold f is chosen without any pair involving a person of f, and each person
of f is tested on all of their own pairs. With k equal to the number of people
this is exactly leave-one-person-out; k=10 refits 10 times instead of once per
person (on 400 people, minutes instead of hours) and keeps the meaning: no
threshold is ever tested on a person it saw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kiosk.face.calibration import (
    MIN_GROUP_IMPOSTORS,
    TARGET_FMR,
    DatasetError,
    HeldOutResult,
    choose_threshold,
)
from kiosk.face.encoding import Descriptor
from kiosk.face.intervals import clopper_pearson

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

DEFAULT_FOLDS = 10
FOLD_SEED = 25  # fixed: the report is reproducible
UNLABELLED = ""  # people of a labels file without a group column


@dataclass(frozen=True)
class PairTable:
    """Every pair i < j of a data set: distance, whose photos, genuine or not."""

    distance: Floats
    person_a: Ints  # index into people
    person_b: Ints
    same: Bools
    people: tuple[str, ...]
    groups: tuple[str, ...]  # one per person

    def within(self, group: str) -> Bools:
        """Pairs whose two people both belong to `group` (genuine pairs included)."""
        member = np.asarray([g == group for g in self.groups], dtype=bool)
        out: Bools = member[self.person_a] & member[self.person_b]
        return out


def pair_table(
    descriptors: Sequence[Descriptor], identities: Sequence[str], groups: Sequence[str]
) -> PairTable:
    """All pairwise distances at once (about 2 million pairs for 2,000 photos)."""
    if not (len(descriptors) == len(identities) == len(groups)):
        raise ValueError("one identity and one group per descriptor")
    people = tuple(sorted(set(identities)))
    index = {p: k for k, p in enumerate(people)}
    group_of: dict[str, str] = {}
    for person, group in zip(identities, groups, strict=True):
        if group_of.setdefault(person, group) != group:
            raise DatasetError(f"{person} is labelled with two groups")
    mat = np.asarray(descriptors, dtype=np.float64)
    n = len(mat)
    iu, ju = np.triu_indices(n, 1)
    sq = np.einsum("ij,ij->i", mat, mat)
    gram = mat @ mat.T
    d2 = sq[iu] + sq[ju] - 2.0 * gram[iu, ju]
    who = np.asarray([index[i] for i in identities], dtype=np.int64)
    return PairTable(
        distance=np.sqrt(np.maximum(d2, 0.0)),
        person_a=who[iu],
        person_b=who[ju],
        same=who[iu] == who[ju],
        people=people,
        groups=tuple(group_of[p] for p in people),
    )


def admit_rule(
    table: PairTable, keep: Bools | None = None, target_fmr: float = TARGET_FMR
) -> tuple[float, dict[str, float]]:
    """The admit threshold from the pairs in `keep`: the lowest of the overall and
    the per-group (within-group impostor pairs) tail-fit target points.

    Returns the threshold and each candidate (key "overall" or the group name).
    """
    keep = np.ones(len(table.distance), dtype=bool) if keep is None else keep
    impostor = keep & ~table.same
    if not impostor.any():
        raise DatasetError("no impostor pairs: the dataset needs at least two identities")

    def point(mask: Bools) -> float:
        return choose_threshold(table.distance[mask].tolist(), target_fmr).threshold

    candidates = {"overall": point(impostor)}
    for group in sorted(set(table.groups) - {UNLABELLED}):
        mask = impostor & table.within(group)
        if int(mask.sum()) >= MIN_GROUP_IMPOSTORS:
            candidates[group] = point(mask)
    return min(candidates.values()), candidates


def assign_folds(
    people: Sequence[str], groups: Sequence[str], k: int, seed: int = FOLD_SEED
) -> Ints:
    """Fold of each person: shuffled within each group, then dealt in turn, so each
    group is spread over all folds."""
    if k < 2:
        raise ValueError("k-fold needs at least two folds")
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(people), dtype=np.int64)
    turn = 0
    for group in sorted(set(groups)):
        members = [i for i, g in enumerate(groups) if g == group]
        for i in rng.permutation(members):
            fold[int(i)] = turn % k
            turn += 1
    return fold


Rule = Callable[[PairTable, Bools], float]


def kfold_held_out(
    table: PairTable,
    k: int = DEFAULT_FOLDS,
    rule: Rule | None = None,
    progress: Callable[[int, int], None] | None = None,
    seed: int = FOLD_SEED,
) -> list[HeldOutResult]:
    """Per person: their pairs tested at the threshold of the fold that left them out.

    An impostor pair (p, q) counts once for p and once for q, as in
    leave-one-person-out (calibration.leave_one_identity_out).
    """

    def default_rule(t: PairTable, keep: Bools) -> float:
        return admit_rule(t, keep)[0]

    rule = rule or default_rule
    n_people = len(table.people)
    k = min(k, n_people)
    fold = assign_folds(table.people, table.groups, k, seed)
    fold_a, fold_b = fold[table.person_a], fold[table.person_b]
    results: list[HeldOutResult] = []
    for f in range(k):
        held = (fold_a == f) | (fold_b == f)
        threshold = rule(table, ~held)
        for p in np.flatnonzero(fold == f):
            mine = (table.person_a == p) | (table.person_b == p)
            gen = table.distance[mine & table.same]
            imp = table.distance[mine & ~table.same]
            results.append(
                HeldOutResult(
                    table.people[int(p)],
                    threshold,
                    false_matches=int(np.count_nonzero(imp <= threshold)),
                    impostor_pairs=len(imp),
                    false_non_matches=int(np.count_nonzero(gen > threshold)),
                    genuine_pairs=len(gen),
                )
            )
        if progress is not None:
            progress(f + 1, k)
    results.sort(key=lambda h: h.identity)
    return results


@dataclass(frozen=True)
class GroupCounts:
    """Held-out errors of one group: its genuine pairs, its within-group impostor pairs."""

    group: str
    people: int
    false_matches: int
    impostor_pairs: int  # within-group, each counted once
    false_non_matches: int
    genuine_pairs: int


def kfold_group_counts(
    table: PairTable, held: Sequence[HeldOutResult], seed: int = FOLD_SEED
) -> list[GroupCounts]:
    """Within-group held-out figures from the fold thresholds of `held`.

    A within-group impostor pair is counted once, against the stricter of the
    two thresholds that did not see one of its people (never the looser one).
    """
    threshold = {h.identity: h.threshold for h in held}
    t = np.asarray([threshold[p] for p in table.people])
    pair_t = np.minimum(t[table.person_a], t[table.person_b])
    out = []
    for group in sorted(set(table.groups)):
        within = table.within(group)
        gen = within & table.same
        imp = within & ~table.same
        out.append(
            GroupCounts(
                group=group,
                people=sum(1 for g in table.groups if g == group),
                false_matches=int(np.count_nonzero(table.distance[imp] <= pair_t[imp])),
                impostor_pairs=int(imp.sum()),
                false_non_matches=int(np.count_nonzero(table.distance[gen] > pair_t[gen])),
                genuine_pairs=int(gen.sum()),
            )
        )
    return out


def group_rates_at(table: PairTable, threshold: float) -> list[GroupCounts]:
    """Per group (in-sample): genuine pairs and within-group impostor pairs at a threshold."""
    out = []
    for group in sorted(set(table.groups)):
        within = table.within(group)
        gen = table.distance[within & table.same]
        imp = table.distance[within & ~table.same]
        out.append(
            GroupCounts(
                group=group,
                people=sum(1 for g in table.groups if g == group),
                false_matches=int(np.count_nonzero(imp <= threshold)),
                impostor_pairs=len(imp),
                false_non_matches=int(np.count_nonzero(gen > threshold)),
                genuine_pairs=len(gen),
            )
        )
    return out


def _counts_dict(c: GroupCounts) -> dict[str, Any]:
    def ci(k: int, n: int) -> list[float]:
        lo, hi = clopper_pearson(k, n)
        return [round(lo, 6), round(hi, 6)]

    return {
        "false_matches": c.false_matches,
        "impostor_pairs": c.impostor_pairs,
        "fmr": round(c.false_matches / c.impostor_pairs, 6) if c.impostor_pairs else None,
        "fmr_clopper_pearson": ci(c.false_matches, c.impostor_pairs),
        "false_non_matches": c.false_non_matches,
        "genuine_pairs": c.genuine_pairs,
        "fnmr": round(c.false_non_matches / c.genuine_pairs, 6) if c.genuine_pairs else None,
        "fnmr_clopper_pearson": ci(c.false_non_matches, c.genuine_pairs),
    }


def groups_report(
    table: PairTable,
    held: Sequence[HeldOutResult],
    shipped: float,
    recommended: float,
    candidates: dict[str, float],
) -> dict[str, Any]:
    """Per group ("" = people without a group label): within-group figures at the
    shipped and the recommended threshold, the group's own target point (from
    admit_rule's `candidates`), and the
    held-out figures of the k-fold thresholds. Empty when no group is labelled."""
    if set(table.groups) <= {UNLABELLED}:
        return {}
    held_by = {c.group: c for c in kfold_group_counts(table, held)} if held else {}
    out: dict[str, Any] = {}
    for at_shipped, at_recommended in zip(
        group_rates_at(table, shipped), group_rates_at(table, recommended), strict=True
    ):
        g = at_shipped.group
        out[g or "unlabelled"] = {
            "people": at_shipped.people,
            # admit_rule's candidate: None for an unlabelled or too small group.
            "threshold_at_target_within_group": candidates.get(g) if g else None,
            "at_shipped_threshold": _counts_dict(at_shipped),
            "at_recommended_threshold": _counts_dict(at_recommended),
            "held_out": _counts_dict(held_by[g]) if g in held_by else None,
        }
    return out
