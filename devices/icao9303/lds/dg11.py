"""EF.DG11: additional personal details (ICAO 9303-10 4.7.11)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any, ClassVar

from devices.icao9303.lds._details import (
    FieldSpec,
    check_known,
    decode_fields,
    details_json,
    encode_fields,
    yyyymmdd,
)

OTHER_NAME_TAG = 0x5F0F
_SPECS: tuple[FieldSpec, ...] = (
    (0x5F0E, "full_name", "text"),
    (0x5F10, "personal_number", "text"),
    (0x5F2B, "full_date_of_birth", "text"),
    (0x5F11, "place_of_birth", "text"),
    (0x5F42, "permanent_address", "text"),
    (0x5F12, "telephone", "text"),
    (0x5F13, "profession", "text"),
    (0x5F14, "title", "text"),
    (0x5F15, "personal_summary", "text"),
    (0x5F16, "proof_of_citizenship", "bytes"),
    (0x5F17, "other_valid_td_numbers", "text"),
    (0x5F18, "custody_information", "text"),
)


@dataclass(frozen=True)
class DataGroup11:
    """DG11 = 6B { 5C <tag list>, 5F0E full name, A0 {02 n, 5F0F other name...}, ... }.

    Multi-part fields (place of birth, address) separate their parts with '<' as
    ICAO prescribes; `full_date_of_birth` is YYYYMMDD as stored.
    """

    TAG: ClassVar[int] = 0x6B

    full_name: str | None = None
    other_names: tuple[str, ...] = ()
    personal_number: str | None = None
    full_date_of_birth: str | None = None
    place_of_birth: str | None = None
    permanent_address: str | None = None
    telephone: str | None = None
    profession: str | None = None
    title: str | None = None
    personal_summary: str | None = None
    proof_of_citizenship: bytes | None = None
    other_valid_td_numbers: str | None = None
    custody_information: str | None = None
    raw: bytes = b""

    @classmethod
    def parse(cls, raw: bytes) -> DataGroup11:
        values, others = decode_fields(raw, cls.TAG, _SPECS, OTHER_NAME_TAG, "DG11")
        return cls(other_names=others, raw=bytes(raw), **values)

    @classmethod
    def build(cls, **values: Any) -> DataGroup11:
        """Fields by attribute name; a `date` is accepted for full_date_of_birth."""
        check_known(values, (f.name for f in fields(cls) if f.name != "raw"), "DG11")
        birth = values.get("full_date_of_birth")
        if isinstance(birth, date):
            values["full_date_of_birth"] = birth.strftime("%Y%m%d")
        others = tuple(values.pop("other_names", ()) or ())
        raw = encode_fields(cls.TAG, _SPECS, values, OTHER_NAME_TAG, others, 0)
        return cls.parse(raw)

    def birth_date(self) -> date | None:
        """The full date of birth when it is a complete YYYYMMDD date."""
        return yyyymmdd(self.full_date_of_birth)

    def encode(self) -> bytes:
        return self.raw

    def to_json(self) -> dict[str, Any]:
        return details_json(self)
