"""`egate passport make` (kiosk/cli/passport.py)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import types
from pathlib import Path

import pytest

from devices.icao9303.lds.dg1 import DataGroup1
from devices.simulated.virtual_passport import VirtualPassport
from kiosk.cli import passport as passport_cli
from kiosk.cli.common import CommandError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="egate")
    passport_cli.register(parser.add_subparsers(dest="command"))
    return parser


def _run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    status: int = args.func(args)
    return status


def test_make_json_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "doc"
    status = _run(
        [
            "passport", "make", "--out", str(out), "--surname", "Smith", "--given-names",
            "John Paul", "--document-number", "AB1234567", "--birth-date", "1980-05-17",
            "--sex", "M", "--expiry-date", "2032-01-31", "--nationality", "GBR",
            "--issuing-state", "GBR", "--defect", "no_aa", "--json",
        ]
    )  # fmt: skip
    assert status == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["directory"] == str(out.resolve())
    assert manifest["defects"] == ["no_aa"]
    assert manifest["mrz_key"] == {
        "document_number": "AB1234567", "birth_date": "800517", "expiry_date": "320131",
    }  # fmt: skip
    assert manifest["mrz"][0].startswith("P<GBRSMITH<<JOHN<PAUL<")
    assert manifest["csca"] == "csca.pem" and (out / "csca.pem").is_file()
    assert "DG15" not in manifest["files"]
    mrz = DataGroup1.parse((out / "DG1.bin").read_bytes()).mrz
    assert (mrz.surname, mrz.sex, mrz.nationality) == ("SMITH", "M", "GBR")
    assert VirtualPassport.load(out).document_number == "AB1234567"


def test_make_with_defaults_and_face(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    face = tmp_path / "face.png"
    Image.new("RGB", (90, 120), (180, 150, 130)).save(face)
    assert _run(["passport", "make", "--out", str(tmp_path / "d"), "--face", str(face)]) == 0
    text = capsys.readouterr().out
    assert "virtual passport written" in text and "defects: none" in text
    loaded = VirtualPassport.load(tmp_path / "d")
    assert loaded.pace and loaded.ca_private_key and loaded.aa_private_key


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        (["--defect", "forged"], "unknown_defect"),
        (["--birth-date", "1990-02-30"], "invalid_date"),
        (["--surname", "王"], "invalid_document"),
        (["--can", "12ab56"], "invalid_can"),
        (["--face", "/nonexistent/face.jpg"], "face_unreadable"),
    ],
)
def test_make_errors_are_typed(tmp_path: Path, extra: list[str], code: str) -> None:
    with pytest.raises(CommandError) as info:
        _run(["passport", "make", "--out", str(tmp_path / "x"), *extra])
    assert info.value.code == code


def test_errors_as_json_through_main(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kiosk.cli.main import main

    with pytest.raises(SystemExit) as info:
        main(["passport", "make", "--out", str(tmp_path), "--defect", "forged", "--json"])
    assert info.value.code == 2
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "unknown_defect"


def test_group_picks_up_read_and_verify_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: list[str] = []
    for name in passport_cli.SUBCOMMAND_MODULES:
        module = types.ModuleType(name)
        leaf = name.rsplit("_", 1)[1]

        def register(gsub: argparse._SubParsersAction, leaf: str = leaf) -> None:  # type: ignore[type-arg]
            registered.append(leaf)
            gsub.add_parser(leaf)

        module.register = register  # type: ignore[attr-defined]
        module.__spec__ = types.SimpleNamespace(name=name)  # type: ignore[assignment]
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    args = _parser().parse_args(["passport", "verify"])
    assert registered == ["read", "verify"] and args.passport_command == "verify"
