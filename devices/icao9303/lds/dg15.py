"""EF.DG15: the active authentication public key (ICAO 9303-10 4.7.15, 9303-11 6.1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from devices.icao9303.lds.spki import PublicKeyInfo
from devices.icao9303.tlv import encode_tlv, parse_single


@dataclass(frozen=True)
class DataGroup15:
    """DG15 = 6F { SubjectPublicKeyInfo } (RSA for ISO/IEC 9796-2 AA, or EC for ECDSA AA)."""

    TAG: ClassVar[int] = 0x6F

    public_key_info: PublicKeyInfo
    raw: bytes

    @classmethod
    def parse(cls, raw: bytes) -> DataGroup15:
        outer = parse_single(raw, cls.TAG, allow_trailing=True)
        return cls(PublicKeyInfo.parse(outer.value), bytes(raw))

    @classmethod
    def build(cls, public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> DataGroup15:
        spki = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        return cls(PublicKeyInfo.parse(spki), encode_tlv(cls.TAG, spki))

    def public_key(self) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
        """The key as a `cryptography` object; LdsError when it is of an unsupported kind."""
        return self.public_key_info.to_cryptography()

    def encode(self) -> bytes:
        return self.raw

    def to_json(self) -> dict[str, Any]:
        return {"public_key": self.public_key_info.to_json()}
