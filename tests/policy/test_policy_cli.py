"""`egate policy evaluate|packs` on the documented examples (docs/policy.md)."""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from kiosk.cli import policy_cmd
from kiosk.cli.common import CommandError
from policy.shipped import shipped_pack_texts

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "docs" / "examples" / "policy"

# What each documented example must decide with the shipped packs.
EXPECTED = {
    "entry-transit-240h-admit.json": ("admit", "transit_240h", []),
    "entry-a-china-a-refer.json": (
        "refer", None, ["no_entry_basis", "transit_not_third_country", "onward_not_verified"]
    ),
    "entry-hkg-region-admit.json": ("admit", "transit_240h", []),
    "entry-72h-exceeds-refer.json": ("refer", None, ["no_entry_basis", "transit_exceeds_limit"]),
    "entry-citizen-admit.json": ("admit", "citizen", []),
    "entry-visa-admit.json": ("admit", "visa", []),
    "exit-overstay-refer.json": ("refer", None, ["overstay"]),
    "entry-visa-exemption-example.json": ("refer", None, ["no_entry_basis", "no_onward_journey"]),
}


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="egate")
    policy_cmd.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


def test_every_example_is_listed() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_documented_example(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["policy", "evaluate", str(EXAMPLES / name), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    decision, basis, reasons = EXPECTED[name]
    assert (out["decision"], out["basis"], out["reasons"]) == (decision, basis, reasons)
    assert set(out) >= {"decision", "basis", "reasons", "permitted_until", "pack", "trace"}
    assert out["case_id"] == name.removesuffix(".json")


def test_example_with_its_own_pack(capsys: pytest.CaptureFixture[str]) -> None:
    case = EXAMPLES / "entry-visa-exemption-example.json"
    pack = EXAMPLES / "packs" / "example-visa-exemption.toml"
    assert run(["policy", "evaluate", str(case), "--pack", str(pack), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["decision"] == "admit"
    assert out["basis"] == "visa_exemption"
    assert out["permitted_until"] == "2030-04-01T00:00:00+08:00"
    assert out["pack"] == {"id": "example-visa-exemption", "version": "0.1"}


def test_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    run(["policy", "evaluate", str(EXAMPLES / "exit-overstay-refer.json")])
    out = capsys.readouterr().out
    assert out.startswith("REFER: overstay\n")
    assert "The permitted stay ended at 2026-03-12 00:00" in out


def test_packs_listing_has_dates_and_checksums(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["policy", "packs", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    texts = shipped_pack_texts()
    listed = {p["id"]: p for p in out["packs"]}
    assert set(listed) == {"cn-hunan-transit-72h", "cn-hunan-transit-240h"}
    assert listed["cn-hunan-transit-72h"]["effective_from"] == "2016-01-01"
    assert listed["cn-hunan-transit-72h"]["effective_until"] == "2024-12-16"
    assert listed["cn-hunan-transit-240h"]["effective_from"] == "2024-12-17"
    assert listed["cn-hunan-transit-240h"]["effective_until"] is None
    for name, raw in texts.items():
        pack_id = name.removesuffix(".toml")
        assert listed[pack_id]["sha256"] == hashlib.sha256(raw).hexdigest()
    assert out["rejected"] == []


def test_packs_with_config_pack_dir_reports_rejections(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    packs = tmp_path / "packs"
    packs.mkdir()
    (packs / "bad.toml").write_text("schema = 2\n")
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[policy]\npack_dir = "{packs}"\n')
    assert run(["policy", "packs", "--config", str(config), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["packs"]) == 2
    assert len(out["rejected"]) == 1 and "schema" in out["rejected"][0]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("{not json", "invalid_case"),
        ('{"now": "2026-03-01T10:30:00+08:00"}', "invalid_case"),
        (
            json.dumps(
                {
                    "now": "2015-06-01T10:00:00+08:00",
                    "port": "CSX",
                    "direction": "entry",
                    "checks": {},
                    "document": {
                        "document_code": "P",
                        "issuing_state": "USA",
                        "nationality": "USA",
                        "document_number": "X1",
                    },
                }
            ),
            "no_pack_in_force",
        ),
    ],
)
def test_errors_are_typed(tmp_path: Path, content: str, code: str) -> None:
    case = tmp_path / "case.json"
    case.write_text(content)
    with pytest.raises(CommandError) as info:
        run(["policy", "evaluate", str(case), "--json"])
    assert info.value.code == code
    assert info.value.status != 0


def test_bad_pack_file_is_an_error(tmp_path: Path) -> None:
    pack = tmp_path / "p.toml"
    pack.write_text("schema = 1\n")
    with pytest.raises(CommandError) as info:
        run(["policy", "evaluate", str(EXAMPLES / "entry-citizen-admit.json"), "--pack", str(pack)])
    assert info.value.code == "invalid_pack"
    assert "pack: is required" in info.value.message
    with pytest.raises(CommandError) as info:
        run(["policy", "evaluate", str(tmp_path / "missing.json")])
    assert info.value.code == "cannot_read"


def test_registered_in_the_console_script() -> None:
    from kiosk.cli.main import COMMAND_MODULES

    assert "kiosk.cli.policy_cmd" in COMMAND_MODULES


BCBP_TEXT = "M1DESMARAIS/LUC       EABC123 CSXICNKE 0834 064F001A0025 100"


def test_boarding_pass_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run(["policy", "boarding-pass", "--text", BCBP_TEXT, "--date", "2026-03-01", "--json"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["legs"][0] == {
        "flight": "KE834",
        "from": "CSX",
        "to": "ICN",
        "date": "2026-03-05",
        "seat": "001A",
        "seat_assigned": True,
        "pnr": "ABC123",
    }
    onward = out["onward"]["onward"]
    assert (onward["destination"], onward["departure_time"]) == ("KOR", "2026-03-05T23:59:00+08:00")


def test_boarding_pass_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import cv2
    import numpy as np
    import zxingcpp

    image = np.asarray(
        zxingcpp.create_barcode(BCBP_TEXT, zxingcpp.BarcodeFormat.PDF417).to_image(scale=3)
    )
    path = tmp_path / "pass.png"
    cv2.imwrite(
        str(path), cv2.copyMakeBorder(image, 30, 30, 30, 30, cv2.BORDER_CONSTANT, value=255)
    )
    assert run(["policy", "boarding-pass", "--image", str(path), "--date", "2026-03-01"]) == 0
    out = capsys.readouterr().out
    assert "KE834 CSX->ICN 2026-03-05 seat 001A" in out
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((100, 100), 255, dtype=np.uint8))
    with pytest.raises(CommandError) as info:
        run(["policy", "boarding-pass", "--image", str(blank)])
    assert info.value.code == "no_barcode"


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["--text", "M1SHORT"], "invalid_boarding_pass"),
        (["--text", BCBP_TEXT, "--date", "2026-13-01"], "invalid_date"),
        (["--image", "/nonexistent.png"], "cannot_read"),
    ],
)
def test_boarding_pass_errors(argv: list[str], code: str) -> None:
    with pytest.raises(CommandError) as info:
        run(["policy", "boarding-pass", *argv])
    assert info.value.code == code


# Issue 24 item 3: a case that breaks the schema is refused naming the file, the key
# path and the problem.
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"checks": {"iris": True}}, r"case\.checks\.iris: unknown key"),
        ({"checks": {"face_match": "yes"}},
         r"case\.checks\.face_match: expected `bool \| null`, got 'yes'"),
        ({"reference_data": {"age_hours": -1}},
         r"case\.reference_data\.age_hours: expected `float` >= 0\.0, got -1"),
        ({"direction": "in"}, r"case\.direction: 'in' is not one of 'entry', 'exit'"),
    ],
)  # fmt: skip
def test_schema_errors_name_the_file_and_key(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    case = tmp_path / "traveller.json"
    good = json.loads((EXAMPLES / "entry-transit-240h-admit.json").read_text())
    case.write_text(json.dumps({**good, **change}))
    with pytest.raises(CommandError) as info:
        run(["policy", "evaluate", str(case), "--json"])
    assert info.value.code == "invalid_case"
    assert str(info.value).startswith(f"{case}: "), str(info.value)
    assert re.search(message, str(info.value)), str(info.value)
