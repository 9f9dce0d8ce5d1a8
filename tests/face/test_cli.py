"""`egate face compare` and `egate face calibrate`: JSON keys, errors and exit statuses."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.cli.main import main
from kiosk.face.encoding import CHIP_PADDING


def call(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    try:
        status = main(list(argv))
    except SystemExit as exc:
        status = int(exc.code or 0)
    out = capsys.readouterr().out
    return status, json.loads(out)


@pytest.fixture(scope="module")
def photos(
    tmp_path_factory: pytest.TempPathFactory, astronaut: np.ndarray, grace_hopper: np.ndarray
) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("photos")
    paths = {
        "astronaut": d / "astronaut.jpg",
        "astronaut_chip": d / "astronaut_chip.jp2",
        "grace": d / "grace.png",
        "blank": d / "blank.png",
        "pair": d / "pair.png",
        "junk": d / "junk.jpg",
    }
    cv2.imwrite(str(paths["astronaut"]), astronaut[:, :, ::-1])
    from PIL import Image

    Image.fromarray(astronaut).resize((180, 180)).save(paths["astronaut_chip"], format="JPEG2000")
    cv2.imwrite(str(paths["grace"]), grace_hopper[:, :, ::-1])
    cv2.imwrite(str(paths["blank"]), np.full((300, 300, 3), 180, np.uint8))
    pair = np.hstack([astronaut, astronaut[:, ::-1]])
    assert cv2.imwrite(str(paths["pair"]), np.ascontiguousarray(pair[:, :, ::-1]))
    paths["junk"].write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    return paths


def test_compare_same_person_from_a_small_chip_photo(
    capsys: pytest.CaptureFixture[str], photos: dict[str, Path]
) -> None:
    status, out = call(
        capsys, "face", "compare", str(photos["astronaut_chip"]), str(photos["astronaut"]), "--json"
    )
    assert status == 0
    assert set(out) >= {
        "distance",
        "threshold",
        "match",
        "faces_in_reference",
        "faces_in_probe",
        "ms",
    }
    assert out["match"] is True and out["faces_in_reference"] == 1 and out["faces_in_probe"] == 1
    assert isinstance(out["distance"], float) and out["distance"] < 0.3


def test_compare_different_people_with_threshold(
    capsys: pytest.CaptureFixture[str], photos: dict[str, Path]
) -> None:
    status, out = call(
        capsys,
        "face",
        "compare",
        str(photos["astronaut"]),
        str(photos["grace"]),
        "--threshold",
        "0.4",
        "--json",
    )
    assert status == 0 and out["match"] is False and out["threshold"] == 0.4
    assert isinstance(out["distance"], float) and out["distance"] > 0.6


@pytest.mark.parametrize(
    ("probe", "code"),
    [("blank", "no_face"), ("pair", "multiple_faces"), ("junk", "unreadable_image")],
)
def test_compare_errors(
    capsys: pytest.CaptureFixture[str], photos: dict[str, Path], probe: str, code: str
) -> None:
    status, out = call(
        capsys, "face", "compare", str(photos["astronaut"]), str(photos[probe]), "--json"
    )
    assert status == 2
    assert out["error"]["code"] == code  # type: ignore[index]


def test_compare_missing_file(capsys: pytest.CaptureFixture[str], photos: dict[str, Path]) -> None:
    status, out = call(
        capsys, "face", "compare", "/nonexistent.jpg", str(photos["astronaut"]), "--json"
    )
    assert status == 2 and out["error"]["code"] == "unreadable_image"  # type: ignore[index]


def test_calibrate_small_dataset(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    astronaut: np.ndarray,
    grace_hopper: np.ndarray,
) -> None:
    rows = []
    for name, portrait in (("astronaut", astronaut), ("grace", grace_hopper)):
        for k, (gain, flip) in enumerate(((1.0, False), (0.8, True), (1.15, False))):
            img = np.clip(portrait.astype(np.float64) * gain, 0, 255).astype(np.uint8)
            img = img[:, ::-1] if flip else img
            (tmp_path / name).mkdir(exist_ok=True)
            cv2.imwrite(str(tmp_path / name / f"{k}.jpg"), np.ascontiguousarray(img[:, :, ::-1]))
            rows.append(f"{name}/{k}.jpg,{name}")
    cv2.imwrite(str(tmp_path / "empty.png"), np.full((200, 200, 3), 100, np.uint8))
    rows.append("empty.png,nobody")
    (tmp_path / "labels.csv").write_text("file,identity\n" + "\n".join(rows) + "\n")
    plot = tmp_path / "det.png"
    status, out = call(
        capsys,
        "face",
        "calibrate",
        "--dataset",
        str(tmp_path),
        "--plot",
        str(plot),
        "--jitters",
        "0",
        "--json",
    )
    assert status == 0, out
    assert out["images"] == 7 and out["genuine_pairs"] == 6 and out["impostor_pairs"] == 9
    assert out["unusable"] == [
        {"file": "empty.png", "reason": "no_face", "message": "no face found"}
    ]
    assert out["at_shipped_threshold"] == {
        "fmr": 0.0,
        "fnmr": 0.0,
        "false_matches": 0,
        "false_non_matches": 0,
    }
    thresholds = out["thresholds"]
    assert isinstance(thresholds, list) and {"threshold", "fmr", "fnmr"} == set(thresholds[0])
    assert plot.read_bytes()[:4] == b"\x89PNG"
    # Every key the command had before, and the method's additions.
    assert set(out) >= {
        "images",
        "usable_images",
        "identities",
        "unusable",
        "genuine_pairs",
        "impostor_pairs",
        "target_fmr",
        "shipped_threshold",
        "at_shipped_threshold",
        "recommended_threshold",
        "at_recommended_threshold",
        "held_out_identities",
        "distances",
        "thresholds",
        "settings",
        "plot",
        "ms",
        "method",
        "tail_model",
        "intervals",
        "recommended_candidates",
        "groups",
    }
    assert out["groups"] == {}  # no group column
    method = out["method"]
    assert isinstance(method, dict) and method["name"] == "impostor_lower_tail_fit"
    tail = out["tail_model"]
    assert isinstance(tail, dict)
    chosen = tail["chosen"]
    assert chosen["family"] in {"normal", "skew_normal", "weibull", "gev"}
    assert len(tail["fits"]) + len(tail["failed"]) == 4  # every family fitted or explained
    assert out["recommended_threshold"] <= tail["fitted_quantile"] or (
        tail["threshold_basis"] == "empirical"
    )
    held = out["held_out_identities"]
    assert isinstance(held, dict) and held["method"].startswith("k-fold over people")
    # Two people: without one of them no impostor pair is left to fit, so no fold.
    assert held["folds"] == 0 and held["per_identity"] == []
    for key in ("fmr", "fnmr"):
        for kind in ("clopper_pearson", "bootstrap_people"):
            lo, hi = held[f"{key}_{kind}"]
            assert 0.0 <= lo <= held[key] <= hi <= 1.0
    intervals = out["intervals"]
    assert isinstance(intervals, dict) and intervals["confidence"] == 0.95
    at = intervals["at_shipped_threshold"]
    assert at["fnmr_clopper_pearson"][0] == 0.0 and 0.0 < at["fnmr_clopper_pearson"][1] < 1.0
    assert out["settings"]["padding"] == CHIP_PADDING  # type: ignore[index]


def test_calibrate_bad_dataset(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out = call(capsys, "face", "calibrate", "--dataset", str(tmp_path / "nope"), "--json")
    assert status == 2 and out["error"]["code"] == "invalid_dataset"  # type: ignore[index]
    status, out = call(capsys, "face", "calibrate", "--dataset", str(tmp_path), "--json")
    assert status == 2 and out["error"]["code"] == "invalid_dataset"  # type: ignore[index]


def test_calibrate_refuses_a_folder_given_twice(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["face", "calibrate", "--dataset", str(tmp_path), "--dataset", str(tmp_path), "--json"]
    status, out = call(capsys, *argv)
    assert status == 2 and out["error"]["code"] == "invalid_dataset"  # type: ignore[index]
    assert "twice" in out["error"]["message"]  # type: ignore[index]
