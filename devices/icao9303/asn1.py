"""asn1crypto conventions shared by EF.SOD parsing (sod.py), kiosk.trust and the test PKI.

asn1crypto decodes lazily, so a hostile encoding can surface as any of
DECODE_ERRORS at first access; HASH_ALGORITHMS maps its digest names to the
hashes ICAO 9303-12 allows (SHA-1 and the SHA-2 family).
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes

DECODE_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    AttributeError,
    RecursionError,
)

HASH_ALGORITHMS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
