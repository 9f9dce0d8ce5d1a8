"""`egate trust import|list` and `egate passport verify` end to end on a temporary
local database and directories of raw EF files."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from devices.simulated import pki
from kiosk.cli import passport_verify
from kiosk.cli.main import main
from tests.trust.conftest import DGS, NOW

MakePki = Callable[..., pki.TestPki]
AT = NOW.isoformat()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "egate.toml"
    path.write_text(f'[storage]\nlocal_url = "sqlite:///{tmp_path}/local.sqlite"\n')
    return path


def write_document(folder: Path, p: pki.TestPki, dgs: dict[int, bytes] = DGS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "EF.SOD").write_bytes(pki.build_sod(dgs, p.ds_cert, p.ds_key, signing_time=NOW))
    for n, content in dgs.items():
        (folder / f"DG{n}.bin").write_bytes(content)
    return folder


def run_verify(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    parser = argparse.ArgumentParser()
    passport_verify.register(parser.add_subparsers())
    args = parser.parse_args(["verify", *argv, "--json", "--at", AT])
    status = args.func(args)
    return status, json.loads(capsys.readouterr().out)


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    try:
        status = main(argv)
    except SystemExit as exc:  # CommandError with --json
        status = int(exc.code or 0)
    return status, json.loads(capsys.readouterr().out)


def test_verify_with_trust_file(
    tmp_path: Path, rsa_pki: pki.TestPki, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = write_document(tmp_path / "doc", rsa_pki)
    csca = tmp_path / "csca.pem"
    csca.write_bytes(rsa_pki.csca_pem())
    status, out = run_verify(
        ["--dir", str(doc), "--trust", str(csca), "--config", str(config)], capsys
    )
    assert status == 0
    assert out["verdict"] == "valid"
    assert out["input"]["files"] == {
        "DG1": "DG1.bin",
        "DG14": "DG14.bin",
        "DG2": "DG2.bin",
        "EF.SOD": "EF.SOD",
    }
    assert out["trust"]["anchors"] == 1


def test_csca_in_the_document_directory_is_not_trusted(
    tmp_path: Path, rsa_pki: pki.TestPki, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = write_document(tmp_path / "doc", rsa_pki)
    (doc / "CSCA.pem").write_bytes(rsa_pki.csca_pem())
    (doc / "uto-csca.der").write_bytes(rsa_pki.csca_der())
    status, out = run_verify(["--dir", str(doc), "--config", str(config)], capsys)
    assert status == 1
    assert out["reason"] == "unknown_csca"
    assert len(out["input"]["ignored"]) == 2


def test_verify_reports_each_defect(
    tmp_path: Path, make_pki: MakePki, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = make_pki("ecdsa-brainpoolP256r1")
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "csca.der").write_bytes(p.csca_der())
    doc = write_document(tmp_path / "doc", p)
    (doc / "DG1.bin").write_bytes(b"forged")
    _, out = run_verify(["--dir", str(doc), "--trust", str(trust), "--no-store"], capsys)
    assert out["reason"] == "hash_mismatch_dg1"
    doc2 = write_document(tmp_path / "doc2", p)
    (trust / "revoked.crl").write_bytes(p.crl([p.ds_cert.serial_number], now=NOW))
    status, out = run_verify(["--dir", str(doc2), "--trust", str(trust), "--no-store"], capsys)
    assert (status, out["reason"]) == (1, "revoked")


def test_import_then_verify_from_the_local_store(
    tmp_path: Path, make_pki: MakePki, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    member = make_pki("rsa-pss", "UTO")
    state = make_pki("rsa2048", "MLA")
    key = pki.cached_key("rsa2048", "MLA/mls")
    signer = pki.make_master_list_signer(state.csca_cert, state.csca_key, key.public_key())
    ml = tmp_path / "icao.ml"
    ml.write_bytes(pki.make_master_list([state.csca_cert, member.csca_cert], signer, key))
    status, out = run_main(
        ["trust", "import", str(ml), "--config", str(config), "--json", "--source", "test PKD",
         "--bootstrap-anchor"],
        capsys,
    )
    assert status == 0, out
    [report] = out["imported"]
    assert report["kind"] == "masterlist"
    assert report["master_list"]["signer"]["subject"].startswith("CN=MLS MLA")
    assert out["rows_added"] == 4  # the list, its two CSCAs, the signer's CSCA as anchor
    assert [a["subject"][:8] for a in out["bootstrap_anchors"]] == ["CN=CSCA "]

    status, listing = run_main(["trust", "list", "--config", str(config), "--json"], capsys)
    assert status == 0
    assert listing["counts"] == {"csca": 2}
    assert all("test PKD" in e["provenance"] for e in listing["entries"])
    assert listing["load_errors"] == []

    doc = write_document(tmp_path / "doc", member)
    status, out = run_verify(["--dir", str(doc), "--config", str(config)], capsys)
    assert (status, out["verdict"]) == (0, "valid")

    crl = tmp_path / "uto.crl"
    crl.write_bytes(member.crl([member.ds_cert.serial_number], now=NOW))
    status, out = run_main(["trust", "import", str(crl), "--config", str(config), "--json"], capsys)
    assert status == 0 and out["imported"][0]["entries"][0]["issuer_known"]
    status, out = run_verify(["--dir", str(doc), "--config", str(config)], capsys)
    assert (status, out["reason"]) == (1, "revoked")

    # a second import of the same files adds nothing (and needs no bootstrap now)
    status, out = run_main(["trust", "import", str(ml), "--config", str(config), "--json"], capsys)
    assert (status, out["rows_added"], out["bootstrap_anchors"]) == (0, 0, [])


def test_import_is_all_or_nothing(
    tmp_path: Path, rsa_pki: pki.TestPki, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "csca.pem"
    good.write_bytes(rsa_pki.csca_pem())
    bad = tmp_path / "junk.der"
    bad.write_bytes(b"\x30\x03\x02\x01\x00")
    status, out = run_main(
        ["trust", "import", str(good), str(bad), "--config", str(config), "--json",
         "--bootstrap-anchor"], capsys
    )
    assert status == 65
    assert out["error"]["code"] == "invalid_trust_file"
    _, listing = run_main(["trust", "list", "--config", str(config), "--json"], capsys)
    assert listing["entries"] == []


def test_import_rejects_a_forged_master_list(
    tmp_path: Path, make_pki: MakePki, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = make_pki("rsa2048", "MLA")
    key = pki.cached_key("rsa2048", "MLA/mls")
    signer = pki.make_master_list_signer(state.csca_cert, state.csca_key, key.public_key())
    wrong = pki.cached_key("rsa2048", "intruder")
    ml = tmp_path / "forged.ml"
    ml.write_bytes(pki.make_master_list([state.csca_cert], signer, wrong))
    status, out = run_main(["trust", "import", str(ml), "--config", str(config), "--json"], capsys)
    assert status == 65
    assert out["error"]["code"] == "bad_master_list_signature"
    status, out = run_main(
        ["trust", "import", str(ml), "--require-known-signer", "--config", str(config), "--json"],
        capsys,
    )
    assert status == 65


def test_import_document_signer_and_link_certificates(
    tmp_path: Path, rsa_pki: pki.TestPki, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "bundle.pem"
    new_key = pki.cached_key("rsa2048", "UTO/csca-new")
    new_root = pki.make_csca_certificate(
        "UTO", new_key, now=NOW, serial=2, subject=rsa_pki.csca_cert.subject
    )
    link = pki.make_link_certificate(rsa_pki.csca_cert, rsa_pki.csca_key, new_root, now=NOW)
    bundle.write_bytes(
        rsa_pki.csca_pem() + link.public_bytes(serialization.Encoding.PEM) + rsa_pki.ds_pem()
    )
    status, out = run_main(
        ["trust", "import", str(bundle), "--config", str(config), "--json", "--bootstrap-anchor"],
        capsys,
    )
    assert status == 0
    roles = [e["role"] for e in out["imported"][0]["entries"]]
    assert roles == ["csca", "link", "document_signer"]
    _, listing = run_main(["trust", "list", "--config", str(config), "--json"], capsys)
    assert listing["counts"] == {"csca": 1, "link": 1, "document_signer": 1}


def test_verify_usage_errors(
    tmp_path: Path, rsa_pki: pki.TestPki, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    passport_verify.register(parser.add_subparsers())
    empty = tmp_path / "empty"
    empty.mkdir()
    from kiosk.cli.common import CommandError

    for argv, code in (
        (["--dir", str(empty)], "missing_sod"),
        (["--dir", str(tmp_path / "nope")], "not_a_directory"),
        (["--dir", str(empty), "--at", "yesterday"], "invalid_time"),
    ):
        args = parser.parse_args(["verify", *argv, "--no-store"])
        with pytest.raises(CommandError) as err:
            args.func(args)
        assert err.value.code == code
    doc = write_document(tmp_path / "doc", rsa_pki)
    (doc / "EF_SOD.bin").write_bytes(b"dup")
    args = parser.parse_args(["verify", "--dir", str(doc), "--no-store"])
    with pytest.raises(CommandError) as err:
        args.func(args)
    assert err.value.code == "duplicate_file"


@pytest.mark.parametrize(
    ("name", "ef"),
    [
        ("EF.SOD", "EF.SOD"),
        ("sod.bin", "EF.SOD"),
        ("DG1.bin", "DG1"),
        ("EF.DG15", "DG15"),
        ("dg2", "DG2"),
        ("EF.COM", "EF.COM"),
        ("DG17.bin", None),
        ("photo.jpg", None),
    ],
)
def test_ef_names(name: str, ef: str | None) -> None:
    assert passport_verify.ef_name(name) == ef


def test_text_output(
    tmp_path: Path, rsa_pki: pki.TestPki, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = write_document(tmp_path / "doc", rsa_pki)
    parser = argparse.ArgumentParser()
    passport_verify.register(parser.add_subparsers())
    args = parser.parse_args(["verify", "--dir", str(doc), "--no-store", "--at", AT])
    assert args.func(args) == 1
    text = capsys.readouterr().out
    assert text.startswith("verdict: invalid (unknown_csca)")


def test_verify_takes_the_deviation_policy(
    tmp_path: Path, rsa_pki: pki.TestPki, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    passport_verify.register(parser.add_subparsers())
    doc = write_document(tmp_path / "doc", rsa_pki)
    assert parser.parse_args(["verify", "--dir", str(doc)]).deviation_policy == "refer"
    with pytest.raises(SystemExit):
        parser.parse_args(["verify", "--dir", str(doc), "--deviation-policy", "accept"])
    capsys.readouterr()
    csca = tmp_path / "csca.pem"
    csca.write_bytes(rsa_pki.csca_pem())
    status, out = run_verify(["--dir", str(doc), "--trust", str(csca), "--no-store",
                              "--deviation-policy", "accept_listed"], capsys)  # fmt: skip
    assert status == 0 and out["verdict"] == "valid"  # nothing listed: nothing changes
