"""SubjectPublicKeyInfo (RFC 5280 4.1.2.7) as found in DG14 and DG15.

Chips often encode EC keys with explicit curve parameters (RFC 3279 ECParameters)
instead of a named curve; the parameters (prime, coefficients, base point, order and
cofactor) are matched against the known curves so the caller learns the curve name
either way. Keys in EF.CardSecurity/DG14 may also name their curve by a standardized
domain parameter id (TR-03110-3 A.2.1.1: AlgorithmIdentifier 0.4.0.127.0.7.1.2 with
an INTEGER). `explicit_curve` builds and validates a curve that matches none of the
known ones (PACE with explicit domain parameters). DH keys (id-PK-DH) keep their raw
DomainParameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ecdsa
import ecdsa.ellipticcurve
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from ecdsa.numbertheory import is_prime

from devices.icao9303.lds import LdsError
from devices.icao9303.lds.der import OID, SEQUENCE, decode_integer, decode_oid
from devices.icao9303.tlv import Tlv, parse_single

RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
DH_PUBLIC_NUMBER = "1.2.840.10046.2.1"
PRIME_FIELD = "1.2.840.10045.1.1"
STANDARDIZED_DOMAIN_PARAMETERS = "0.4.0.127.0.7.1.2"
EXPLICIT_CURVE_OID = (1, 3, 6, 1, 4, 1, 0, 0)  # placeholder: python-ecdsa wants one
MIN_CURVE_BITS = 192
MAX_CURVE_BITS = 521

# Standardized domain parameters on elliptic curves (ICAO 9303-11 9.5.1, TR-03110-3 A.2.1.1).
STANDARDIZED_CURVES: dict[int, ecdsa.curves.Curve] = {
    8: ecdsa.curves.NIST192p,
    9: ecdsa.curves.BRAINPOOLP192r1,
    10: ecdsa.curves.NIST224p,
    11: ecdsa.curves.BRAINPOOLP224r1,
    12: ecdsa.curves.NIST256p,
    13: ecdsa.curves.BRAINPOOLP256r1,
    14: ecdsa.curves.BRAINPOOLP320r1,
    15: ecdsa.curves.NIST384p,
    16: ecdsa.curves.BRAINPOOLP384r1,
    17: ecdsa.curves.BRAINPOOLP512r1,
    18: ecdsa.curves.NIST521p,
}

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


@dataclass(frozen=True)
class _Explicit:
    """The numbers of RFC 3279 ECParameters over a prime field."""

    p: int
    a: int
    b: int
    gx: int
    gy: int
    order: int
    cofactor: int | None


def _match_explicit(params: _Explicit) -> ecdsa.curves.Curve | None:
    """The known curve with the same field, equation, base point, order and cofactor."""
    for curve in ecdsa.curves.curves:
        fp = curve.curve
        if not hasattr(fp, "p") or not hasattr(fp, "a"):
            continue
        try:
            p = int(fp.p())
            same = (p, int(fp.a()) % p, int(fp.b()) % p, int(curve.order)) == (
                params.p,
                params.a % params.p,
                params.b % params.p,
                params.order,
            )
            if not same:
                continue
            g = curve.generator
            if (int(g.x()), int(g.y())) != (params.gx, params.gy):
                continue
            if params.cofactor is not None and int(fp.cofactor() or 1) != params.cofactor:
                continue
        except (AttributeError, TypeError):
            continue
        return curve
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
        if self.algorithm == STANDARDIZED_DOMAIN_PARAMETERS:
            if self.curve_name:
                return "ec"
            parameter_id = parse_single(self.parameters or b"\x02\x01\xff").value
            return "dh" if parameter_id in (b"\x00", b"\x01", b"\x02") else "unknown"
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
        if oid == STANDARDIZED_DOMAIN_PARAMETERS:
            if params is None:
                raise LdsError("standardized domain parameters without a parameter id")
            curve = STANDARDIZED_CURVES.get(decode_integer(params, what="parameter id"))
        if oid == EC_PUBLIC_KEY:
            if params is None:
                raise LdsError("EC public key without curve parameters")
            curve = _ec_curve(params)
        ec_key = curve is not None or oid == EC_PUBLIC_KEY
        if ec_key and (not key_bytes or key_bytes[0] not in (0x02, 0x03, 0x04)):
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
    return _match_explicit(_explicit_numbers(params))


def _explicit_numbers(params: Tlv) -> _Explicit:
    """ECParameters ::= SEQUENCE {version, fieldID, curve, base, order, cofactor OPTIONAL}."""
    if params.tag != SEQUENCE:
        raise LdsError("EC parameters are neither a named curve nor ECParameters")
    fields = params.children()
    if not 5 <= len(fields) <= 6:
        raise LdsError("explicit ECParameters are incomplete")
    field_id, curve_seq, base, order_tlv = fields[1], fields[2], fields[3], fields[4]
    fid = field_id.children() if field_id.tag == SEQUENCE else []
    if len(fid) != 2 or decode_oid(fid[0], "field type") != PRIME_FIELD:
        raise LdsError("explicit ECParameters: only prime fields are supported")
    p = decode_integer(fid[1], what="field prime")
    ab = curve_seq.children() if curve_seq.tag == SEQUENCE else []
    if len(ab) < 2 or ab[0].tag != 0x04 or ab[1].tag != 0x04:
        raise LdsError("explicit ECParameters: curve coefficients missing")
    if p < 3 or base.tag != 0x04:
        raise LdsError("explicit ECParameters: bad field prime or base point")
    size = (p.bit_length() + 7) // 8
    point = base.value
    if len(point) != 1 + 2 * size or point[0] != 0x04:
        raise LdsError("explicit ECParameters: the base point must be uncompressed")
    cofactor = decode_integer(fields[5], what="cofactor") if len(fields) == 6 else None
    return _Explicit(
        p=p,
        a=int.from_bytes(ab[0].value, "big"),
        b=int.from_bytes(ab[1].value, "big"),
        gx=int.from_bytes(point[1 : 1 + size], "big"),
        gy=int.from_bytes(point[1 + size :], "big"),
        order=decode_integer(order_tlv, what="curve order"),
        cofactor=cofactor,
    )


def explicit_curve(params: Tlv) -> ecdsa.curves.Curve:
    """A curve from explicit ECParameters: a known one when all numbers match, else a
    new one after the checks of TR-03111 / SEC 1 3.1.1.2.1 (raises LdsError)."""
    numbers = _explicit_numbers(params)
    known = _match_explicit(numbers)
    if known is not None:
        return known
    p, a, b, n = numbers.p, numbers.a, numbers.b, numbers.order
    if not MIN_CURVE_BITS <= p.bit_length() <= MAX_CURVE_BITS or not is_prime(p):
        raise LdsError(f"explicit curve: the field prime of {p.bit_length()} bits is unusable")
    if not (0 <= a < p and 0 <= b < p) or (4 * a**3 + 27 * b**2) % p == 0:
        raise LdsError("explicit curve: singular or unreduced coefficients")
    h = numbers.cofactor if numbers.cofactor is not None else 1
    if h < 1 or (h * n - (p + 1)) ** 2 > 4 * p:  # Hasse: |p + 1 - #E| <= 2 sqrt(p)
        raise LdsError("explicit curve: the order and cofactor contradict the field size")
    if n.bit_length() < MIN_CURVE_BITS or n == p or not is_prime(n):
        raise LdsError("explicit curve: the order is not a large prime other than p")
    fp = ecdsa.ellipticcurve.CurveFp(p, a, b, h)
    if not fp.contains_point(numbers.gx, numbers.gy):
        raise LdsError("explicit curve: the base point is not on the curve")
    generator = ecdsa.ellipticcurve.PointJacobi(fp, numbers.gx, numbers.gy, 1, n, generator=True)
    if generator * n != ecdsa.ellipticcurve.INFINITY:
        raise LdsError("explicit curve: the base point does not have the stated order")
    return ecdsa.curves.Curve("explicit", fp, generator, EXPLICIT_CURVE_OID)
