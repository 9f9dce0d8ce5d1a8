"""Issue 20 item 1: every certificate of a master list is accounted for. Link and cross
certificates (the name kept or changed, RSASSA-PSS included, basicConstraints cA=FALSE
as several states issue them) are imported as intermediates with their role; what is
skipped says why."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from devices.simulated import pki
from kiosk.trust import CscaStore, PassiveAuthenticator
from kiosk.trust.importer import import_file
from tests.trust.conftest import NOW, files_of
from tests.trust.test_cli import config, run_main  # noqa: F401 - fixture

MakePki = Callable[..., pki.TestPki]


def _field_link(
    old: pki.TestPki, new_key: pki.PrivateKey, name: x509.Name, *, ca_false: bool
) -> x509.Certificate:
    """A link certificate as published: RSASSA-PSS, keyCertSign, and either no
    basicConstraints (Belgium) or basicConstraints cA=FALSE (Luxembourg, Turkey)."""
    public = new_key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(old.csca_cert.subject)
        .public_key(public)  # type: ignore[arg-type]
        .serial_number(0x77)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=3650))
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
    )
    if ca_false:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
    h = hashes.SHA256()
    return builder.sign(old.csca_key, h, rsa_padding=padding.PSS(padding.MGF1(h), 32))  # type: ignore[arg-type]


def _list(make_pki: MakePki) -> tuple[bytes, dict[str, object]]:
    state = make_pki("rsa2048", "MLA")
    key = pki.cached_key("rsa2048", "MLA/mls")
    signer = pki.make_master_list_signer(state.csca_cert, state.csca_key, key.public_key(), now=NOW)
    old = make_pki("rsa-pss", "LUX")
    new_key = pki.cached_key("rsa2048", "LUX/csca-2")
    new_root = pki.make_csca_certificate("LUX", new_key, now=NOW, serial=2,
                                         subject=old.csca_cert.subject)  # fmt: skip
    link = _field_link(old, new_key, old.csca_cert.subject, ca_false=False)
    renamed = pki.country_name("LUX", "CSCA renamed", 3)
    cross = _field_link(old, pki.cached_key("rsa2048", "LUX/csca-3"), renamed, ca_false=True)
    ds = old.ds_cert
    certs = [state.csca_cert, old.csca_cert, link, cross, ds, old.csca_cert]
    raw = pki.make_master_list(certs, signer, key, signing_time=NOW)
    return raw, {"old": old, "new_key": new_key, "new_root": new_root, "link": link}


def test_every_entry_is_imported_with_its_role_or_skipped_with_a_reason(
    make_pki: MakePki,
) -> None:
    raw, _ = _list(make_pki)
    store = CscaStore()
    report = import_file(store, raw, "l.ml", "test", at=NOW, bootstrap_anchor=True,
                         log_bootstrap=False)  # fmt: skip
    entries = sorted(report.entries, key=lambda e: e["index"])
    assert len(entries) == 6  # the SET OF's order is DER order; each one is there
    statuses = sorted((e["status"], e.get("role") or e["reason"][:18]) for e in entries)
    assert statuses == [
        ("imported", "anchor_candidate"),
        ("imported", "anchor_candidate"),
        ("imported", "cross"),
        ("imported", "link"),
        ("skipped", "duplicate of entry"),
        ("skipped", "not a CSCA, link o"),
    ]
    cross = next(e for e in entries if e.get("role") == "cross")
    assert "cA=FALSE" in cross["note"]
    assert report.master_list is not None
    assert report.master_list["roles"] == {
        "anchor_candidate": 2, "cross": 1, "link": 1, "skipped": 2
    }  # fmt: skip
    roles = sorted(s.role for s in store.certificates())
    assert roles == ["cross", "csca", "csca", "link"]


def test_a_document_under_the_new_key_chains_through_the_pss_link(make_pki: MakePki) -> None:
    """The list carries the old root and the RSASSA-PSS link without basicConstraints
    but not the new root: the document signed under the new key verifies through the
    link (before issue 20 the link was dropped as "not a CSCA certificate")."""
    raw, parts = _list(make_pki)
    store = CscaStore()
    import_file(store, raw, "l.ml", "test", at=NOW, bootstrap_anchor=True, log_bootstrap=False)
    new_key = parts["new_key"]
    new_root = parts["new_root"]
    ds_key = pki.cached_key("rsa2048", "LUX/ds-2")
    ds = pki.make_ds_certificate(new_root, new_key, ds_key.public_key(), now=NOW)  # type: ignore[arg-type]
    dgs = {1: b"\x61\x03abc", 2: b"\x75\x03xyz"}
    sod = pki.build_sod(dgs, ds, ds_key, signing_time=NOW)
    verdict = PassiveAuthenticator(store).verify(files_of(sod, dgs), NOW).to_dict()
    assert verdict["verdict"] == "valid", verdict


def test_import_json_and_list_per_country(
    make_pki: MakePki,
    tmp_path: Path,
    config: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    raw, _ = _list(make_pki)
    path = tmp_path / "l.ml"
    path.write_bytes(raw)
    status, out = run_main(
        ["trust", "import", str(path), "--config", str(config), "--json", "--bootstrap-anchor"],
        capsys,
    )
    assert status == 0, out
    entries = out["imported"][0]["entries"]
    assert len(entries) == 6
    assert all(e["status"] in ("imported", "skipped") for e in entries)
    assert all("reason" in e for e in entries if e["status"] == "skipped")
    status, listing = run_main(["trust", "list", "--config", str(config), "--json"], capsys)
    assert status == 0
    lux = listing["countries"]["LU"]
    assert (lux["anchors"], lux["links"], lux["cross"]) == (1, 1, 1)
    assert listing["countries"]["ML"]["anchors"] == 1
    crl = pki.make_crl(make_pki("rsa-pss", "LUX").csca_cert, make_pki("rsa-pss", "LUX").csca_key,
                       now=NOW)  # fmt: skip
    crl_path = tmp_path / "lux.crl"
    crl_path.write_bytes(crl.public_bytes(serialization.Encoding.DER))
    assert run_main(["trust", "import", str(crl_path), "--config", str(config), "--json"],
                    capsys)[0] == 0  # fmt: skip
    _, listing = run_main(["trust", "list", "--config", str(config), "--json"], capsys)
    [entry] = listing["countries"]["LU"]["crls"]
    assert entry["fresh"] is False  # NOW is in the past; its next update has passed
