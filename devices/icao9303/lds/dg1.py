"""EF.DG1: the MRZ data as printed on the data page (ICAO 9303-10 4.7.1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from devices.icao9303.lds import LdsError
from devices.icao9303.mrz import Mrz
from devices.icao9303.tlv import encode_tlv, parse_single

MRZ_TAG = 0x5F1F


@dataclass(frozen=True)
class DataGroup1:
    """DG1 = 61 { 5F1F <MRZ characters, lines concatenated> }."""

    TAG: ClassVar[int] = 0x61

    mrz: Mrz
    raw: bytes

    @classmethod
    def parse(cls, raw: bytes, *, today: date | None = None) -> DataGroup1:
        """Parse DG1 and verify every MRZ check digit; raises LdsError (MrzError)."""
        outer = parse_single(raw, cls.TAG, allow_trailing=True)
        element = outer.require(MRZ_TAG, "MRZ")
        try:
            text = element.value.decode("ascii")
        except UnicodeDecodeError as exc:
            raise LdsError("DG1 MRZ contains non-ASCII bytes") from exc
        if len(text) not in (88, 72, 90):
            raise LdsError(
                f"DG1 MRZ has {len(text)} characters, not 88 (TD3), 72 (TD2) or 90 (TD1)"
            )
        return cls(Mrz.parse(text, today=today), bytes(raw))

    @classmethod
    def build(cls, mrz: Mrz) -> DataGroup1:
        return cls(mrz, cls.encode_text("".join(mrz.lines())))

    @classmethod
    def encode_text(cls, mrz_text: str) -> bytes:
        """DG1 bytes around MRZ characters as given (no checks: for deliberate defects)."""
        return encode_tlv(cls.TAG, encode_tlv(MRZ_TAG, mrz_text.encode("ascii")))

    def encode(self) -> bytes:
        return self.raw

    def to_json(self) -> dict[str, Any]:
        return self.mrz.to_json()
