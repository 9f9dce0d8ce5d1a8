"""Issue 20: the files issuing states publish (../shared/reference/field-pki, README
there), read as a reference verifier reads them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.trust import CscaStore, PassiveAuthenticator
from kiosk.trust.errors import MalformedInputError
from kiosk.trust.importer import import_file
from tests.ci import unavailable
from tests.conftest import SHARED

FIELD = SHARED / "reference" / "field-pki"
AT = datetime(2026, 12, 1, tzinfo=UTC)
pytestmark = pytest.mark.shared


@pytest.fixture
def field() -> Path:
    if not FIELD.is_dir():
        unavailable("../shared/reference/field-pki is absent")
    return FIELD


def _import(store: CscaStore, path: Path) -> dict[str, object]:
    report = import_file(store, path.read_bytes(), path.name, "test", at=AT,
                         bootstrap_anchor=True, log_bootstrap=False)  # fmt: skip
    return report.describe()


# The README's 412 for the Dutch list counts its signer certificate (in SignedData).
@pytest.mark.parametrize(("name", "count"), [("DE_ML_2024-12-19.ml", 551),
                                            ("NL_ML_2026-07-22.ml", 411)])  # fmt: skip
def test_every_certificate_of_a_published_list_is_accounted_for(
    field: Path, name: str, count: int
) -> None:
    store = CscaStore()
    report = _import(store, field / name)
    entries = report["entries"]
    assert isinstance(entries, list)
    assert len(entries) == count
    assert sorted(e["index"] for e in entries) == list(range(len(entries)))
    for entry in entries:
        assert entry["status"] == "imported" or entry["reason"], entry


def test_german_link_and_cross_certificates_are_kept(field: Path) -> None:
    """The ten the issue names (Belgian rename, Turkish same-name links, Luxembourg
    RSASSA-PSS links, Chinese, Italian, Portuguese, Cameroonian links) were dropped
    as "not a CSCA certificate"; they are intermediates now."""
    store = CscaStore()
    report = _import(store, field / "DE_ML_2024-12-19.ml")
    entries = {e["index"]: e for e in report["entries"]}  # type: ignore[attr-defined]
    named = {208: "BE", 209: "BE", 259: "CM", 260: "CN", 322: "IT", 355: "TR", 358: "TR",
             379: "PT", 475: "LU", 480: "LU"}  # fmt: skip
    for index, country in named.items():
        entry = entries[index]
        assert entry["status"] == "imported", entry
        assert entry["role"] in ("link", "cross"), entry
        assert entry["country"] == country
    assert {entries[i]["role"] for i in (355, 358)} == {"link"}  # same name, Turkey
    assert [s for s in store.certificates() if s.cert.sha256 == entries[475]["sha256"]]
    assert not [e for e in entries.values() if e["status"] == "skipped"]


def test_estonian_csca_and_crl(field: Path) -> None:
    store = CscaStore()
    _import(store, field / "EE_CSCA_2020.der")
    report = _import(store, field / "EE_CSCA.crl")
    [entry] = report["entries"]  # type: ignore[misc]
    assert entry["issuer_known"] is True


def test_unsigned_list_content_is_refused_with_a_reason(field: Path) -> None:
    with pytest.raises(MalformedInputError, match="unsigned CscaMasterList"):
        _import(CscaStore(), field / "DE_masterlist_content_2026-02.der")


def test_dutch_specimen_signature_and_hashes_pass(field: Path) -> None:
    folder = field / "NL_specimen_2006"
    files = {p.name if p.name in ("EF.SOD", "EF.COM") else p.stem: p.read_bytes()
             for p in folder.iterdir()}  # fmt: skip
    verdict = PassiveAuthenticator(CscaStore()).verify(files, AT).to_dict()
    checks = verdict["checks"]
    assert checks["sod_signature"]["status"] == "passed"
    assert checks["signed_attributes"]["status"] == "passed"
    assert checks["dg_hashes"]["status"] == "passed"
    assert {checks["dg_hashes"][f"DG{n}"] for n in (1, 2, 15)} == {"passed"}
    assert verdict["reason"] == "unknown_csca"  # the test CSCA is not published


@pytest.mark.parametrize("present", [(), (1,), (1, 15)])
def test_a_field_sod_alone_or_with_some_groups_reports_every_check(
    field: Path, tmp_path: Path, present: tuple[int, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 20 item 7: an integrator checks a field EF.SOD with whatever groups they
    have; signature and chain results are still given, the missing groups named, and
    the verdict stays invalid (never a pass on doubt)."""
    from tests.trust.test_cli import run_verify

    folder = field / "NL_specimen_2006"
    (tmp_path / "EF.SOD").write_bytes((folder / "EF.SOD").read_bytes())
    for n in present:
        (tmp_path / f"DG{n}.bin").write_bytes((folder / f"DG{n}.bin").read_bytes())
    status, out = run_verify(["--dir", str(tmp_path), "--no-store"], capsys)
    assert status == 1 and out["verdict"] == "invalid"
    checks = out["checks"]
    assert checks["sod_signature"]["status"] == "passed"
    assert checks["signed_attributes"]["status"] == "passed"
    assert checks["ds_certificate_chain"]["status"] == "failed"  # test CSCA unpublished
    for n in (1, 2, 15):
        assert checks["dg_hashes"][f"DG{n}"] == ("passed" if n in present else "missing")
    assert {f"missing_dg{n}" for n in (1, 2, 15) if n not in present} <= set(out["reasons"])
