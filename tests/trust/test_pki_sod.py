"""The test PKI's certificate profiles (ICAO 9303-12 7.1) and EF.SOD build/parse."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from asn1crypto import keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtensionOID, NameOID

from devices.icao9303 import sod
from devices.simulated import pki
from tests.trust.conftest import DGS, NOW

MakePki = Callable[..., pki.TestPki]


def test_csca_profile(rsa_pki: pki.TestPki) -> None:
    csca = rsa_pki.csca_cert
    assert csca.subject == csca.issuer
    bc = csca.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS)
    assert bc.critical and bc.value.ca
    ku = csca.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
    assert not ku.value.digital_signature
    assert csca.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "UT"
    csca.verify_directly_issued_by(csca)


def test_document_signer_profile(rsa_pki: pki.TestPki) -> None:
    ds = rsa_pki.ds_cert
    ku = ds.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
    aki = ds.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = rsa_pki.csca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert ds.issuer == rsa_pki.csca_cert.subject
    ds.verify_directly_issued_by(rsa_pki.csca_cert)
    delta = ds.not_valid_after_utc - ds.not_valid_before_utc
    assert delta.days == 365 * 3


def test_rsa_pss_pki_signs_certificates_with_pss(make_pki: MakePki) -> None:
    p = make_pki("rsa-pss")
    assert p.ds_cert.signature_algorithm_oid.dotted_string == "1.2.840.113549.1.1.10"
    assert p.signature == "rsa-pss"
    so = sod.parse_sod(pki.build_sod(DGS, p.ds_cert, p.ds_key))
    assert so.signature_algorithm == "rsassa_pss"


def test_brainpool_named_and_explicit(make_pki: MakePki) -> None:
    named = make_pki("ecdsa-brainpoolP256r1")
    spki = keys.PublicKeyInfo.load(
        named.ds_cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    assert spki["algorithm"]["parameters"].chosen.native == "brainpoolp256r1"
    explicit = make_pki("ecdsa-brainpoolP256r1-explicit")
    cert = asn1_x509.Certificate.load(explicit.ds_der())
    params = cert["tbs_certificate"]["subject_public_key_info"]["algorithm"]["parameters"]
    assert params.name == "specified"
    # still issued by the CSCA after re-encoding
    explicit.ds_cert.verify_directly_issued_by(explicit.csca_cert)


def test_key_cache_and_fresh_keys() -> None:
    a = pki.make_test_pki("UTO", now=NOW)
    b = pki.make_test_pki("UTO", now=NOW)
    c = pki.make_test_pki("UTO", now=NOW, cache_keys=False)
    assert a.csca_key.public_key() == b.csca_key.public_key()
    assert a.csca_key.public_key() != c.csca_key.public_key()


def test_bad_pki_requests() -> None:
    with pytest.raises(pki.PkiError):
        pki.make_test_pki(algorithm="dsa")
    with pytest.raises(pki.PkiError):
        pki.make_test_pki("U1")
    with pytest.raises(pki.PkiError):
        pki.certificate_hash("sha1")


def test_crl_contents(rsa_pki: pki.TestPki) -> None:
    crl = x509.load_der_x509_crl(rsa_pki.crl([5, 7], now=NOW, number=9))
    assert crl.is_signature_valid(rsa_pki.csca_cert.public_key())  # type: ignore[arg-type]
    assert {r.serial_number for r in crl} == {5, 7}
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 9
    assert crl.next_update_utc is not None and crl.next_update_utc > NOW


def test_master_list_signer_profile(rsa_pki: pki.TestPki) -> None:
    key = pki.cached_key("rsa2048", "mls")
    signer = pki.make_master_list_signer(rsa_pki.csca_cert, rsa_pki.csca_key, key.public_key())
    eku = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert [o.dotted_string for o in eku] == [pki.ID_ICAO_CSCA_MASTER_LIST_SIGNING_KEY]


@pytest.mark.parametrize("algorithm", pki.ALGORITHMS)
def test_sod_round_trip(make_pki: MakePki, algorithm: str) -> None:
    p = make_pki(algorithm)
    raw = pki.build_sod(DGS, p.ds_cert, p.ds_key, lds_version=(1, 8), signing_time=NOW)
    assert raw[0] == 0x77
    so = sod.parse_sod(raw)
    assert so.version == 1 and so.lds_version == (1, 8) and so.unicode_version == "040000"
    assert so.digest_algorithm == "sha256"
    assert so.dg_hashes == {n: hashlib.sha256(b).digest() for n, b in DGS.items()}
    assert so.signed_data_version == 3
    assert so.signer_info.signing_time == NOW
    assert so.signer_info.content_types == (sod.ID_LDS_SECURITY_OBJECT,)
    assert so.signer_info.message_digests == (hashlib.sha256(so.econtent).digest(),)
    assert so.signer_info.signed_attrs_der is not None
    assert so.signer_info.signed_attrs_der[0] == 0x31
    assert so.certificates == (p.ds_der(),)
    assert sod.certificate_matches(so.certificates[0], so.signer_info)


def test_sod_v0_and_separate_dg_digest(rsa_pki: pki.TestPki) -> None:
    raw = pki.build_sod(DGS, rsa_pki.ds_cert, rsa_pki.ds_key, digest="sha512", dg_digest="sha1")
    so = sod.parse_sod(raw)
    assert so.version == 0 and so.lds_version is None
    assert so.digest_algorithm == "sha1"
    assert so.signer_info.digest_algorithm == "sha512"
    assert so.signature_algorithm == "sha512_rsa"


def test_sod_without_certificate(rsa_pki: pki.TestPki) -> None:
    raw = pki.build_sod(DGS, rsa_pki.ds_cert, rsa_pki.ds_key, include_certificate=False)
    assert sod.parse_sod(raw).certificates == ()


def test_sod_build_rejects_bad_requests(rsa_pki: pki.TestPki) -> None:
    with pytest.raises(sod.SodError):
        pki.build_sod({1: b"x"}, rsa_pki.ds_cert, rsa_pki.ds_key)
    with pytest.raises(sod.SodError):
        pki.build_sod({1: b"x", 17: b"y"}, rsa_pki.ds_cert, rsa_pki.ds_key)
    with pytest.raises(sod.SodError):
        pki.build_sod(DGS, rsa_pki.ds_cert, rsa_pki.ds_key, digest="md5")
    with pytest.raises(sod.SodError):
        pki.build_sod(DGS, rsa_pki.ds_cert, rsa_pki.ds_key, signature="ecdsa")


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x77",
        b"\x77\x82\xff\xff\x30",
        b"\x04\x02ab",
        b"\x77\x02\x30\x00",
        b"\x77\x84\x00\x00\x00\x01\x00",
    ],
)
def test_parse_rejects_garbage(raw: bytes) -> None:
    with pytest.raises(sod.SodError):
        sod.parse_sod(raw)


def test_parse_rejects_trailing_data_even_padding(rsa_pki: pki.TestPki) -> None:
    raw = pki.build_sod(DGS, rsa_pki.ds_cert, rsa_pki.ds_key)
    assert sod.parse_sod(raw).dg_hashes
    with pytest.raises(sod.SodError):  # issue 10 item 1: trailing bytes are malformed
        sod.parse_sod(raw + b"\x00\x00")
    with pytest.raises(sod.SodError):
        sod.parse_sod(raw + b"\x01")
    with pytest.raises(sod.SodError):
        sod.parse_sod(raw[:-1])


def test_parse_rejects_a_bare_content_info(rsa_pki: pki.TestPki) -> None:
    raw = pki.build_sod(DGS, rsa_pki.ds_cert, rsa_pki.ds_key)
    with pytest.raises(sod.SodError, match="0x77"):
        sod.parse_sod(sod.unwrap(raw))


def test_parse_rejects_other_content_types(rsa_pki: pki.TestPki) -> None:
    content = sod.build_lds_security_object(DGS)
    # id-data is a known field quirk (test_sod_quirks.py); the master list type is not.
    info = pki.build_signed_data("2.23.136.1.1.2", content, rsa_pki.ds_cert, rsa_pki.ds_key)
    with pytest.raises(sod.SodError, match="eContentType"):
        sod.parse_sod(sod.wrap(info))
    quirk = pki.build_signed_data("1.2.840.113549.1.7.1", content, rsa_pki.ds_cert, rsa_pki.ds_key)
    assert sod.parse_sod(sod.wrap(quirk)).quirks == ("sod_content_type_id_data",)


def test_wrap_lengths() -> None:
    for n in (5, 200, 4000, 70000):
        wrapped = sod.wrap(b"\x30" + b"\x00" * (n - 1))
        assert len(sod.unwrap(wrapped)) == n
