"""`egate passport read --emulate` and `egate chip serve` argument handling, offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devices.simulated.virtual_passport import VirtualPassport
from kiosk.cli.main import main


@pytest.fixture()
def passport_dir(tmp_path: Path, pace_passport: VirtualPassport) -> Path:
    directory = tmp_path / "pp"
    pace_passport.save(directory)
    return directory


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    try:
        status = main(argv)
    except SystemExit as exc:
        status = int(exc.code or 0)
    return status, json.loads(capsys.readouterr().out)


def test_read_emulated_passport_with_mrz_fields(
    passport_dir: Path,
    pace_passport: VirtualPassport,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = pace_passport.mrz_key()
    out = tmp_path / "read"
    status, report = run_json(
        ["passport", "read", "--emulate", str(passport_dir),
         "--document-number", key.document_number, "--birth-date", key.birth_date,
         "--expiry-date", key.expiry_date, "--out", str(out), "--json"],
        capsys,
    )  # fmt: skip
    assert status == 0
    assert report["access"] == "PACE"
    assert report["chip_authentication"] == "passed"
    assert report["active_authentication"] == "passed"
    dg1 = report["dg1"]
    assert isinstance(dg1, dict) and dg1["document_number"] == key.document_number
    assert set(dg1) >= {"surname", "given_names", "nationality", "sex", "optional_data"}
    assert report["data_groups"] == [1, 2, 11, 12, 14, 15]
    assert isinstance(report["apdu_count"], int) and report["apdu_count"] > 10
    assert (out / "DG1.bin").read_bytes() == pace_passport.files["DG1"]
    assert (out / "EF.SOD").read_bytes() == pace_passport.files["EF.SOD"]
    assert Path(str(report["face_image"])).exists()


def test_read_with_mrz_lines_and_can(
    passport_dir: Path, pace_passport: VirtualPassport, capsys: pytest.CaptureFixture[str]
) -> None:
    status, report = run_json(
        ["passport", "read", "--emulate", str(passport_dir), "--mrz", *pace_passport.mrz, "--json"],
        capsys,
    )
    assert status == 0 and report["face_image"] is None
    status, report = run_json(
        ["passport", "read", "--emulate", str(passport_dir), "--can", pace_passport.can, "--json"],
        capsys,
    )
    assert status == 0 and report["access"] == "PACE"


@pytest.mark.parametrize(
    ("args", "code", "status"),
    [
        (["--can", "000000"], "access_denied", 4),
        (["--document-number", "X1"], "invalid_key", 2),
        (["--mrz", "P<UTO", "garbage"], "invalid_mrz", 2),
    ],
)
def test_read_errors_are_json(
    passport_dir: Path,
    args: list[str],
    code: str,
    status: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    got, report = run_json(
        ["passport", "read", "--emulate", str(passport_dir), *args, "--json"], capsys
    )
    assert got == status
    error = report["error"]
    assert isinstance(error, dict) and error["code"] == code


def test_serve_errors_are_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    got, report = run_json(["chip", "serve", "--dir", str(tmp_path / "none"), "--json"], capsys)
    assert got == 66 and report["error"] == {
        "code": "not_found",
        "message": f"{tmp_path / 'none'}: no such directory",
    }
    got, report = run_json(["chip", "serve", "--dir", str(tmp_path), "--json"], capsys)
    assert got == 65
    error = report["error"]
    assert isinstance(error, dict) and error["code"] == "invalid_passport"


def test_faults_shape_the_emulated_chip(
    passport_dir: Path, pace_passport: VirtualPassport, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["passport", "read", "--emulate", str(passport_dir), "--can", pace_passport.can]
    status, report = run_json([*base, "--fault", "refuse_extended_length", "--json"], capsys)
    assert status == 0
    notes = report["notes"]
    assert isinstance(notes, list) and any("refused extended length" in n for n in notes)
    status, report = run_json([*base, "--max-read", "1000", "--json"], capsys)
    assert status == 0
    status, report = run_json([*base, "--fault", "remove_after=5", "--json"], capsys)
    assert status == 3 and report["error"]["code"] == "card_removed"  # type: ignore[index]
    for bad in ("bogus", "drop_do99=3", "short_read", "short_read=0"):
        status, report = run_json([*base, "--fault", bad, "--json"], capsys)
        assert status == 2 and report["error"]["code"] == "invalid_fault"  # type: ignore[index]


@pytest.mark.parametrize("mapping", ["IM", "CAM"])
def test_make_a_pace_only_im_or_cam_chip_and_read_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mapping: str
) -> None:
    made = tmp_path / "pp"
    status, manifest = run_json(
        ["passport", "make", "--out", str(made), "--pace-mapping", mapping, "--no-bac",
         "--json"],
        capsys,
    )  # fmt: skip
    assert status == 0
    assert manifest["access"] == {
        "pace": True,
        "bac": False,
        "pace_parameter_id": 12,
        "pace_mapping": mapping,
        "extended_length": True,
    }
    mrz = manifest["mrz"]
    assert isinstance(mrz, list)
    status, report = run_json(
        ["passport", "read", "--emulate", str(made), "--mrz", *mrz, "--json",
         "--fault", "non_minimal_sm_lengths"],
        capsys,
    )  # fmt: skip
    assert status == 0, report
    assert report["access"] == "PACE"
    assert report["chip_authentication"] == "passed"
    assert f"PACE-{mapping}" in report["notes"]  # type: ignore[operator]
