"""Signature schemes met in real EF.SODs beyond what the test PKI emits by default:
bare rsaEncryption / id-ecPublicKey signature OIDs, BSI plain ECDSA, RSASSA-PSS keys,
explicit curves with long digests."""

from __future__ import annotations

import hashlib

import ecdsa
import pytest
from asn1crypto import algos, keys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from devices.simulated import pki
from kiosk.trust import InvalidSignatureError, MalformedInputError, UnsupportedAlgorithmError
from kiosk.trust.signatures import decode_scheme, verify_signature

DATA = b"signed attributes"


def _spki(key: pki.PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _alg(name: str) -> bytes:
    der: bytes = algos.SignedDigestAlgorithm({"algorithm": name}).dump()
    return der


def test_bare_rsa_encryption_takes_the_signer_digest() -> None:
    key = pki.cached_key("rsa2048", "sig")
    signature = key.sign(DATA, padding.PKCS1v15(), hashes.SHA384())  # type: ignore[union-attr]
    scheme = verify_signature(
        _spki(key), _alg("rsassa_pkcs1v15"), DATA, signature, digest_hint="sha384"
    )
    assert scheme.label == "rsa-pkcs1v15/sha384"
    with pytest.raises(UnsupportedAlgorithmError):
        verify_signature(_spki(key), _alg("rsassa_pkcs1v15"), DATA, signature)
    with pytest.raises(InvalidSignatureError):
        verify_signature(_spki(key), _alg("rsassa_pkcs1v15"), DATA, signature, digest_hint="sha256")


def test_id_ec_public_key_as_signature_algorithm() -> None:
    key = pki.cached_key("ecdsa-p256", "sig")
    signature = key.sign(DATA, ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg]
    oid = algos.SignedDigestAlgorithm({"algorithm": "1.2.840.10045.2.1"}).dump()
    assert (
        verify_signature(_spki(key), oid, DATA, signature, digest_hint="sha256").family == "ecdsa"
    )


def test_bsi_plain_ecdsa() -> None:
    key = pki.cached_key("ecdsa-brainpoolP256r1", "sig")
    r, s = decode_dss_signature(key.sign(DATA, ec.ECDSA(hashes.SHA256())))  # type: ignore[call-arg]
    plain = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    oid = algos.SignedDigestAlgorithm({"algorithm": "0.4.0.127.0.7.1.1.4.1.3"}).dump()
    assert verify_signature(_spki(key), oid, DATA, plain).label == "ecdsa-plain/sha256"
    with pytest.raises(InvalidSignatureError):
        verify_signature(_spki(key), oid, DATA + b"!", plain)
    with pytest.raises(InvalidSignatureError):
        verify_signature(_spki(key), oid, DATA, plain[:-1])


def test_rsassa_pss_public_key_info() -> None:
    key = pki.cached_key("rsa2048", "sig")
    spki = keys.PublicKeyInfo.load(_spki(key))
    pss_spki = keys.PublicKeyInfo(
        {"algorithm": {"algorithm": "rsassa_pss"}, "public_key": spki["public_key"]}
    ).dump()
    signature = pki.sign(key, DATA, "sha256", "rsa-pss")
    alg = pki.signature_algorithm_identifier(key, "sha256", "rsa-pss").dump()
    assert verify_signature(pss_spki, alg, DATA, signature).salt_length == 32


def test_pss_salt_length_is_enforced() -> None:
    key = pki.cached_key("rsa2048", "sig")
    h = hashes.SHA256()
    signature = key.sign(DATA, padding.PSS(padding.MGF1(h), 20), h)  # type: ignore[union-attr]
    alg = pki.signature_algorithm_identifier(key, "sha256", "rsa-pss").dump()  # says 32
    with pytest.raises(InvalidSignatureError):
        verify_signature(_spki(key), alg, DATA, signature)


@pytest.mark.parametrize("digest", ["sha1", "sha384", "sha512"])
def test_explicit_curve_with_any_digest(digest: str) -> None:
    key = pki.cached_key("ecdsa-brainpoolP256r1", "sig")
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    vk = ecdsa.VerifyingKey.from_string(point, curve=ecdsa.BRAINPOOLP256r1)
    explicit = vk.to_der(curve_parameters_encoding="explicit")
    signature = pki.sign(key, DATA, digest, "ecdsa")
    scheme = verify_signature(explicit, _alg(f"{digest}_ecdsa"), DATA, signature)
    assert scheme.digest == digest
    with pytest.raises(InvalidSignatureError):
        verify_signature(
            explicit, _alg(f"{digest}_ecdsa"), hashlib.sha256(DATA).digest(), signature
        )


def test_mismatched_key_and_scheme() -> None:
    rsa_key = pki.cached_key("rsa2048", "sig")
    ec_key = pki.cached_key("ecdsa-p256", "sig")
    with pytest.raises(InvalidSignatureError):
        verify_signature(_spki(ec_key), _alg("sha256_rsa"), DATA, b"\x00" * 256)
    with pytest.raises(InvalidSignatureError):
        verify_signature(_spki(rsa_key), _alg("sha256_ecdsa"), DATA, b"\x30\x00")


def test_unsupported_and_malformed_identifiers() -> None:
    with pytest.raises(UnsupportedAlgorithmError):
        decode_scheme(_alg("sha256_dsa"))
    with pytest.raises(UnsupportedAlgorithmError):
        decode_scheme(_alg("md5_rsa"))
    with pytest.raises(MalformedInputError):
        decode_scheme(b"\x30\x03\x06\x01")
    with_params = algos.SignedDigestAlgorithm(
        {"algorithm": "sha256_ecdsa", "parameters": algos.DigestAlgorithm({"algorithm": "sha1"})}
    ).dump()
    with pytest.raises(MalformedInputError):
        decode_scheme(with_params)
    key = pki.cached_key("ecdsa-p256", "sig")
    with pytest.raises(MalformedInputError):
        verify_signature(_spki(key)[:-3], _alg("sha256_ecdsa"), DATA, b"")
