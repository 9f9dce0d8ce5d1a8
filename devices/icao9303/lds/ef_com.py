"""EF.COM: LDS version, Unicode version and the list of data groups (ICAO 9303-10 4.6.1)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from devices.icao9303.lds import LdsError
from devices.icao9303.tlv import encode_tlv, parse_single, read_tag

# ICAO 9303-10 table 34: data group number -> tag of its template.
DATA_GROUP_TAGS: dict[int, int] = {
    1: 0x61, 2: 0x75, 3: 0x63, 4: 0x76, 5: 0x65, 6: 0x66, 7: 0x67, 8: 0x68,
    9: 0x69, 10: 0x6A, 11: 0x6B, 12: 0x6C, 13: 0x6D, 14: 0x6E, 15: 0x6F, 16: 0x70,
}  # fmt: skip
DATA_GROUP_NUMBERS: dict[int, int] = {tag: number for number, tag in DATA_GROUP_TAGS.items()}
LDS_VERSION_TAG = 0x5F01
UNICODE_VERSION_TAG = 0x5F36
TAG_LIST_TAG = 0x5C


def parse_tag_list(value: bytes) -> tuple[int, ...]:
    tags = []
    offset = 0
    while offset < len(value):
        tag, offset = read_tag(value, offset)
        tags.append(tag)
    return tuple(tags)


@dataclass(frozen=True)
class EfCom:
    """EF.COM = 60 { 5F01 "aabb", 5F36 "aabbcc", 5C <data group tags> }."""

    TAG: ClassVar[int] = 0x60

    lds_version: str  # "0107" = LDS 1.7
    unicode_version: str  # "040000" = Unicode 4.0.0
    tags: tuple[int, ...]
    raw: bytes

    @property
    def data_groups(self) -> list[int]:
        """Numbers of the data groups listed (unknown tags are left out)."""
        return [DATA_GROUP_NUMBERS[t] for t in self.tags if t in DATA_GROUP_NUMBERS]

    @classmethod
    def parse(cls, raw: bytes) -> EfCom:
        outer = parse_single(raw, cls.TAG, allow_trailing=True)
        lds = outer.require(LDS_VERSION_TAG, "LDS version")
        uni = outer.require(UNICODE_VERSION_TAG, "Unicode version")
        tag_list = outer.require(TAG_LIST_TAG, "tag list")
        try:
            lds_version = lds.value.decode("ascii")
            unicode_version = uni.value.decode("ascii")
        except UnicodeDecodeError as exc:
            raise LdsError("EF.COM version fields are not ASCII digits") from exc
        if len(lds_version) != 4 or not lds_version.isdigit():
            raise LdsError(f"EF.COM LDS version {lds_version!r} is not 4 digits")
        if len(unicode_version) != 6 or not unicode_version.isdigit():
            raise LdsError(f"EF.COM Unicode version {unicode_version!r} is not 6 digits")
        return cls(lds_version, unicode_version, parse_tag_list(tag_list.value), bytes(raw))

    @classmethod
    def build(
        cls,
        data_groups: Iterable[int],
        *,
        lds_version: str = "0107",
        unicode_version: str = "040000",
    ) -> EfCom:
        numbers = sorted(set(data_groups))
        for n in numbers:
            if n not in DATA_GROUP_TAGS:
                raise LdsError(f"data group {n} does not exist (1..16)")
        tags = tuple(DATA_GROUP_TAGS[n] for n in numbers)
        body = (
            encode_tlv(LDS_VERSION_TAG, lds_version.encode("ascii"))
            + encode_tlv(UNICODE_VERSION_TAG, unicode_version.encode("ascii"))
            + encode_tlv(TAG_LIST_TAG, bytes(tags))
        )
        return cls.parse(encode_tlv(cls.TAG, body))

    def encode(self) -> bytes:
        return self.raw

    def to_json(self) -> dict[str, Any]:
        return {
            "lds_version": f"{int(self.lds_version[:2])}.{int(self.lds_version[2:])}",
            "unicode_version": self.unicode_version,
            "data_groups": self.data_groups,
        }
