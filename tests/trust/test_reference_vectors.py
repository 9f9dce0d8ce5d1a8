"""Public passive-authentication vectors (BSI TR-03105-5, ETSI TR 103 200), read in
place from ../shared/reference/pa-vectors. Neither set ships its CSCA, so the
correct verdict is: SOD signature valid, hashes matching, chain to an unknown CSCA.
Neither ships the DG2 its EF.SOD lists either, so DG2 is missing (issue 10 item 1);
DG3 and DG4 (extended access control) may stay unread."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from devices.icao9303 import sod
from kiosk.trust import CscaStore, PassiveAuthenticator
from tests.conftest import SHARED

VECTORS = SHARED / "reference" / "pa-vectors"
pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not VECTORS.is_dir(), reason="../shared/reference/pa-vectors is absent"),
]
EXPECTED = {
    "bsi": ("HJP PB DS", [1, 2, 3, 4, 14], {"DG1", "DG14"}),
    "etsi": ("ETSI DS", [1, 2, 3, 4, 14, 15], {"DG1", "DG14", "DG15"}),
}


def _files(folder: Path) -> dict[str, bytes]:
    return {("EF.SOD" if p.name == "EF.SOD" else p.stem): p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reference_sod_parses(name: str) -> None:
    so = sod.parse_sod((VECTORS / name / "EF.SOD").read_bytes())
    _signer, groups, _ = EXPECTED[name]
    assert sorted(so.dg_hashes) == groups
    assert so.signature_algorithm == "rsassa_pss"
    assert so.digest_algorithm == "sha256"
    assert len(so.certificates) == 1


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reference_verdict(name: str) -> None:
    signer, groups, read = EXPECTED[name]
    verdict = (
        PassiveAuthenticator(CscaStore())
        .verify(_files(VECTORS / name), datetime(2026, 1, 1, tzinfo=UTC))
        .to_dict()
    )
    checks = verdict["checks"]
    assert checks["sod_signature"]["status"] == "passed"
    assert checks["sod_signature"]["algorithm"].startswith("rsassa-pss/sha256")
    assert checks["signed_attributes"]["status"] == "passed"
    assert checks["dg_hashes"]["status"] == "failed"
    for n in groups:
        expected = "passed" if f"DG{n}" in read else "not_read" if n in (3, 4) else "missing"
        assert checks["dg_hashes"][f"DG{n}"] == expected
    assert verdict["verdict"] == "invalid"
    assert verdict["reason"] == "missing_dg2"
    assert verdict["reasons"] == ["missing_dg2", "unknown_csca"]
    assert verdict["document_signer"]["subject"].startswith(f"CN={signer}")
    assert verdict["document_signer"]["country"] == "DE"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reference_tampered_dg1(name: str) -> None:
    files = _files(VECTORS / name)
    files["DG1"] = files["DG1"][:-1] + bytes([files["DG1"][-1] ^ 1])
    verdict = PassiveAuthenticator(CscaStore()).verify(files, datetime(2026, 1, 1, tzinfo=UTC))
    assert verdict.reason == "hash_mismatch_dg1"


def test_reference_signature_with_a_flipped_bit_fails() -> None:
    raw = bytearray((VECTORS / "bsi" / "EF.SOD").read_bytes())
    raw[-5] ^= 0x01  # inside the RSASSA-PSS signature, the last field of the SOD
    files = {**_files(VECTORS / "bsi"), "EF.SOD": bytes(raw)}
    verdict = PassiveAuthenticator(CscaStore()).verify(files, datetime(2026, 1, 1, tzinfo=UTC))
    assert verdict.reason == "bad_signature"
