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
