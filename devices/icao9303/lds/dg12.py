"""EF.DG12: additional document details (ICAO 9303-10 4.7.12)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, ClassVar

from devices.icao9303.lds import LdsError
from devices.icao9303.lds._details import FieldSpec, decode_fields, encode_fields

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
        known = {f.name for f in fields(cls)} - {"raw"}
        unknown = set(values) - known
        if unknown:
            raise LdsError(f"DG12 has no field(s) {sorted(unknown)}")
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
        text = self.date_of_issue or ""
        if len(text) == 8 and text.isdigit():
            try:
                return date(int(text[:4]), int(text[4:6]), int(text[6:]))
            except ValueError:
                return None
        return None

    def encode(self) -> bytes:
        return self.raw

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "raw" or value in (None, ()):
                continue
            out[f.name] = f"{len(value)} bytes" if isinstance(value, bytes) else value
        if isinstance(out.get("other_persons"), tuple):
            out["other_persons"] = list(out["other_persons"])
        return out
