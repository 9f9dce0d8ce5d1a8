"""Typed errors of the trust layer; each maps onto a verdict reason code."""

from __future__ import annotations

from kiosk.errors import CodedError


class TrustError(CodedError, ValueError):
    """Base class: input the trust layer cannot accept. A ValueError still (callers
    catch it as one); the one kiosk error base for its stable `code`: the class's,
    unless a subclass names a finer one."""

    code = "trust_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(code or type(self).code, message)


class MalformedInputError(TrustError):
    """A certificate, CRL, master list or EF.SOD cannot be decoded."""

    code = "malformed_input"


class UnsupportedAlgorithmError(TrustError):
    """A signature or digest algorithm this verifier does not implement."""

    code = "unsupported_algorithm"


class InvalidSignatureError(TrustError):
    """A signature does not verify under the given public key."""

    code = "bad_signature"
