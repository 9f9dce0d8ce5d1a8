"""Issue 20 item 6: verifying a document with 1,000 CSCAs in the store costs no more
signature checks than with 10 (look-up by name, the AKI-matching key first)."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from devices.simulated import pki
from kiosk.trust import CscaStore, PassiveAuthenticator, chain
from tests.trust.conftest import NOW, document


def _der(cert: Any) -> bytes:
    return bytes(cert.public_bytes(serialization.Encoding.DER))


def _others(count: int) -> list[bytes]:
    key = pki.cached_key("ecdsa-p256", "lookup/other")
    return [
        _der(pki.make_csca_certificate(
            "QQQ", key, now=NOW, serial=i + 1, subject=pki.country_name(f"Q{i:03d}", "CSCA", i)
        ))
        for i in range(count)
    ]  # fmt: skip


def _signature_checks(store: CscaStore, files: dict[str, bytes], monkeypatch: Any) -> list[bool]:
    """The outcome of every issuer signature the path builder tried, in order."""
    calls: list[bool] = []
    real = chain._signed_by

    def counting(issuer: Any, cert: Any) -> bool:
        calls.append(real(issuer, cert))
        return calls[-1]

    monkeypatch.setattr(chain, "_signed_by", counting)
    assert PassiveAuthenticator(store).verify(files, NOW).valid
    monkeypatch.setattr(chain, "_signed_by", real)
    return calls


def test_chain_cost_does_not_grow_with_the_store(
    rsa_pki: pki.TestPki, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = document(rsa_pki)
    others = _others(1000)
    # a second key generation under the same name: the AKI picks the right one first
    old_key = pki.cached_key("rsa2048", "lookup/old-generation")
    old = pki.make_csca_certificate("UTO", old_key, now=NOW, serial=9,
                                    subject=rsa_pki.csca_cert.subject)  # fmt: skip
    small = CscaStore.from_certificates([_der(old), rsa_pki.csca_der(), *others[:10]])
    large = CscaStore.from_certificates([_der(old), rsa_pki.csca_der(), *others])
    # Only the two same-name generations are tried, the one the AKI names first,
    # however many other CSCAs the store holds.
    assert _signature_checks(small, files, monkeypatch) == [True, False]
    assert _signature_checks(large, files, monkeypatch) == [True, False]


def test_a_stored_document_signer_is_found_by_index(
    rsa_pki: pki.TestPki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An EF.SOD without its DS certificate (the PKD's DS certificates serve): the
    stored one is found by issuer and serial, or by SKI, with one candidate compared,
    however many DS certificates the store holds (it compared every one)."""
    from kiosk.trust import passive

    key = pki.cached_key("ecdsa-p256", "lookup/other-ds")
    others = [
        _der(pki.make_ds_certificate(rsa_pki.csca_cert, rsa_pki.csca_key, key.public_key(),
                                     now=NOW, serial=0x5000 + i))
        for i in range(300)
    ]  # fmt: skip
    store = CscaStore.from_certificates([rsa_pki.csca_der(), *others, _der(rsa_pki.ds_cert)])
    compared: list[bytes] = []
    real = passive.certificate_matches

    def counting(der: bytes, info: Any) -> bool:
        compared.append(der)
        return real(der, info)

    monkeypatch.setattr(passive, "certificate_matches", counting)
    for form in ("issuer_serial", "ski"):
        compared.clear()
        files = document(rsa_pki, include_certificate=False, signer_identifier=form)
        result = PassiveAuthenticator(store).verify(files, NOW)
        assert result.valid, result.reasons
        assert result.document_signer is not None
        assert result.document_signer["source"] == "trust_store"
        assert compared == [_der(rsa_pki.ds_cert)], form
