"""Typed errors of the trust layer; each maps onto a verdict reason code."""

from __future__ import annotations


class TrustError(ValueError):
    """Base class: input the trust layer cannot accept."""

    code = "trust_error"


class MalformedInputError(TrustError):
    """A certificate, CRL, master list or EF.SOD cannot be decoded."""

    code = "malformed_input"


class UnsupportedAlgorithmError(TrustError):
    """A signature or digest algorithm this verifier does not implement."""

    code = "unsupported_algorithm"


class InvalidSignatureError(TrustError):
    """A signature does not verify under the given public key."""

    code = "bad_signature"
