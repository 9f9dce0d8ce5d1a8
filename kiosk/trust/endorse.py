"""An administrator's signature over CSCA certificates: a CSCA master list (ICAO
9303-12 9) signed with the administrator's certificate.

This is the second route by which a CSCA becomes a trust anchor (kiosk/trust/store.py):
the administrator's signer certificate is issued by a locally provisioned anchor
(for example the border agency's own trust root, provisioned at installation with
`egate trust import --bootstrap-anchor`), so a kiosk verifies the signature exactly as
it verifies an ICAO master list, and nothing published to the border database is
trusted on its word alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from devices.icao9303.masterlist_schema import ID_ICAO_CSCA_MASTER_LIST
from devices.icao9303.masterlist_schema import CscaMasterList as CscaMasterListAsn1
from kiosk.trust.certificates import Certificate
from kiosk.trust.errors import TrustError

SignerKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def load_signer_key(pem: bytes) -> SignerKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise TrustError(f"not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise TrustError("the signer key must be RSA or EC")
    return key


def endorse(
    certificates: Sequence[Certificate],
    signer: Certificate,
    key: SignerKey,
    *,
    signing_time: datetime | None = None,
) -> bytes:
    """A DER CscaMasterList SignedData over `certificates`, signed by `key`/`signer`
    (RSA PKCS#1 v1.5 or ECDSA, SHA-256)."""
    if not certificates:
        raise TrustError("nothing to endorse")
    for cert in certificates:
        if not cert.is_ca or "key_cert_sign" not in cert.key_usage:
            raise TrustError(f"{cert.subject} is not a CSCA certificate")
    if "digital_signature" not in signer.key_usage:
        raise TrustError(f"the signer {signer.subject} lacks digitalSignature")
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if public != signer.spki_der:
        raise TrustError("the signer key does not belong to the signer certificate")
    content = CscaMasterListAsn1(
        {"version": 0, "cert_list": [asn1_x509.Certificate.load(c.der) for c in certificates]}
    ).dump()
    when = (signing_time or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    attrs = cms.CMSAttributes(
        [
            {"type": "content_type", "values": [ID_ICAO_CSCA_MASTER_LIST]},
            {"type": "message_digest", "values": [hashlib.sha256(content).digest()]},
            {"type": "signing_time", "values": [cms.Time({"utc_time": when})]},
        ]
    )
    to_sign = attrs.dump()  # the DER SET OF (tag 0x31) is what is signed
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256())
        algorithm = {"algorithm": "sha256_rsa"}
    else:
        signature = key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
        algorithm = {"algorithm": "sha256_ecdsa"}
    parsed_signer = asn1_x509.Certificate.load(signer.der)
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": parsed_signer.issuer,
                        "serial_number": parsed_signer.serial_number,
                    }
                }
            ),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
            "signed_attrs": attrs,
            "signature_algorithm": algos.SignedDigestAlgorithm(algorithm),
            "signature": signature,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
            "encap_content_info": {
                "content_type": ID_ICAO_CSCA_MASTER_LIST,
                "content": core.ParsableOctetString(content),
            },
            "certificates": [parsed_signer],
            "signer_infos": [signer_info],
        }
    )
    der: bytes = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    return der
