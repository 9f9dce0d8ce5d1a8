"""Active Authentication (ICAO 9303-11 6.1) with the DG15 key.

The terminal sends an 8-byte challenge in INTERNAL AUTHENTICATE. RSA chips answer
with an ISO/IEC 9796-2 digital signature scheme 1 signature (partial message
recovery, the challenge is the non-recoverable part M2); EC chips answer with a
plain ECDSA signature r || s (BSI TR-03111) over the hash named in DG14's
ActiveAuthenticationInfo.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from devices.errors import ChipError
from devices.icao9303.apdu import CommandApdu, ResponseApdu
from devices.icao9303.asn1 import HASH_ALGORITHMS
from devices.icao9303.lds import LdsError
from devices.icao9303.lds.dg14 import DataGroup14
from devices.icao9303.lds.dg15 import DataGroup15
from devices.icao9303.lds.security_infos import ECDSA_PLAIN_DIGESTS
from devices.icao9303.secure_messaging import SecureMessaging
from devices.icao9303.transport import Transport

AaStatus = Literal["passed", "failed"]

# ISO/IEC 10118-3 hash identifiers used in the two-byte trailer xx CC.
_TRAILER_HASHES: dict[int, Callable[[bytes], bytes]] = {
    0x33: lambda d: hashlib.sha1(d).digest(),
    0x34: lambda d: hashlib.sha256(d).digest(),
    0x35: lambda d: hashlib.sha512(d).digest(),
    0x36: lambda d: hashlib.sha384(d).digest(),
    0x38: lambda d: hashlib.sha224(d).digest(),
}


@dataclass(frozen=True)
class AaOutcome:
    status: AaStatus
    detail: str


def verify_iso9796_2(public: rsa.RSAPublicKey, signature: bytes, m2: bytes) -> bool:
    """ISO/IEC 9796-2 scheme 1 verification with partial recovery (header 6A)."""
    numbers = public.public_numbers()
    n, e = numbers.n, numbers.e
    if n.bit_length() % 8:
        return False
    size = n.bit_length() // 8
    s = int.from_bytes(signature, "big")
    if not signature or s >= n:
        return False
    j = pow(s, e, n)
    if j & 0xF != 0xC:
        j = n - j  # the signer may have sent min(s, n - s)
    if j & 0xF != 0xC:
        return False
    f = j.to_bytes(size, "big")
    if f[-1] == 0xBC:
        digest: Callable[[bytes], bytes] = _TRAILER_HASHES[0x33]
        trailer = 1
    elif f[-1] == 0xCC and f[-2] in _TRAILER_HASHES:
        digest = _TRAILER_HASHES[f[-2]]
        trailer = 2
    else:
        return False
    h_len = len(digest(b""))
    if f[0] != 0x6A or size < 1 + h_len + trailer:
        return False
    m1 = f[1 : size - trailer - h_len]
    h = f[size - trailer - h_len : size - trailer]
    return hmac.compare_digest(digest(m1 + m2), h)


def aa_ecdsa_hash(dg14_raw: bytes | None, curve: ec.EllipticCurve) -> hashes.HashAlgorithm:
    """The hash of an EC chip's AA signature: DG14's ActiveAuthenticationInfo, else by
    curve size (terminal check here, chip signature in devices.simulated.chip_signing)."""
    if dg14_raw:
        try:
            info = DataGroup14.parse(dg14_raw).security_infos.active_authentication_info
        except LdsError:
            info = None
        if info is not None:
            digest = ECDSA_PLAIN_DIGESTS.get(info.signature_algorithm)
            if digest is None:
                raise ChipError(f"AA signature algorithm {info.signature_algorithm} is unknown")
            return HASH_ALGORITHMS[digest]()
    if curve.key_size > 384:
        return hashes.SHA512()
    return hashes.SHA384() if curve.key_size > 256 else hashes.SHA256()


def verify_ecdsa_plain(
    public: ec.EllipticCurvePublicKey,
    signature: bytes,
    message: bytes,
    algorithm: hashes.HashAlgorithm,
) -> bool:
    half = len(signature) // 2
    if not signature or len(signature) % 2 or half > (public.curve.key_size + 7) // 8:
        return False
    r = int.from_bytes(signature[:half], "big")
    s = int.from_bytes(signature[half:], "big")
    try:
        public.verify(encode_dss_signature(r, s), message, ec.ECDSA(algorithm))
    except (InvalidSignature, ValueError):
        return False
    return True


def perform_active_authentication(
    transport: Transport,
    sm: SecureMessaging | None,
    dg15_raw: bytes,
    dg14_raw: bytes | None,
    *,
    challenge: bytes | None = None,
) -> AaOutcome:
    """INTERNAL AUTHENTICATE and verification against DG15.

    Raises ChipError/CardRemovedError on transport or secure-messaging faults only;
    a refused or wrong signature is a failed outcome.
    """
    try:
        public = DataGroup15.parse(dg15_raw).public_key()
    except LdsError as exc:
        return AaOutcome("failed", f"DG15 key unusable: {exc}")
    challenge = challenge if challenge is not None else os.urandom(8)
    # Le 256 in short form: some chips return nothing to an extended Le of 65536.
    cmd = CommandApdu(0x00, 0x88, 0x00, 0x00, challenge, ne=256)
    if sm is not None:
        resp = sm.unprotect(transport.transmit(sm.protect(cmd).encode()))
    else:
        resp = ResponseApdu.decode(transport.transmit(cmd.encode()))
    if resp.sw != 0x9000 or not resp.data:
        return AaOutcome(
            "failed", f"INTERNAL AUTHENTICATE answered {resp.sw:04X}, {len(resp.data)} bytes"
        )
    if isinstance(public, rsa.RSAPublicKey):
        ok = verify_iso9796_2(public, resp.data, challenge)
        return AaOutcome("passed" if ok else "failed", "RSA ISO/IEC 9796-2")
    algorithm = aa_ecdsa_hash(dg14_raw, public.curve)
    ok = verify_ecdsa_plain(public, resp.data, challenge, algorithm)
    return AaOutcome("passed" if ok else "failed", f"ECDSA {algorithm.name}")
