"""EF.DG12: additional document details (ICAO 9303-10 4.7.12)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, ClassVar

from devices.icao9303.lds._details import (
    FieldSpec,
    check_known,
    decode_fields,
    details_json,
    encode_fields,
    yyyymmdd,
)

OTHER_PERSON_TAG = 0x5F1A
_SPECS: tuple[FieldSpec, ...] = (
    (0x5F19, "issuing_authority", "text"),
    (0x5F26, "date_of_issue", "text"),
    (0x5F1B, "endorsements", "text"),
    (0x5F1C, "tax_exit_requirements", "text"),
    (0x5F1D, "image_of_front", "bytes"),
    (0x5F1E, "image_of_rear", "bytes"),
    (0x5F55, "personalization_time", "text"),
    (0x5F56, "personalization_device_serial", "text"),
)


@dataclass(frozen=True)
class DataGroup12:
    """DG12 = 6C { 5C <tag list>, 5F19 issuing authority, 5F26 date of issue, ... }."""

    TAG: ClassVar[int] = 0x6C

    issuing_authority: str | None = None
    date_of_issue: str | None = None  # YYYYMMDD
    other_persons: tuple[str, ...] = ()
    endorsements: str | None = None
    tax_exit_requirements: str | None = None
    image_of_front: bytes | None = None
    image_of_rear: bytes | None = None
    personalization_time: str | None = None  # YYYYMMDDhhmmss
    personalization_device_serial: str | None = None
    raw: bytes = b""

    @classmethod
    def parse(cls, raw: bytes) -> DataGroup12:
        values, others = decode_fields(raw, cls.TAG, _SPECS, OTHER_PERSON_TAG, "DG12")
        return cls(other_persons=others, raw=bytes(raw), **values)

    @classmethod
    def build(cls, **values: Any) -> DataGroup12:
        """Fields by attribute name; `date`/`datetime` values are formatted as ICAO asks."""
        check_known(values, (f.name for f in fields(cls) if f.name != "raw"), "DG12")
        issued = values.get("date_of_issue")
        if isinstance(issued, date):
            values["date_of_issue"] = issued.strftime("%Y%m%d")
        personalized = values.get("personalization_time")
        if isinstance(personalized, datetime):
            values["personalization_time"] = personalized.strftime("%Y%m%d%H%M%S")
        others = tuple(values.pop("other_persons", ()) or ())
        raw = encode_fields(cls.TAG, _SPECS, values, OTHER_PERSON_TAG, others, 1)
        return cls.parse(raw)

    def issue_date(self) -> date | None:
        return yyyymmdd(self.date_of_issue)

    def encode(self) -> bytes:
        return self.raw

    def to_json(self) -> dict[str, Any]:
        return details_json(self)
