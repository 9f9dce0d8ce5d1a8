"""SubjectPublicKeyInfo (RFC 5280 4.1.2.7) as found in DG14 and DG15.

Chips often encode EC keys with explicit curve parameters (RFC 3279 ECParameters)
instead of a named curve; the parameters are matched against the known curves so
the caller learns the curve name either way. DH keys (id-PK-DH) keep their raw
DomainParameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ecdsa
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from devices.icao9303.lds import LdsError
from devices.icao9303.lds.der import OID, SEQUENCE, decode_integer, decode_oid
from devices.icao9303.tlv import Tlv, parse_single

RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
DH_PUBLIC_NUMBER = "1.2.840.10046.2.1"
PRIME_FIELD = "1.2.840.10045.1.1"

# python-ecdsa curve -> the name cryptography uses, where cryptography supports it.
_CRYPTOGRAPHY_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "secp192r1": ec.SECP192R1,
    "secp224r1": ec.SECP224R1,
    "secp256r1": ec.SECP256R1,
    "secp384r1": ec.SECP384R1,
    "secp521r1": ec.SECP521R1,
    "brainpoolP256r1": ec.BrainpoolP256R1,
    "brainpoolP384r1": ec.BrainpoolP384R1,
    "brainpoolP512r1": ec.BrainpoolP512R1,
}
_ECDSA_NAMES = {"prime192v1": "secp192r1", "prime256v1": "secp256r1"}


def _curve_name(curve: ecdsa.curves.Curve) -> str:
    name = str(curve.openssl_name)
    return _ECDSA_NAMES.get(name, name)


def curve_by_oid(oid: str) -> ecdsa.curves.Curve | None:
    for curve in ecdsa.curves.curves:
        if ".".join(str(arc) for arc in curve.oid) == oid:
            return curve
    return None


def curve_by_name(name: str) -> ecdsa.curves.Curve:
    for curve in ecdsa.curves.curves:
        if _curve_name(curve) == name:
            return curve
    raise LdsError(f"unknown elliptic curve {name!r}")


def _match_explicit(p: int, a: int, b: int, order: int) -> ecdsa.curves.Curve | None:
    for curve in ecdsa.curves.curves:
        fp = curve.curve
        if not hasattr(fp, "p") or not hasattr(fp, "a"):
            continue
        try:
            if (fp.p(), fp.a() % fp.p(), fp.b(), curve.order) == (p, a % p, b, order):
                return curve
        except (AttributeError, TypeError):
            continue
    return None


@dataclass(frozen=True)
class PublicKeyInfo:
    """A parsed SubjectPublicKeyInfo; `raw` is the exact DER it came from."""

    algorithm: str
    parameters: bytes | None  # DER of the AlgorithmIdentifier parameters
    key_bytes: bytes  # the BIT STRING content (EC point, RSAPublicKey DER, DH INTEGER)
    raw: bytes
    curve_name: str | None = None  # EC keys, named or recognised explicit parameters

    @property
    def kind(self) -> str:
        return {RSA_ENCRYPTION: "rsa", EC_PUBLIC_KEY: "ec", DH_PUBLIC_NUMBER: "dh"}.get(
            self.algorithm, "unknown"
        )

    @classmethod
    def parse(cls, der: bytes) -> PublicKeyInfo:
        spki = parse_single(der, SEQUENCE)
        parts = spki.children()
        if len(parts) != 2:
            raise LdsError("SubjectPublicKeyInfo must hold an AlgorithmIdentifier and a key")
        alg, bits = parts
        if alg.tag != SEQUENCE or bits.tag != 0x03:
            raise LdsError("SubjectPublicKeyInfo has the wrong structure")
        alg_parts = alg.children()
        if not alg_parts:
            raise LdsError("AlgorithmIdentifier is empty")
        oid = decode_oid(alg_parts[0], "public key algorithm")
        params = alg_parts[1] if len(alg_parts) > 1 else None
        if not bits.value or bits.value[0] != 0:
            raise LdsError("public key BIT STRING must have no unused bits")
        key_bytes = bits.value[1:]
        curve = None
        if oid == EC_PUBLIC_KEY:
            if params is None:
                raise LdsError("EC public key without curve parameters")
            curve = _ec_curve(params)
            if not key_bytes or key_bytes[0] not in (0x02, 0x03, 0x04):
                raise LdsError("EC public key is not an X9.62 point")
        return cls(
            algorithm=oid,
            parameters=params.encode() if params is not None else None,
            key_bytes=key_bytes,
            raw=bytes(der),
            curve_name=_curve_name(curve) if curve is not None else None,
        )

    def to_cryptography(self) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
        """The key as a `cryptography` object (RSA, or EC on a curve it supports)."""
        from cryptography.hazmat.primitives.serialization import load_der_public_key

        if self.kind == "ec":
            curve = _CRYPTOGRAPHY_CURVES.get(self.curve_name or "")
            if curve is None:
                raise LdsError(f"curve {self.curve_name or 'unknown'} is not supported here")
            try:
                return ec.EllipticCurvePublicKey.from_encoded_point(curve(), self.key_bytes)
            except ValueError as exc:
                raise LdsError(f"EC public key is not a point on {self.curve_name}") from exc
        if self.kind == "rsa":
            try:
                key = load_der_public_key(self.raw)
            except ValueError as exc:
                raise LdsError(f"RSA public key does not load: {exc}") from exc
            if not isinstance(key, rsa.RSAPublicKey):
                raise LdsError("RSA public key does not load as RSA")
            return key
        raise LdsError(f"public key algorithm {self.algorithm} is not supported here")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"algorithm": self.kind, "oid": self.algorithm}
        if self.curve_name:
            out["curve"] = self.curve_name
        if self.kind == "rsa":
            try:
                out["bits"] = self.to_cryptography().key_size
            except LdsError:
                out["bits"] = None
        return out


def _ec_curve(params: Tlv) -> ecdsa.curves.Curve | None:
    """The curve named by, or matching, the ECParameters (None when unknown)."""
    if params.tag == OID:
        return curve_by_oid(decode_oid(params, "EC named curve"))
    if params.tag != SEQUENCE:
        raise LdsError("EC parameters are neither a named curve nor ECParameters")
    fields = params.children()
    if len(fields) < 5:
        raise LdsError("explicit ECParameters are incomplete")
    field_id, curve_seq, _base, order_tlv = fields[1], fields[2], fields[3], fields[4]
    fid = field_id.children()
    if len(fid) != 2 or decode_oid(fid[0], "field type") != PRIME_FIELD:
        raise LdsError("explicit ECParameters: only prime fields are supported")
    p = decode_integer(fid[1], what="field prime")
    ab = curve_seq.children()
    if len(ab) < 2 or ab[0].tag != 0x04 or ab[1].tag != 0x04:
        raise LdsError("explicit ECParameters: curve coefficients missing")
    a = int.from_bytes(ab[0].value, "big")
    b = int.from_bytes(ab[1].value, "big")
    order = decode_integer(order_tlv, what="curve order")
    return _match_explicit(p, a, b, order)
