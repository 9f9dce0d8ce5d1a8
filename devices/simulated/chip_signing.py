"""The chip side of Active Authentication (ICAO 9303-11 6.1): the emulator's private
keys and its INTERNAL AUTHENTICATE signatures. The terminal side, which verifies them,
is devices.icao9303.active_authentication."""

from __future__ import annotations

import hashlib
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_private_key

from devices.errors import ChipError
from devices.icao9303.active_authentication import aa_ecdsa_hash

ChipPrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def sign_iso9796_2(private: rsa.RSAPrivateKey, m2: bytes) -> bytes:
    """ISO/IEC 9796-2 scheme 1 signature, SHA-1 with trailer BC, random M1."""
    numbers = private.private_numbers()
    n = numbers.public_numbers.n
    size = n.bit_length() // 8
    m1 = os.urandom(size - 1 - 20 - 1)
    f = int.from_bytes(b"\x6a" + m1 + hashlib.sha1(m1 + m2).digest() + b"\xbc", "big")
    # Raw RSA through the CRT: `cryptography` offers no unpadded private operation.
    s_p = pow(f, numbers.dmp1, numbers.p)
    s_q = pow(f, numbers.dmq1, numbers.q)
    s = s_q + numbers.q * ((numbers.iqmp * (s_p - s_q)) % numbers.p)
    return s.to_bytes(size, "big")


def sign_ecdsa_plain(
    private: ec.EllipticCurvePrivateKey, message: bytes, algorithm: hashes.HashAlgorithm
) -> bytes:
    """ECDSA in the plain r || s form (BSI TR-03111)."""
    r, s = decode_dss_signature(private.sign(message, ec.ECDSA(algorithm)))
    size = (private.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def load_chip_key(private_key_der: bytes) -> ChipPrivateKey:
    """A chip's private key from PKCS#8 DER (RSA or EC)."""
    try:
        # The emulator loads a key it made itself; OpenSSL's RSA consistency check
        # holds the GIL for tens of milliseconds, on whatever thread lays a passport down.
        key = load_der_private_key(
            private_key_der, password=None, unsafe_skip_rsa_key_validation=True
        )
    except ValueError as exc:
        raise ChipError(f"chip private key does not load: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ChipError("chip private keys must be RSA or EC")
    return key


def chip_sign(key: ChipPrivateKey, challenge: bytes, dg14_raw: bytes | None) -> bytes:
    """Chip side of INTERNAL AUTHENTICATE with the AA private key."""
    if isinstance(key, rsa.RSAPrivateKey):
        return sign_iso9796_2(key, challenge)
    return sign_ecdsa_plain(key, challenge, aa_ecdsa_hash(dg14_raw, key.curve))
