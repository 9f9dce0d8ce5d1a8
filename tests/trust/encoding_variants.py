"""Certificates, CRLs and CMS objects re-signed with the AlgorithmIdentifier encodings
seen in the field (docs/trust.md, "Tolerated encodings"): parameters absent, NULL,
or something else. Each variant carries a valid signature, so only the encoding
decides the verdict."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from asn1crypto import algos, cms, core
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from devices.simulated import pki
from tests.trust.differential import unwrap_sod

ABSENT = b""
NULL = b"\x05\x00"
BOGUS = b"\x02\x01\x00"  # INTEGER 0: no signature or digest algorithm defines that
# (label, parameter bytes, accepted by a reference verifier)
ENCODINGS = (("absent", ABSENT, True), ("null", NULL, True), ("bogus", BOGUS, False))
DGS = {1: b"\x61\x03abc", 2: b"\x75\x03xyz"}

SIGNATURE_OIDS = {
    ("ecdsa", "sha1"): "1.2.840.10045.4.1",
    ("ecdsa", "sha256"): "1.2.840.10045.4.3.2",
    ("ecdsa", "sha384"): "1.2.840.10045.4.3.3",
    ("rsa-pkcs1v15", "sha1"): "1.2.840.113549.1.1.5",
    ("rsa-pkcs1v15", "sha256"): "1.2.840.113549.1.1.11",
}
DIGEST_OIDS = {"sha1": "1.3.14.3.2.26", "sha256": "2.16.840.1.101.3.4.2.1"}


def algorithm_identifier(oid: str, params: bytes) -> bytes:
    """DER AlgorithmIdentifier with exactly these parameter bytes."""
    body = core.ObjectIdentifier(oid).dump() + params
    return core.Sequence.load(b"\x30" + _length(len(body)) + body).dump()


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


@dataclass(frozen=True)
class Variant:
    name: str
    kind: str  # "certificate" | "crl" | "cms"
    der: bytes
    issuer_der: bytes  # the certificate whose key signed it (certificates, CRLs)


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def resign_certificate(
    cert_der: bytes, key: pki.PrivateKey, scheme: str, digest: str, params: bytes
) -> bytes:
    """The certificate with its signature AlgorithmIdentifier (inside and outside the
    TBS) replaced and the TBS signed again."""
    alg = asn1_x509.SignedDigestAlgorithm.load(
        algorithm_identifier(SIGNATURE_OIDS[(scheme, digest)], params)
    )
    cert = asn1_x509.Certificate.load(cert_der)
    tbs = cert["tbs_certificate"].copy()
    tbs["signature"] = alg
    tbs_der = tbs.dump()
    signature = pki.sign(key, tbs_der, digest, scheme)  # type: ignore[arg-type]
    return asn1_x509.Certificate(
        {
            "tbs_certificate": asn1_x509.TbsCertificate.load(tbs_der),
            "signature_algorithm": alg,
            "signature_value": signature,
        }
    ).dump()


def resign_crl(
    crl_der: bytes, key: pki.PrivateKey, scheme: str, digest: str, params: bytes
) -> bytes:
    alg = algos.SignedDigestAlgorithm.load(
        algorithm_identifier(SIGNATURE_OIDS[(scheme, digest)], params)
    )
    crl = asn1_crl.CertificateList.load(crl_der)
    tbs = crl["tbs_cert_list"].copy()
    tbs["signature"] = alg
    tbs_der = tbs.dump()
    return asn1_crl.CertificateList(
        {
            "tbs_cert_list": asn1_crl.TbsCertList.load(tbs_der),
            "signature_algorithm": alg,
            "signature": pki.sign(key, tbs_der, digest, scheme),  # type: ignore[arg-type]
        }
    ).dump()


def resign_signed_data(
    content_info_der: bytes,
    key: pki.PrivateKey,
    scheme: str,
    digest: str,
    signature_params: bytes,
    digest_params: bytes,
) -> bytes:
    """The SignedData with its SignerInfo's signature and digest AlgorithmIdentifiers
    (and the SignedData's digestAlgorithms) re-encoded, signed again."""
    info = cms.ContentInfo.load(unwrap_sod(content_info_der))
    signed = info["content"].copy()
    signer = signed["signer_infos"][0].copy()
    digest_alg = algos.DigestAlgorithm.load(
        algorithm_identifier(DIGEST_OIDS[digest], digest_params)
    )
    sig_alg = algos.SignedDigestAlgorithm.load(
        algorithm_identifier(SIGNATURE_OIDS[(scheme, digest)], signature_params)
    )
    signer["digest_algorithm"] = digest_alg
    signer["signature_algorithm"] = sig_alg
    econtent = bytes(signed["encap_content_info"]["content"].native)
    attributes = signer["signed_attrs"].copy()
    for attribute in attributes:
        if attribute["type"].native == "message_digest":
            attribute["values"] = [hashlib.new(digest, econtent).digest()]
    signer["signed_attrs"] = attributes
    attrs = signer["signed_attrs"].dump()
    attrs = b"\x31" + attrs[1:]  # SET OF, as RFC 5652 5.4 requires for the signature
    signer["signature"] = pki.sign(key, attrs, digest, scheme)  # type: ignore[arg-type]
    signed["digest_algorithms"] = cms.DigestAlgorithms([digest_alg])
    signed["signer_infos"] = cms.SignerInfos([signer])
    return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()


def generated_variants() -> list[tuple[Variant, bool]]:
    """Every variant with the verdict a reference verifier gives it (True: accepted)."""
    out: list[tuple[Variant, bool]] = []
    for algorithm, scheme in (("ecdsa-p256", "ecdsa"), ("rsa2048", "rsa-pkcs1v15")):
        p = pki.make_test_pki("UTO", algorithm=algorithm)
        csca_der = _der(p.csca_cert)
        ds_der = _der(p.ds_cert)
        crl_der = _der_crl(p)
        sod = pki.build_sod(
            {1: b"\x61\x03abc", 2: b"\x75\x03xyz"}, p.ds_cert, p.ds_key, digest="sha256"
        )
        for digest in ("sha1", "sha256"):
            for label, params, ok in (
                ("absent", ABSENT, True),
                ("null", NULL, True),
                ("bogus", BOGUS, False),
            ):
                tag = f"{scheme}-{digest}-{label}"
                cert = resign_certificate(ds_der, p.csca_key, scheme, digest, params)
                out.append((Variant(f"cert-{tag}", "certificate", cert, csca_der), ok))
                crl = resign_crl(crl_der, p.csca_key, scheme, digest, params)
                out.append((Variant(f"crl-{tag}", "crl", crl, csca_der), ok))
                signed = resign_signed_data(sod, p.ds_key, scheme, digest, params, NULL)
                out.append((Variant(f"cms-sig-{tag}", "cms", signed, ds_der), ok))
                signed = resign_signed_data(sod, p.ds_key, scheme, digest, ABSENT, params)
                out.append((Variant(f"cms-digest-{tag}", "cms", signed, ds_der), ok))
    return out


def _der_crl(p: pki.TestPki) -> bytes:
    return pki.make_crl(p.csca_cert, p.csca_key).public_bytes(serialization.Encoding.DER)
