"""The case: the facts one decision is made on (public contract, docs/policy.md).

Parsing is strict about shape and types so that a caller's mistake surfaces as a
CaseError naming the field, never as an admission. Facts that are legitimately
unknown (an absent onward journey, an unknown birth date) are None and the
engine refers on them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, Literal

from policy.codes import BASES
from policy.errors import CaseError
from policy.states import normalise_state

_IATA: Final = re.compile(r"^[A-Z]{3}\Z")
_YEARS: Final = (1900, 2200)

CASE_KEYS: Final = (
    "now",
    "port",
    "direction",
    "document",
    "checks",
    "journey",
    "visa",
    "reference_data",
    "entry_record",
    "case_id",
)


@dataclass(frozen=True)
class Document:
    document_code: str
    issuing_state: str
    nationality: str
    document_number: str
    birth_date: date | None
    sex: str
    expiry_date: date | None


@dataclass(frozen=True)
class Checks:
    """None means "not performed"; chip_genuine None means the chip offers neither
    chip authentication nor active authentication (so there is nothing to fail)."""

    chip_read: bool
    document_authentic: bool | None
    chip_genuine: bool | None
    face_match: bool | None
    liveness: bool | None
    watchlist_hit: bool | None


@dataclass(frozen=True)
class Onward:
    destination: str | None
    departure_time: datetime
    departure_port: str | None
    confirmed: bool
    flight: str | None
    source: str | None
    # A boarding pass counts only when verified (its carrier's signature, a key
    # the border distributes); absent = false (docs/policy.md "Onward journey").
    verified: bool = False


@dataclass(frozen=True)
class Journey:
    arrived_from: str | None
    onward: Onward | None


@dataclass(frozen=True)
class Visa:
    valid_from: date
    valid_until: date


@dataclass(frozen=True)
class EntryRecord:
    entry_time: datetime
    port: str | None
    basis: str | None
    permitted_until: datetime | None


@dataclass(frozen=True)
class Case:
    now: datetime
    port: str
    direction: Literal["entry", "exit"]
    document: Document
    checks: Checks
    journey: Journey
    visa: Visa | None
    reference_age_hours: float | None
    entry_record: EntryRecord | None
    case_id: str | None


def _table(value: Any, field: str, known: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise CaseError(field, f"expected an object, got {type(value).__name__}")
    for key in value:
        if key not in known:
            raise CaseError(f"{field}.{key}" if field else str(key), "unknown field")
    return value


def _datetime(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise CaseError(field, f"expected an ISO 8601 date-time string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CaseError(field, f"{value!r} is not an ISO 8601 date-time") from exc
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise CaseError(field, f"{value!r} has no UTC offset (write e.g. +08:00)")
    if not _YEARS[0] <= parsed.year <= _YEARS[1]:
        # Far-off instants would overflow the stay arithmetic; no real check has them.
        raise CaseError(field, f"{value!r} is outside the years {_YEARS[0]}-{_YEARS[1]}")
    return parsed


def _date(value: Any, field: str, *, nullable: bool = False) -> date | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise CaseError(field, f"expected a date YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CaseError(field, f"{value!r} is not a calendar date") from exc


def _str(value: Any, field: str, *, nullable: bool = False) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise CaseError(field, f"expected a string, got {value!r}")
    return value


def _state(value: Any, field: str, *, nullable: bool = False) -> str | None:
    text = _str(value, field, nullable=nullable)
    if text is None:
        return None
    try:
        return normalise_state(text)
    except ValueError as exc:
        raise CaseError(field, str(exc)) from exc


def _port(value: Any, field: str, *, nullable: bool = False) -> str | None:
    text = _str(value, field, nullable=nullable)
    if text is None:
        return None
    if not _IATA.match(text):
        raise CaseError(field, f"{text!r} is not a three-letter IATA airport code")
    return text


def _bool(value: Any, field: str, *, nullable: bool) -> bool | None:
    if value is None and nullable:
        return None
    if not isinstance(value, bool):
        raise CaseError(
            field, f"expected true or false{' or null' if nullable else ''}, got {value!r}"
        )
    return value


def _document(value: Any) -> Document:
    t = _table(
        value,
        "document",
        (
            "document_code",
            "issuing_state",
            "nationality",
            "document_number",
            "birth_date",
            "sex",
            "expiry_date",
        ),
    )
    for key in ("document_code", "issuing_state", "nationality", "document_number"):
        if key not in t:
            raise CaseError(f"document.{key}", "is required")
    code = _str(t["document_code"], "document.document_code")
    assert code is not None
    code = code.strip().rstrip("<")
    if not re.fullmatch(r"[A-Z][A-Z]?", code):
        raise CaseError("document.document_code", f"{code!r} is not an ICAO 9303 document code")
    number = _str(t["document_number"], "document.document_number")
    assert number is not None
    if not re.fullmatch(r"[A-Z0-9<]{1,35}", number):
        raise CaseError("document.document_number", f"{number!r} is not an MRZ document number")
    issuing = _state(t["issuing_state"], "document.issuing_state")
    nationality = _state(t["nationality"], "document.nationality")
    assert issuing is not None and nationality is not None
    return Document(
        document_code=code,
        issuing_state=issuing,
        nationality=nationality,
        document_number=number.rstrip("<"),
        birth_date=_date(t.get("birth_date"), "document.birth_date", nullable=True),
        sex=_str(t.get("sex", "<"), "document.sex") or "<",
        expiry_date=_date(t.get("expiry_date"), "document.expiry_date", nullable=True),
    )


def _checks(value: Any) -> Checks:
    known = (
        "chip_read",
        "document_authentic",
        "chip_genuine",
        "face_match",
        "liveness",
        "watchlist_hit",
    )
    t = _table(value, "checks", known)
    chip_read = _bool(t.get("chip_read", True), "checks.chip_read", nullable=False)
    assert chip_read is not None
    return Checks(
        chip_read=chip_read,
        document_authentic=_bool(
            t.get("document_authentic"), "checks.document_authentic", nullable=True
        ),
        chip_genuine=_bool(t.get("chip_genuine"), "checks.chip_genuine", nullable=True),
        face_match=_bool(t.get("face_match"), "checks.face_match", nullable=True),
        liveness=_bool(t.get("liveness"), "checks.liveness", nullable=True),
        watchlist_hit=_bool(t.get("watchlist_hit"), "checks.watchlist_hit", nullable=True),
    )


def _onward(value: Any) -> Onward | None:
    if value is None:
        return None
    t = _table(
        value,
        "journey.onward",
        ("destination", "departure_time", "departure_port", "confirmed", "flight", "source",
         "verified"),
    )
    if "departure_time" not in t:
        raise CaseError("journey.onward.departure_time", "is required")
    confirmed = _bool(t.get("confirmed", False), "journey.onward.confirmed", nullable=False)
    assert confirmed is not None
    verified = _bool(t.get("verified", False), "journey.onward.verified", nullable=False)
    return Onward(
        destination=_state(t.get("destination"), "journey.onward.destination", nullable=True),
        departure_time=_datetime(t["departure_time"], "journey.onward.departure_time"),
        departure_port=_port(
            t.get("departure_port"), "journey.onward.departure_port", nullable=True
        ),
        confirmed=confirmed,
        flight=_str(t.get("flight"), "journey.onward.flight", nullable=True),
        source=_str(t.get("source"), "journey.onward.source", nullable=True),
        verified=bool(verified),
    )


def _journey(value: Any) -> Journey:
    if value is None:
        return Journey(arrived_from=None, onward=None)
    t = _table(value, "journey", ("arrived_from", "onward"))
    return Journey(
        arrived_from=_state(t.get("arrived_from"), "journey.arrived_from", nullable=True),
        onward=_onward(t.get("onward")),
    )


def _visa(value: Any) -> Visa | None:
    if value is None:
        return None
    t = _table(value, "visa", ("valid_from", "valid_until", "kind", "number"))
    start = _date(t.get("valid_from"), "visa.valid_from")
    end = _date(t.get("valid_until"), "visa.valid_until")
    assert start is not None and end is not None
    if end < start:
        raise CaseError("visa.valid_until", f"{end} is before valid_from {start}")
    return Visa(valid_from=start, valid_until=end)


def _reference_age(value: Any) -> float | None:
    """None: not given (not checked). `{"age_hours": null}`: the kiosk has never
    confirmed its reference data with the border database, which is infinitely stale."""
    if value is None:
        return None
    t = _table(value, "reference_data", ("age_hours",))
    if "age_hours" in t and t["age_hours"] is None:
        return math.inf
    age = t.get("age_hours")
    if isinstance(age, bool) or not isinstance(age, int | float) or not 0 <= age < math.inf:
        raise CaseError("reference_data.age_hours", f"expected hours >= 0 or null, got {age!r}")
    try:
        return float(age)
    except OverflowError as exc:  # an integer with hundreds of digits
        raise CaseError("reference_data.age_hours", "too large a number of hours") from exc


def _entry_record(value: Any) -> EntryRecord | None:
    if value is None:
        return None
    t = _table(value, "entry_record", ("entry_time", "port", "basis", "permitted_until"))
    basis = _str(t.get("basis"), "entry_record.basis", nullable=True)
    if basis is not None and basis not in BASES:
        raise CaseError("entry_record.basis", f"{basis!r} is not one of {', '.join(BASES)}")
    until = t.get("permitted_until")
    return EntryRecord(
        entry_time=_datetime(t.get("entry_time"), "entry_record.entry_time"),
        port=_port(t.get("port"), "entry_record.port", nullable=True),
        basis=basis,
        permitted_until=None if until is None else _datetime(until, "entry_record.permitted_until"),
    )


def parse_case(data: Any) -> Case:
    """Validate a case (a JSON object) and return its typed form; raise CaseError."""
    t = _table(data, "", CASE_KEYS)
    for key in ("now", "port", "direction", "document", "checks"):
        if key not in t:
            raise CaseError(key, "is required")
    direction = t["direction"]
    if direction not in ("entry", "exit"):
        raise CaseError("direction", f"expected 'entry' or 'exit', got {direction!r}")
    port = _port(t["port"], "port")
    assert port is not None
    return Case(
        now=_datetime(t["now"], "now"),
        port=port,
        direction="entry" if direction == "entry" else "exit",
        document=_document(t["document"]),
        checks=_checks(t["checks"]),
        journey=_journey(t.get("journey")),
        visa=_visa(t.get("visa")),
        reference_age_hours=_reference_age(t.get("reference_data")),
        entry_record=_entry_record(t.get("entry_record")),
        case_id=_str(t.get("case_id"), "case_id", nullable=True),
    )
