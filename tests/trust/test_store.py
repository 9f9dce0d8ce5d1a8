"""CscaStore: classification, the reference-data table round trip, bad rows."""

from __future__ import annotations

from pathlib import Path

from devices.simulated import pki
from kiosk.store.database import open_local
from kiosk.store.reference import ReferenceStore
from kiosk.trust import CscaStore, PassiveAuthenticator
from kiosk.trust.certificates import parse_certificate
from kiosk.trust.store import classify
from tests.trust.conftest import NOW, document


def test_classification(rsa_pki: pki.TestPki) -> None:
    assert classify(parse_certificate(rsa_pki.csca_der())) == "csca"
    assert classify(parse_certificate(rsa_pki.ds_der())) == "document_signer"
    new_key = pki.cached_key("rsa2048", "UTO/csca-new")
    new_root = pki.make_csca_certificate(
        "UTO", new_key, now=NOW, serial=2, subject=rsa_pki.csca_cert.subject
    )
    link = pki.make_link_certificate(rsa_pki.csca_cert, rsa_pki.csca_key, new_root, now=NOW)
    der = link.public_bytes(pki.serialization.Encoding.DER)
    assert classify(parse_certificate(der)) == "link"


def test_duplicates_are_stored_once(rsa_pki: pki.TestPki) -> None:
    store = CscaStore.from_certificates([rsa_pki.csca_der(), rsa_pki.csca_pem()])
    assert len(store.anchors()) == 1
    store.add_crl(rsa_pki.crl(now=NOW), "a")
    store.add_crl(rsa_pki.crl(now=NOW), "b")
    assert len(store.crls()) == 1
    assert [e["kind"] for e in store.describe()] == ["csca", "crl"]


def test_reference_store_round_trip(tmp_path: Path, rsa_pki: pki.TestPki) -> None:
    reference = ReferenceStore(open_local(f"sqlite:///{tmp_path}/local.sqlite"))
    reference.put("csca_anchor", "a", rsa_pki.csca_der(), "imported by test")
    reference.put("crl", "b", rsa_pki.crl([rsa_pki.ds_cert.serial_number], now=NOW), "test crl")
    reference.put("csca", "junk", b"\x30\x00", "corrupted row")
    reference.put("masterlist", "junk", b"\x30\x00", "corrupted list")
    store = CscaStore.from_reference_store(reference)
    assert len(store.anchors()) == 1
    assert len(store.load_errors) == 2
    assert store.lookup(parse_certificate(rsa_pki.csca_der()).sha256) is not None
    result = PassiveAuthenticator(store).authenticate(document(rsa_pki), NOW)
    assert result.reason == "revoked"
    assert result.detail["csca"]["provenance"] == "imported by test"
    assert store.describe()[0]["anchor"] == "provisioned"
