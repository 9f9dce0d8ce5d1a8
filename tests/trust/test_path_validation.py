"""Issue 11 item 1, path validation: basicConstraints pathLenConstraint is enforced
(RFC 5280 6.1.4), and a CRL's issuingDistributionPoint scope is honoured or the CRL
rejected (RFC 5280 5.2.5)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devices.simulated import pki
from kiosk.trust.certificates import parse_crl
from kiosk.trust.errors import MalformedInputError
from tests.trust.conftest import DGS, NOW, files_of, verify

KEYS = {name: ec.generate_private_key(ec.SECP256R1()) for name in ("root", "sub", "ds")}
DER = serialization.Encoding.DER


def name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "UT"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not ca, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=ca, crl_sign=ca, encipher_only=False,
                         decipher_only=False)


def cert(subject: str, issuer: str, key: str, signer: str, *, ca: bool,
         path_len: int | None = None, serial: int = 1,
         crl_dp: str | None = None) -> x509.Certificate:
    b = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
         .public_key(KEYS[key].public_key()).serial_number(serial)
         .not_valid_before(NOW - timedelta(days=30)).not_valid_after(NOW + timedelta(days=900))
         .add_extension(usage(ca), critical=True))
    if ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=path_len), critical=True)
    if crl_dp is not None:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_dp)], None, None, None)
        b = b.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    return b.sign(KEYS[signer], hashes.SHA256())


def document(ds: x509.Certificate) -> dict[str, bytes]:
    return files_of(pki.build_sod(DGS, ds, KEYS["ds"], signing_time=NOW))  # type: ignore[arg-type]


def chain_verdict(root_len: int | None, sub_len: int | None = None) -> dict[str, Any]:
    root = cert("CSCA", "CSCA", "root", "root", ca=True, path_len=root_len)
    sub = cert("SUB CA", "CSCA", "sub", "root", ca=True, path_len=sub_len, serial=2)
    ds = cert("DS", "SUB CA", "ds", "sub", ca=False, serial=3)
    return verify(document(ds), [root.public_bytes(DER), sub.public_bytes(DER)])


def test_a_subordinate_ca_under_a_path_length_zero_csca_is_refused() -> None:
    verdict = chain_verdict(root_len=0)
    assert verdict["reason"] == "path_length_exceeded"
    assert "SUB CA" in verdict["checks"]["ds_certificate_chain"]["detail"]


@pytest.mark.parametrize(("root_len", "sub_len"), [(1, None), (1, 0), (None, None)])
def test_a_path_within_its_constraints_is_valid(root_len: int | None, sub_len: int | None
                                                ) -> None:
    verdict = chain_verdict(root_len, sub_len)
    assert verdict["verdict"] == "valid", verdict["reasons"]
    assert len(verdict["checks"]["ds_certificate_chain"]["path"]) == 3


def test_link_certificates_do_not_count_against_path_length(
    make_pki: Any,
) -> None:
    # The test PKI's CSCAs and links carry pathLenConstraint 0, as ICAO 9303-12 7.1.1
    # profiles them; a document under the new key verifies through the link.
    p = make_pki("rsa2048", "UTO")
    new_key = pki.generate_key("rsa2048")
    new_root = pki.make_csca_certificate("UTO", new_key, now=NOW, serial=2,
                                         subject=p.csca_cert.subject)
    link = pki.make_link_certificate(p.csca_cert, p.csca_key, new_root, now=NOW)
    ds_key = pki.generate_key("rsa2048")
    ds = pki.make_ds_certificate(new_root, new_key, ds_key.public_key(), now=NOW)
    files = files_of(pki.build_sod(DGS, ds, ds_key, signing_time=NOW))
    verdict = verify(files, [p.csca_der(), link.public_bytes(DER)])
    assert verdict["verdict"] == "valid", verdict["reasons"]
    assert len(verdict["checks"]["ds_certificate_chain"]["path"]) == 3


# --- issuingDistributionPoint ------------------------------------------------------


def idp(*, uri: str | None = None, only_user: bool = False, only_ca: bool = False,
        indirect: bool = False, reasons: bool = False) -> x509.IssuingDistributionPoint:
    return x509.IssuingDistributionPoint(
        full_name=[x509.UniformResourceIdentifier(uri)] if uri else None,
        relative_name=None, only_contains_user_certs=only_user,
        only_contains_ca_certs=only_ca,
        only_some_reasons=frozenset({x509.ReasonFlags.key_compromise}) if reasons else None,
        indirect_crl=indirect, only_contains_attribute_certs=False)


def crl(revoked: list[int], scope: x509.IssuingDistributionPoint | None, *, number: int = 1,
        hours_ago: int = 1) -> bytes:
    b = (x509.CertificateRevocationListBuilder().issuer_name(name("CSCA"))
         .last_update(NOW - timedelta(hours=hours_ago)).next_update(NOW + timedelta(days=30))
         .add_extension(x509.CRLNumber(number), critical=False))
    if scope is not None:
        b = b.add_extension(scope, critical=True)
    for serial in revoked:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial)
                                      .revocation_date(NOW - timedelta(days=2)).build())
    return b.sign(KEYS["root"], hashes.SHA256()).public_bytes(DER)


ROOT = cert("CSCA", "CSCA", "root", "root", ca=True, path_len=0)
DS = cert("DS", "CSCA", "ds", "root", ca=False, serial=0x1001, crl_dp="http://pki.ut/a.crl")


def crl_verdict(*crls: bytes) -> dict[str, Any]:
    return verify(document(DS), [ROOT.public_bytes(DER)], list(crls))


def test_a_newer_crl_of_another_partition_does_not_hide_a_revocation() -> None:
    # Partition A revokes the DS; partition B, issued later, does not list it. Before
    # the fix the newest CRL (B) was taken as complete and the DS passed.
    part_a = crl([0x1001], idp(uri="http://pki.ut/a.crl"), number=1, hours_ago=5)
    part_b = crl([], idp(uri="http://pki.ut/b.crl"), number=2, hours_ago=1)
    verdict = crl_verdict(part_a, part_b)
    assert verdict["reason"] == "revoked"
    statuses = {c["number"]: c["status"] for c in verdict["checks"]["crl"]["crls"]}
    assert statuses == {1: "current", 2: "out_of_scope"}


def test_a_ca_only_crl_says_nothing_about_a_document_signer() -> None:
    verdict = crl_verdict(crl([], idp(only_ca=True)))
    assert verdict["checks"]["crl"]["status"] == "not_available"
    assert verify(document(DS), [ROOT.public_bytes(DER)], [crl([], idp(only_ca=True))],
                  require_crl=True)["reason"] == "crl_missing"


def test_a_user_only_crl_covers_a_document_signer() -> None:
    verdict = crl_verdict(crl([0x1001], idp(only_user=True)))
    assert verdict["reason"] == "revoked"


@pytest.mark.parametrize(("scope", "message"), [
    (idp(indirect=True), "indirect CRLs"),
    (idp(reasons=True), "onlySomeReasons"),
])
def test_a_scope_the_kiosk_cannot_honour_rejects_the_crl(
    scope: x509.IssuingDistributionPoint, message: str
) -> None:
    with pytest.raises(MalformedInputError, match=message):
        parse_crl(crl([], scope))
