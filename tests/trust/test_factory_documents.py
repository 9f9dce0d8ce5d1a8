"""Documents from `egate passport make` (the document factory), verified with
`egate passport verify`: each defect gives its reason code."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devices.simulated import pki
from kiosk.cli.main import main


def egate(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    try:
        status = main(argv)
    except SystemExit as exc:
        status = int(exc.code or 0)
    return status, json.loads(capsys.readouterr().out)


def make(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, *extra: str) -> Path:
    out = tmp_path / name
    status, _ = egate(["passport", "make", "--out", str(out), "--json", *extra], capsys)
    assert status == 0
    return out


def verify(
    doc: Path, capsys: pytest.CaptureFixture[str], *extra: str, trust: bool = True
) -> tuple[int, dict[str, Any]]:
    argv = ["passport", "verify", "--dir", str(doc), "--no-store", "--json", *extra]
    if trust:
        argv += ["--trust", str(doc / "csca.pem")]
    return egate(argv, capsys)


@pytest.mark.parametrize("algorithm", ["rsa2048", "rsa-pss", "ecdsa-brainpoolP256r1-explicit"])
def test_genuine_passport_is_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], algorithm: str
) -> None:
    doc = make(tmp_path, capsys, algorithm, "--algorithm", algorithm)
    status, verdict = verify(doc, capsys)
    assert (status, verdict["verdict"]) == (0, "valid"), verdict["reasons"]
    assert all(verdict["checks"]["dg_hashes"][f"DG{n}"] == "passed" for n in (1, 2, 14, 15))


@pytest.mark.parametrize(
    ("defect", "reason"),
    [
        ("tampered_dg1", "hash_mismatch_dg1"),
        ("tampered_dg2", "hash_mismatch_dg2"),
        ("wrong_sod_signature", "bad_signature"),
    ],
)
def test_factory_defects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], defect: str, reason: str
) -> None:
    doc = make(tmp_path, capsys, defect, "--defect", defect)
    status, verdict = verify(doc, capsys)
    assert (status, verdict["reason"]) == (1, reason)


def test_unknown_csca_without_trust(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = make(tmp_path, capsys, "plain")
    status, verdict = verify(doc, capsys, trust=False)
    assert (status, verdict["reason"]) == (1, "unknown_csca")
    assert any("csca.pem" in note for note in verdict["input"]["ignored"])


def test_expired_ds_certificate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = make(tmp_path, capsys, "plain")
    later = (datetime.now(UTC) + timedelta(days=365 * 3 + 2)).isoformat()
    status, verdict = verify(doc, capsys, "--at", later)
    assert (status, verdict["reason"]) == (1, "expired_ds_certificate")


def test_revoked_document_signer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = make(tmp_path, capsys, "plain")
    # The factory signs with this process's cached UTO keys, so this CSCA (same
    # name, same key) issues a CRL that the document's CSCA verifies.
    same = pki.make_test_pki("UTO")
    ds = pki.x509.load_pem_x509_certificate((doc / "document_signer.pem").read_bytes())
    crl = tmp_path / "uto.crl"
    crl.write_bytes(same.crl([ds.serial_number]))
    status, verdict = verify(doc, capsys, "--trust", str(crl))
    assert (status, verdict["reason"]) == (1, "revoked")
