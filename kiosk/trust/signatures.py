"""Signature verification for certificates, CRLs, EF.SOD and master lists.

ICAO 9303-12 allows RSA (PKCS#1 v1.5 and RSASSA-PSS), DSA and ECDSA with
SHA-1/224/256/384/512. ECDSA keys may name their curve or spell out its
parameters (RFC 3279 ECParameters, used by several states for brainpool keys);
cryptography refuses explicit parameters, so those keys go through python-ecdsa.
DSA is not accepted: no state issues it any more.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any

import ecdsa
from asn1crypto import algos, core, keys
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from ecdsa.util import sigdecode_der

from devices.icao9303.asn1 import DECODE_ERRORS, HASH_ALGORITHMS
from devices.icao9303.lds.security_infos import ECDSA_PLAIN_DIGESTS
from kiosk.trust.errors import (
    InvalidSignatureError,
    MalformedInputError,
    UnsupportedAlgorithmError,
)

# Signature OIDs that carry no hash: the digest algorithm of the SignerInfo applies.
_RSA_BARE = {"rsassa_pkcs1v15"}
_ECDSA_BARE = {"ecdsa", "1.2.840.10045.2.1"}


# The two encodings of "no parameters" an AlgorithmIdentifier meets in the field.
# RFC 5758 3.2 says ECDSA omits them and RFC 4055 that RSA PKCS#1 v1.5 carries NULL,
# but German master lists and specimen EF.SODs carry NULL after ecdsa-with-SHA1 and
# others omit it after sha*WithRSAEncryption; OpenSSL, BouncyCastle (JMRTD) and BSI
# TR-03105-5 accept both (docs/trust.md, "Tolerated encodings").
_NO_PARAMETERS = (b"", b"\x05\x00")


def parameters_absent_or_null(params: Any) -> bool:
    """Whether an AlgorithmIdentifier's parameters are absent or NULL. asn1crypto gives
    a Void, a Null or (for OIDs it has no parameter spec for) an Any holding the
    NULL, so this compares the encoding itself."""
    return isinstance(params, core.Void) or bytes(params.dump()) in _NO_PARAMETERS


def digest_name(name: str) -> str:
    """Check that `name` is a digest this verifier implements."""
    if name not in HASH_ALGORITHMS:
        raise UnsupportedAlgorithmError(f"unsupported digest algorithm {name}")
    return name


def digest(name: str, data: bytes) -> bytes:
    return hashlib.new(digest_name(name), data).digest()


@dataclass(frozen=True)
class SignatureScheme:
    """A decoded signature AlgorithmIdentifier."""

    family: str  # "rsa-pkcs1v15" | "rsa-pss" | "ecdsa" | "ecdsa-plain"
    digest: str
    salt_length: int | None = None  # RSASSA-PSS
    mgf_digest: str | None = None  # RSASSA-PSS

    @property
    def label(self) -> str:
        if self.family == "rsa-pss":
            return f"rsassa-pss/{self.digest}/mgf1-{self.mgf_digest}/salt{self.salt_length}"
        return f"{self.family}/{self.digest}"


def _oid(value: Any) -> tuple[str, str]:
    dotted = str(value.dotted)
    try:
        return str(value.native), dotted
    except DECODE_ERRORS:
        return dotted, dotted


def decode_scheme(algorithm_der: bytes, digest_hint: str | None = None) -> SignatureScheme:
    """Decode a signature AlgorithmIdentifier; `digest_hint` (the SignerInfo's digest
    algorithm) serves the OIDs that name no hash (rsaEncryption, id-ecPublicKey)."""
    try:
        alg = algos.SignedDigestAlgorithm.load(algorithm_der, strict=True)
        name, dotted = _oid(alg["algorithm"])
        if name != "rsassa_pss" and not parameters_absent_or_null(alg["parameters"]):
            # RFC 4055 / RFC 5758: NULL or absent; anything else is an altered identifier
            raise MalformedInputError(f"unexpected parameters for signature algorithm {name}")
        if dotted in ECDSA_PLAIN_DIGESTS:
            return SignatureScheme("ecdsa-plain", ECDSA_PLAIN_DIGESTS[dotted])
        if name == "rsassa_pss":
            params = alg["parameters"]
            if params.native is None:
                raise MalformedInputError("RSASSA-PSS without parameters")
            hash_name = str(params["hash_algorithm"]["algorithm"].native)
            mgf = params["mask_gen_algorithm"]
            if mgf["algorithm"].native != "mgf1":
                raise UnsupportedAlgorithmError(f"PSS mask generation {mgf['algorithm'].dotted}")
            mgf_hash = str(mgf["parameters"]["algorithm"].native)
            salt = int(params["salt_length"].native)
            trailer = params["trailer_field"].native
            if trailer not in (1, "trailer_field_bc"):
                raise UnsupportedAlgorithmError(f"PSS trailer field {trailer}")
            if salt < 0:
                raise MalformedInputError("negative PSS salt length")
            return SignatureScheme("rsa-pss", digest_name(hash_name), salt, digest_name(mgf_hash))
        if name.endswith("_rsa") and name.split("_")[0] in HASH_ALGORITHMS:
            return SignatureScheme("rsa-pkcs1v15", name.split("_")[0])
        if name.endswith("_ecdsa") and name.split("_")[0] in HASH_ALGORITHMS:
            return SignatureScheme("ecdsa", name.split("_")[0])
        if name in _RSA_BARE or name in _ECDSA_BARE or dotted in _ECDSA_BARE:
            if digest_hint is None:
                raise UnsupportedAlgorithmError(f"signature algorithm {name} names no digest")
            family = "rsa-pkcs1v15" if name in _RSA_BARE else "ecdsa"
            return SignatureScheme(family, digest_name(digest_hint))
    except (MalformedInputError, UnsupportedAlgorithmError):
        raise
    except DECODE_ERRORS as exc:
        raise MalformedInputError(f"bad signature AlgorithmIdentifier: {exc}") from exc
    raise UnsupportedAlgorithmError(f"unsupported signature algorithm {name}")


# python-ecdsa curve names of explicit parameters it recognises, to the same curve in
# cryptography: a key with spelled-out parameters of a known curve is then verified by
# OpenSSL (about a hundred times faster than pure Python; 111 of the Dutch list's
# CSCAs are such keys). Unknown explicit curves stay with python-ecdsa.
_NAMED_EXPLICIT: dict[str, ec.EllipticCurve] = {
    "NIST192p": ec.SECP192R1(),
    "NIST224p": ec.SECP224R1(),
    "NIST256p": ec.SECP256R1(),
    "NIST384p": ec.SECP384R1(),
    "NIST521p": ec.SECP521R1(),
    "BRAINPOOLP256r1": ec.BrainpoolP256R1(),
    "BRAINPOOLP384r1": ec.BrainpoolP384R1(),
    "BRAINPOOLP512r1": ec.BrainpoolP512R1(),
}


@functools.lru_cache(maxsize=4096)
def _load_public_key(spki_der: bytes) -> tuple[str, Any]:
    """("rsa", key) / ("ec", key) via cryptography, or ("ec-explicit", VerifyingKey).
    Cached: a chain check meets the same CSCA keys again and again."""
    try:
        spki = keys.PublicKeyInfo.load(spki_der, strict=True)
        algorithm = str(spki["algorithm"]["algorithm"].native)
        if algorithm == "rsassa_pss":
            # An RSASSA-PSS SPKI carries an ordinary RSA key; rewrap it for cryptography.
            spki = keys.PublicKeyInfo(
                {"algorithm": {"algorithm": "rsa"}, "public_key": spki["public_key"]}
            )
            spki_der = spki.dump()
            algorithm = "rsa"
        if algorithm == "ec":
            params = spki["algorithm"]["parameters"]
            if params.name == "specified":
                vk = ecdsa.VerifyingKey.from_der(
                    spki_der, valid_curve_encodings=("explicit", "named_curve")
                )
                named = _NAMED_EXPLICIT.get(str(getattr(vk.curve, "name", "")))
                if named is not None:
                    point = vk.to_string("uncompressed")
                    return "ec", ec.EllipticCurvePublicKey.from_encoded_point(named, point)
                return "ec-explicit", vk
        if algorithm not in ("rsa", "ec"):
            raise UnsupportedAlgorithmError(f"unsupported public key algorithm {algorithm}")
        key = serialization.load_der_public_key(spki_der)
    except UnsupportedAlgorithmError:
        raise
    except UnsupportedAlgorithm as exc:
        raise UnsupportedAlgorithmError(f"unsupported public key: {exc}") from exc
    except (*DECODE_ERRORS, ecdsa.der.UnexpectedDER, ecdsa.errors.MalformedPointError) as exc:
        raise MalformedInputError(f"bad public key: {exc}") from exc
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa", key
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ec", key
    raise UnsupportedAlgorithmError(f"unsupported public key type {type(key).__name__}")


def public_key_description(spki_der: bytes) -> str:
    """A short human label for a key: "rsa-2048", "ec-brainpoolP256r1", "ec-explicit"."""
    try:
        kind, key = _load_public_key(spki_der)
    except (MalformedInputError, UnsupportedAlgorithmError) as exc:
        return f"unusable ({exc})"
    if kind == "rsa":
        return f"rsa-{key.key_size}"
    if kind == "ec":
        return f"ec-explicit-{key.curve.name}" if _explicit(spki_der) else f"ec-{key.curve.name}"
    return f"ec-explicit-{getattr(key.curve, 'name', 'unknown')}"


def _explicit(spki_der: bytes) -> bool:
    """Whether an EC key spells out its curve parameters (RFC 3279 ECParameters)."""
    try:
        params = keys.PublicKeyInfo.load(spki_der)["algorithm"]["parameters"]
        return bool(getattr(params, "name", None) == "specified")
    except DECODE_ERRORS:
        return False


def _plain_to_der(signature: bytes) -> bytes:
    if len(signature) % 2 or not signature:
        raise InvalidSignatureError("plain ECDSA signature of odd length")
    half = len(signature) // 2
    r = int.from_bytes(signature[:half], "big")
    s = int.from_bytes(signature[half:], "big")
    return encode_dss_signature(r, s)


def verify_signature(
    spki_der: bytes,
    algorithm_der: bytes,
    data: bytes,
    signature: bytes,
    *,
    digest_hint: str | None = None,
) -> SignatureScheme:
    """Verify `signature` over `data`; returns the scheme used, raises
    InvalidSignatureError, UnsupportedAlgorithmError or MalformedInputError."""
    scheme = decode_scheme(algorithm_der, digest_hint)
    kind, key = _load_public_key(spki_der)
    h = HASH_ALGORITHMS[scheme.digest]()
    try:
        if scheme.family in ("rsa-pkcs1v15", "rsa-pss"):
            if kind != "rsa":
                raise InvalidSignatureError(f"{scheme.family} signature with an EC key")
            if scheme.family == "rsa-pss":
                assert scheme.mgf_digest is not None and scheme.salt_length is not None
                pad: padding.AsymmetricPadding = padding.PSS(
                    padding.MGF1(HASH_ALGORITHMS[scheme.mgf_digest]()), scheme.salt_length
                )
            else:
                pad = padding.PKCS1v15()
            key.verify(signature, data, pad, h)
            return scheme
        if kind == "rsa":
            raise InvalidSignatureError("ECDSA signature with an RSA key")
        der_sig = _plain_to_der(signature) if scheme.family == "ecdsa-plain" else signature
        if kind == "ec":
            key.verify(der_sig, data, ec.ECDSA(h))
            return scheme
        hashed = hashlib.new(scheme.digest, data).digest()
        if not key.verify_digest(der_sig, hashed, sigdecode=sigdecode_der, allow_truncate=True):
            raise InvalidSignatureError("ECDSA signature does not verify")
        return scheme
    except InvalidSignature as exc:
        raise InvalidSignatureError(f"{scheme.label} signature does not verify") from exc
    except (ecdsa.BadSignatureError, ecdsa.der.UnexpectedDER) as exc:
        raise InvalidSignatureError(f"{scheme.label} signature does not verify") from exc
    except (ValueError, TypeError, OverflowError) as exc:
        # e.g. a PSS salt longer than the modulus allows, or a truncated signature
        raise InvalidSignatureError(f"{scheme.label} signature unusable: {exc}") from exc
