"""Issue 20 item 4 (import half): ICAO deviation lists are decoded and imported only
when their signature verifies and their signer chains to a trusted CSCA."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devices.simulated import pki
from kiosk.trust import CscaStore
from kiosk.trust.deviation_list import (
    ID_ICAO_DEVIATION_LIST,
    DeviationListError,
    _DeviationListAsn1,
)
from kiosk.trust.importer import detect_kind, import_file
from tests.ci import unavailable
from tests.conftest import SHARED
from tests.trust.conftest import NOW
from tests.trust.test_cli import config, run_main  # noqa: F401 - fixture

FIELD = SHARED / "reference" / "field-pki"
MakePki = Callable[..., pki.TestPki]


def _content(numbers: list[str]) -> bytes:
    return bytes(
        _DeviationListAsn1(
            {
                "version": 0,
                "deviations": [
                    {
                        "documents": {"document_numbers": numbers},
                        "descriptions": [{"deviation_type": "2.23.136.1.1.7.2.3"}],
                    }
                ],
            }
        ).dump()
    )


def _signed(p: pki.TestPki, signer: object, key: pki.PrivateKey, numbers: list[str]) -> bytes:
    return pki.build_signed_data(
        ID_ICAO_DEVIATION_LIST, _content(numbers), signer, key, signing_time=NOW  # type: ignore[arg-type]
    )


def test_a_list_signed_without_the_deviation_list_purpose_is_refused(
    make_pki: MakePki,
) -> None:
    p = make_pki("rsa2048", "UTO")
    key = pki.cached_key("rsa2048", "UTO/mls")
    signer = pki.make_master_list_signer(p.csca_cert, p.csca_key, key.public_key(), now=NOW)
    raw = _signed(p, signer, key, ["X1234567"])
    assert detect_kind(raw) == "deviationlist"
    store = CscaStore.from_certificates([p.csca_der()])
    with pytest.raises(DeviationListError) as err:
        import_file(store, raw, "dl.bin", "test", at=NOW)
    assert err.value.code == "bad_key_usage"  # a master list signer's key, not a DL's
    assert store.deviation_lists == []


def test_a_forged_list_is_refused(make_pki: MakePki) -> None:
    p = make_pki("rsa2048", "UTO")
    key = pki.cached_key("rsa2048", "UTO/mls")
    signer = pki.make_master_list_signer(p.csca_cert, p.csca_key, key.public_key(), now=NOW)
    raw = _signed(p, signer, pki.cached_key("rsa2048", "intruder"), ["X1"])
    with pytest.raises(DeviationListError) as err:
        import_file(CscaStore.from_certificates([p.csca_der()]), raw, "dl", "t", at=NOW)
    assert err.value.code == "bad_deviation_list_signature"


@pytest.fixture
def field() -> Path:
    if not FIELD.is_dir():
        unavailable("../shared/reference/field-pki is absent")
    return FIELD


@pytest.mark.shared
def test_the_estonian_list_needs_its_csca(field: Path) -> None:
    raw = (field / "deviation_list.bin").read_bytes()
    at = datetime(2026, 12, 1, tzinfo=UTC)
    with pytest.raises(DeviationListError) as err:  # EE_CSCA_2020 did not sign it
        store = CscaStore.from_certificates([(field / "EE_CSCA_2020.der").read_bytes()])
        import_file(store, raw, "dl", "t", at=at)
    assert err.value.code == "unknown_deviation_list_signer"


@pytest.mark.shared
def test_the_estonian_list_imports_through_the_german_master_list(
    field: Path,
    tmp_path: Path,
    config: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Signed by the EE Deviation List Signer 2018 under CSCA Estonia 01-2016, which
    the German master list vouches for; the signer has expired since, but was valid
    when it signed (2018-06-26)."""
    ml, dl = field / "DE_ML_2024-12-19.ml", field / "deviation_list.bin"
    status, out = run_main(
        ["trust", "import", str(ml), "--config", str(config), "--json", "--bootstrap-anchor"],
        capsys,
    )
    assert status == 0, out
    status, out = run_main(["trust", "import", str(dl), "--config", str(config), "--json"], capsys)
    assert status == 0, out
    report = out["imported"][0]["deviation_list"]
    assert report["country"] == "EE"
    assert report["signing_time"].startswith("2018-06-26")
    [deviation] = report["deviations"]
    assert deviation["types"] == ["LDS-SODSignatureWrong"]
    assert deviation["documents"] == 169422
    status, listing = run_main(["trust", "list", "--config", str(config), "--json"], capsys)
    assert [d["country"] for d in listing["deviation_lists"]] == ["EE"]
    assert listing["load_errors"] == []


def _dl_signer(p: pki.TestPki) -> tuple[object, pki.PrivateKey]:
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ObjectIdentifier

    key = pki.cached_key("rsa2048", "UTO/dls")
    cert = (
        x509.CertificateBuilder()
        .subject_name(pki.country_name("UTO", "DLS"))
        .issuer_name(p.csca_cert.subject)
        .public_key(key.public_key())  # type: ignore[arg-type]
        .serial_number(0x5151)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=365))
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), True
        )
        .add_extension(x509.ExtendedKeyUsage([ObjectIdentifier("2.23.136.1.1.8")]), False)
        .sign(p.csca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return cert, key


def _document(p: pki.TestPki, number: str, *, forged: bool) -> dict[str, bytes]:
    from datetime import date

    from devices.icao9303.lds.dg1 import DataGroup1
    from devices.icao9303.mrz import Mrz

    mrz = Mrz.create(issuing_state="UTO", surname="ERIKSSON", given_names="ANNA",
                     document_number=number, nationality="UTO", birth_date=date(1974, 8, 12),
                     sex="F", expiry_date=date(2031, 4, 15))  # fmt: skip
    dgs = {1: DataGroup1.build(mrz).encode(), 2: b"\x75\x03xyz"}
    key = pki.cached_key("rsa2048", "intruder") if forged else p.ds_key
    sod = pki.build_sod(dgs, p.ds_cert, key, signing_time=NOW)  # type: ignore[arg-type]
    return {"EF.SOD": sod, **{f"DG{n}": b for n, b in dgs.items()}}


def test_a_listed_document_is_referred_with_the_deviation_named(make_pki: MakePki) -> None:
    """LDS-SODSignatureWrong for document L1234567: its bad signature stays a failure
    (the gate never opens on it) but the verdict names the deviation; a document not
    on the list gets no such note."""
    from kiosk.trust import PassiveAuthenticator

    p = make_pki("rsa2048", "UTO")
    signer, key = _dl_signer(p)
    store = CscaStore.from_certificates([p.csca_der()])
    import_file(store, _signed(p, signer, key, ["L1234567", "L7654321"]), "dl", "t", at=NOW)
    listed = PassiveAuthenticator(store).verify(_document(p, "L1234567", forged=True), NOW)
    out = listed.to_dict()
    assert out["verdict"] == "invalid" and out["reason"] == "bad_signature"
    assert out["deviation"]["types"] == ["LDS-SODSignatureWrong"]
    assert out["deviation"]["explains"] == ["bad_signature"]
    assert out["deviation"]["action"] == "refer"
    assert any("deviation list" in n for n in out["notes"])
    other = PassiveAuthenticator(store).verify(_document(p, "X9999999", forged=True), NOW)
    assert "deviation" not in other.to_dict()
    fine = PassiveAuthenticator(store).verify(_document(p, "L1234567", forged=False), NOW)
    assert fine.valid and "deviation" not in fine.to_dict()
