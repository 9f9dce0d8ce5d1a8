"""EF.DG14: SecurityInfos for chip authentication, PACE and AA (ICAO 9303-10 4.7.14)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from devices.icao9303.lds.security_infos import SecurityInfo, SecurityInfos
from devices.icao9303.tlv import encode_tlv, parse_single


@dataclass(frozen=True)
class DataGroup14:
    """DG14 = 6E { SecurityInfos }."""

    TAG: ClassVar[int] = 0x6E

    security_infos: SecurityInfos
    raw: bytes

    @classmethod
    def parse(cls, raw: bytes) -> DataGroup14:
        outer = parse_single(raw, cls.TAG, allow_trailing=True)
        return cls(SecurityInfos.parse(outer.value), bytes(raw))

    @classmethod
    def build(cls, infos: list[SecurityInfo] | SecurityInfos) -> DataGroup14:
        security = infos if isinstance(infos, SecurityInfos) else SecurityInfos.of(infos)
        return cls(security, encode_tlv(cls.TAG, security.encode()))

    def encode(self) -> bytes:
        return self.raw

    def to_json(self) -> dict[str, Any]:
        return {"security_infos": self.security_infos.to_json()}
