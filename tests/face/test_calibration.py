"""Threshold calibration: error rates, the threshold rule, held-out people, the plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kiosk.face import calibration as cal
from kiosk.face.errors import NoFaceError


def test_error_rates_count_at_or_below_threshold_as_match() -> None:
    pairs = cal.PairDistances(genuine=(0.2, 0.3, 0.45, 0.6), impostor=(0.45, 0.7, 0.8, 0.9))
    (r,) = cal.error_rates(pairs, [0.45])
    assert (r.false_matches, r.false_non_matches) == (1, 1)
    assert r.fmr == pytest.approx(0.25) and r.fnmr == pytest.approx(0.25)
    (low,) = cal.error_rates(pairs, [0.1])
    assert (low.fmr, low.fnmr) == (0.0, 1.0)


def test_empirical_threshold_allows_the_target_share_only() -> None:
    impostor = [0.5 + i / 10_000 for i in range(3000)]  # 0.1% of 3000 = 3 false matches
    t = cal.empirical_threshold(impostor, 0.001)
    assert sum(d <= t for d in impostor) == 3
    assert cal.empirical_threshold([0.6, 0.7], 0.001) < 0.6


def test_select_threshold_is_the_rounded_down_tail_quantile() -> None:
    rng = np.random.default_rng(1)
    impostor = list(rng.normal(0.8, 0.05, 500))
    t = cal.select_threshold(impostor)
    choice = cal.choose_threshold(impostor)
    assert t == choice.threshold == round(t, 2)
    assert t <= choice.fitted_quantile < t + 0.01
    # For normal data the tail fit recovers the true 0.1% point (z = -3.09).
    assert choice.fitted_quantile == pytest.approx(0.8 - 3.09 * 0.05, abs=0.03)


def test_pairs_and_held_out_people() -> None:
    a = [np.array([0.0, 0.0]), np.array([0.1, 0.0])]
    b = [np.array([1.0, 0.0]), np.array([1.0, 0.12])]
    c = [np.array([0.0, 1.0]), np.array([0.05, 1.0])]
    descs = [*a, *b, *c]
    ids = ["a", "a", "b", "b", "c", "c"]
    pairs = cal.pair_distances(descs, ids)
    assert len(pairs.genuine) == 3 and len(pairs.impostor) == 12
    held = cal.leave_one_identity_out(descs, ids)
    assert [h.identity for h in held] == ["a", "b", "c"]
    assert all(h.genuine_pairs == 1 and h.impostor_pairs == 8 for h in held)
    # In-sample the rule finds a clean threshold; holding "a" out shows that a
    # threshold fitted to b and c (far apart) is too lax for a newcomer.
    (in_sample,) = cal.error_rates(pairs, [cal.select_threshold(pairs.impostor)])
    assert in_sample.false_matches == 0
    assert held[0].threshold > 1.0 and held[0].false_matches == 8


def write_labels(folder: Path, rows: list[tuple[str, str]], header: str = "file,identity") -> None:
    text = header + "\n" + "".join(f"{f},{i}\n" for f, i in rows)
    (folder / "labels.csv").write_text(text, encoding="utf-8")


def test_read_labels_validates(tmp_path: Path) -> None:
    with pytest.raises(cal.DatasetError, match="cannot read"):
        cal.read_labels(tmp_path)
    write_labels(tmp_path, [("a.jpg", "x"), ("b.jpg", "y")], header="name,person")
    with pytest.raises(cal.DatasetError, match="columns"):
        cal.read_labels(tmp_path)
    write_labels(tmp_path, [("../escape.jpg", "x"), ("b.jpg", "y")])
    with pytest.raises(cal.DatasetError, match="inside the dataset"):
        cal.read_labels(tmp_path)
    write_labels(tmp_path, [("a.jpg", "x"), ("b.jpg", "y")])
    assert [r.identity for r in cal.read_labels(tmp_path)] == ["x", "y"]


def test_encode_dataset_lists_unusable_images(tmp_path: Path) -> None:
    write_labels(tmp_path, [("a.jpg", "x"), ("b.jpg", "x"), ("c.jpg", "y")])

    def encode(path: Path) -> np.ndarray:
        if path.name == "b.jpg":
            raise NoFaceError("no face found")
        return np.zeros(2)

    encoded = cal.encode_dataset(tmp_path, encode)
    assert encoded.files == ("a.jpg", "c.jpg")
    assert [(u.file, u.reason) for u in encoded.unusable] == [("b.jpg", "no_face")]
    with pytest.raises(cal.DatasetError, match="genuine"):
        cal.calibration_report(encoded, 0.5)


def test_report_and_plot(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    centres = rng.normal(0, 1, (6, 8))
    descs = [c + rng.normal(0, 0.05, 8) for c in centres for _ in range(3)]
    ids = [f"p{i}" for i in range(6) for _ in range(3)]
    encoded = cal.EncodedDataset(tuple(f"{i}.jpg" for i in range(18)), tuple(ids), tuple(descs), ())
    report = cal.calibration_report(encoded, 0.5)
    assert report["images"] == 18 and report["genuine_pairs"] == 18
    assert report["impostor_pairs"] == 135
    assert report["at_shipped_threshold"]["fmr"] == 0.0
    assert {"threshold", "fmr", "fnmr"} == set(report["thresholds"][0])
    rates = cal.error_rates(cal.pair_distances(descs, ids), cal.default_thresholds())
    png = tmp_path / "det.png"
    cal.plot_det(rates, 0.5, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # With the fitted tail drawn over the observed rates, on the fine plotting grid.
    pairs = cal.pair_distances(descs, ids)
    model = cal.choose_threshold(pairs.impostor).model.chosen
    fine = tmp_path / "det-fit.png"
    cal.plot_det(cal.error_rates(pairs, cal.plot_thresholds()), 0.5, fine, model, "title")
    assert fine.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report["held_out_identities"]["folds"] == 6
    assert report["tail_model"]["chosen"]["family"] == model.family


def test_pooled_datasets_keep_people_apart(tmp_path: Path) -> None:
    # The same label in two sets is two people: their pairs are impostor pairs.
    v = [np.array([0.0, 0.0]), np.array([0.1, 0.0])]
    a = cal.EncodedDataset(("x.jpg", "y.jpg"), ("p", "p"), tuple(v), ())
    b = cal.EncodedDataset(
        ("x.jpg", "y.jpg"),
        ("p", "p"),
        tuple(x + 3.0 for x in v),
        (cal.UnusableImage("z.jpg", "no_face", "no face found"),),
    )
    pooled = cal.pool_datasets([tmp_path / "a", tmp_path / "b"], [a, b])
    assert pooled.identities == ("1/p", "1/p", "2/p", "2/p")
    assert pooled.files[2] == "2/x.jpg"
    assert [u.file for u in pooled.unusable] == [str(tmp_path / "b" / "z.jpg")]
    pairs = cal.pair_distances(pooled.descriptors, pooled.identities)
    assert len(pairs.genuine) == 2 and len(pairs.impostor) == 4
