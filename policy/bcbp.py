"""IATA Bar Coded Boarding Pass (BCBP, IATA Resolution 792) parsing.

Layout of the "M" format: a 23-character header (format code, number of legs,
passenger name, electronic-ticket indicator), then per leg 35 characters of
mandatory items and a variable-size field whose length is given in hex; the
first leg's variable field opens with the version number and the conditional
items unique to the pass; every leg's carries its repeated conditional items and
airline-private data. Security data ('^') may follow the last leg: its type
(one character), its length (two hex digits) and the carrier's signature over
everything before the '^' (`signed_text`). Parsing checks only the layout;
whether the signature is a carrier's is the kiosk's question (kiosk/decision/journey/
carrier_keys.py). Only the items the kiosk needs are interpreted; the rest is
kept as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from policy.errors import BcbpError

_HEADER_LEN: Final = 23
_LEG_LEN: Final = 37  # 35 mandatory characters + 2 hex digits of variable size
_UNASSIGNED_SEATS: Final = frozenset({"", "INF", "STBY", "GATE", "NSAT", "NS", "STB"})
_SEAT: Final = re.compile(r"^0*[0-9]{1,3}[A-Z]\Z")
_AIRPORT: Final = re.compile(r"^[A-Z]{3}\Z")
_FLIGHT: Final = re.compile(r"^[0-9]{1,4}[A-Z ]?\Z")


@dataclass(frozen=True)
class BcbpLeg:
    """One flight segment of a boarding pass."""

    pnr: str
    from_airport: str
    to_airport: str
    carrier: str
    flight_number: str
    day_of_year: int  # Julian date of the flight, 1..366, no year
    compartment: str
    seat: str
    check_in_sequence: str
    passenger_status: str
    marketing_carrier: str | None = None
    airline_numeric_code: str | None = None
    document_serial: str | None = None

    @property
    def flight(self) -> str:
        """Carrier and flight number as printed, e.g. 'AC834'."""
        number = self.flight_number.lstrip("0") or "0"
        return f"{self.carrier}{number}"

    @property
    def seat_assigned(self) -> bool:
        """A numbered seat is assigned (IATA: confirmed date and seat)."""
        return self.seat.upper() not in _UNASSIGNED_SEATS and bool(_SEAT.match(self.seat))

    def flight_date(self, reference: date) -> date:
        """The calendar date of the flight nearest to `reference`.

        BCBP carries no year; a pass is used within days of its flight, so the
        occurrence of the day-of-year closest to the reference date is taken.
        """
        return julian_to_date(self.day_of_year, reference)


@dataclass(frozen=True)
class BoardingPass:
    format_code: str
    passenger_name: str
    electronic_ticket: bool
    legs: tuple[BcbpLeg, ...]
    version: int | None
    issue_date: str | None  # YDDD as encoded (last digit of year + day of year)
    document_type: str | None  # 'B' boarding pass, 'I' itinerary receipt
    security_data: str | None
    raw: str
    security_type: str | None = None
    signed_text: str = ""  # the mandatory and conditional items the security data signs

    @property
    def surname(self) -> str:
        return self.passenger_name.split("/", 1)[0].strip()

    @property
    def given_names(self) -> str:
        parts = self.passenger_name.split("/", 1)
        return parts[1].strip() if len(parts) > 1 else ""


def julian_to_date(day_of_year: int, reference: date) -> date:
    """The date with this day-of-year closest to `reference` (in its year or a neighbour)."""
    if not 1 <= day_of_year <= 366:
        raise BcbpError(f"day of year {day_of_year} is outside 1..366")
    candidates: list[date] = []
    for year in (reference.year - 1, reference.year, reference.year + 1):
        if not 1 <= year < 9999:
            continue
        start = date(year, 1, 1)
        candidate = start + timedelta(days=day_of_year - 1)
        if candidate.year == year:  # day 366 exists only in leap years
            candidates.append(candidate)
    if not candidates:
        raise BcbpError(f"day of year 366 is in no year near {reference.year}")
    return min(candidates, key=lambda d: (abs((d - reference).days), d))


class _Cursor:
    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.pos = 0
        self.what = what

    def take(self, n: int, item: str) -> str:
        if self.pos + n > len(self.text):
            raise BcbpError(
                f"{self.what}: {item} needs {n} characters at offset {self.pos}, "
                f"only {len(self.text) - self.pos} left"
            )
        out = self.text[self.pos : self.pos + n]
        self.pos += n
        return out

    def hex_size(self, item: str) -> int:
        raw = self.take(2, item)
        try:
            return int(raw, 16)
        except ValueError:
            raise BcbpError(f"{self.what}: {item} {raw!r} is not two hex digits") from None

    @property
    def rest(self) -> int:
        return len(self.text) - self.pos


def _optional(block: str, start: int, length: int) -> str | None:
    """A conditional item: absent when the block ends before it, None when blank."""
    if len(block) < start + length:
        return None
    value = block[start : start + length].strip()
    return value or None


def _mandatory_leg(c: _Cursor, index: int) -> tuple[dict[str, str], int]:
    what = f"leg {index + 1}"
    fields = {
        "pnr": c.take(7, f"{what} PNR code").strip(),
        "from_airport": c.take(3, f"{what} from-airport").strip(),
        "to_airport": c.take(3, f"{what} to-airport").strip(),
        "carrier": c.take(3, f"{what} operating carrier").strip(),
        "flight_number": c.take(5, f"{what} flight number").strip(),
        "date": c.take(3, f"{what} date of flight"),
        "compartment": c.take(1, f"{what} compartment code").strip(),
        "seat": c.take(4, f"{what} seat number").strip(),
        "check_in_sequence": c.take(5, f"{what} check-in sequence number").strip(),
        "passenger_status": c.take(1, f"{what} passenger status"),
    }
    for key in ("from_airport", "to_airport"):
        if not _AIRPORT.match(fields[key]):
            raise BcbpError(f"{what}: {key} {fields[key]!r} is not an IATA airport code")
    if not re.fullmatch(r"[A-Z0-9]{2,3}", fields["carrier"]):
        raise BcbpError(f"{what}: carrier {fields['carrier']!r} is not an airline designator")
    if not _FLIGHT.match(fields["flight_number"]):
        raise BcbpError(f"{what}: flight number {fields['flight_number']!r} is malformed")
    if not re.fullmatch(r"[0-9]{3}", fields["date"]) or not 1 <= int(fields["date"]) <= 366:
        raise BcbpError(f"{what}: date of flight {fields['date']!r} is not a day of year 001-366")
    size = c.hex_size(f"{what} variable field size")
    return fields, size


def parse_bcbp(text: str) -> BoardingPass:
    """Parse an IATA BCBP 'M' string; raise BcbpError on anything malformed."""
    if not isinstance(text, str):
        raise BcbpError("a boarding pass must be text")
    raw = text.rstrip("\r\n")
    if not raw.isascii() or not raw.isprintable():
        raise BcbpError("a BCBP string is printable ASCII")
    c = _Cursor(raw, "header")
    fmt = c.take(1, "format code")
    if fmt != "M":
        raise BcbpError(f"format code {fmt!r} is not 'M' (multiple-leg BCBP)")
    legs_char = c.take(1, "number of legs encoded")
    if not legs_char.isdigit() or not 1 <= int(legs_char) <= 4:
        raise BcbpError(f"number of legs {legs_char!r} is not 1-4")
    name = c.take(20, "passenger name").strip()
    if not name:
        raise BcbpError("passenger name is empty")
    eticket = c.take(1, "electronic ticket indicator")

    legs: list[BcbpLeg] = []
    version: int | None = None
    issue_date: str | None = None
    doc_type: str | None = None
    for i in range(int(legs_char)):
        c.what = f"leg {i + 1}"
        fields, size = _mandatory_leg(c, i)
        variable = c.take(size, "variable-size field")
        v = _Cursor(variable, f"leg {i + 1} conditional items")
        if i == 0 and v.rest and variable[0] == ">":
            v.take(1, "beginning of version number")
            ver = v.take(1, "version number")
            if not ver.isdigit():
                raise BcbpError(f"version number {ver!r} is not a digit")
            version = int(ver)
            unique = v.take(v.hex_size("unique conditional size"), "unique conditional items")
            issue_date = _optional(unique, 3, 4)
            doc_type = _optional(unique, 7, 1)
        repeated = ""
        if v.rest >= 2:
            repeated = v.take(v.hex_size("repeated conditional size"), "repeated items")
        legs.append(
            BcbpLeg(
                pnr=fields["pnr"],
                from_airport=fields["from_airport"],
                to_airport=fields["to_airport"],
                carrier=fields["carrier"],
                flight_number=fields["flight_number"],
                day_of_year=int(fields["date"]),
                compartment=fields["compartment"],
                seat=fields["seat"],
                check_in_sequence=fields["check_in_sequence"],
                passenger_status=fields["passenger_status"],
                airline_numeric_code=_optional(repeated, 0, 3),
                document_serial=_optional(repeated, 3, 10),
                marketing_carrier=_optional(repeated, 15, 3),
            )
        )
    security: str | None = None
    security_type: str | None = None
    signed_end = c.pos
    if c.rest and not raw[c.pos :].strip():
        c.pos = len(raw)  # some airlines pad the symbol with spaces
    if c.rest:
        c.what = "security data"
        marker = c.take(1, "beginning of security data")
        if marker != "^":
            raise BcbpError(
                f"unexpected {marker!r} after the last leg at offset {c.pos - 1} "
                "(a leg's variable-size field is wrong, or trailing data)"
            )
        security_type = c.take(1, "type of security data")
        security = c.take(c.hex_size("length of security data"), "security data")
        if c.rest:
            raise BcbpError(f"{c.rest} unexpected characters after the security data")
    return BoardingPass(
        format_code=fmt,
        passenger_name=name,
        electronic_ticket=eticket == "E",
        legs=tuple(legs),
        version=version,
        issue_date=issue_date,
        document_type=doc_type,
        security_data=security,
        raw=raw,
        security_type=security_type,
        signed_text=raw[:signed_end],
    )
