"""A test carrier's signing key (deterministic) and the keys a kiosk would have
pulled from the border for it (kiosk/decision/journey/carrier_keys.py)."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kiosk.decision.journey.carrier_keys import StaticCarrierKeys, sign_boarding_pass

CARRIER_KEY = ec.derive_private_key(0x5EED_CA11_E6A7E, ec.SECP256R1())
OTHER_KEY = ec.derive_private_key(0xBAD_C0FFEE, ec.SECP256R1())


def public_pem(key: ec.EllipticCurvePrivateKey = CARRIER_KEY) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def keys_for(*carriers: str) -> StaticCarrierKeys:
    """The border distributes the test carrier key for these designators."""
    return StaticCarrierKeys({c: [public_pem()] for c in carriers})


def signed(text: str, key: ec.EllipticCurvePrivateKey = CARRIER_KEY) -> str:
    return sign_boarding_pass(text, key)
