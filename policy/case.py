"""The case: the facts one decision is made on (public contract, docs/policy.md).

Parsing is strict about shape and types so that a caller's mistake surfaces as a
CaseError naming the field, never as an admission. Facts that are legitimately
unknown (an absent onward journey, an unknown birth date) are None and the
engine refers on them.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Final, Literal, TypeVar

import msgspec

from policy.codes import BASES
from policy.errors import CaseError
from policy.schema_errors import key_and_problem
from policy.states import normalise_state

_YEARS: Final = (1900, 2200)


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


# The wire form: the case format as a msgspec schema. Types, unknown keys, required
# keys and closed sets are checked by msgspec (strict: no string coercion); what a
# value means (a state code, an ISO 8601 instant, a visa's order) is
# checked below when the typed Case is built. Instants stay strings in the schema:
# the documented format is ISO 8601 (datetime.fromisoformat), which allows forms
# RFC 3339 (msgspec's datetime) does not, such as "2026-03-05T20:00+08:00".
class _Wire(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An object of the case; an unknown key is an error (a typo must not drop a fact)."""


_Port = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Z]{3}\Z", description="a three-letter IATA airport code")
]


class _DocumentIn(_Wire, frozen=True):
    document_code: str
    issuing_state: str
    nationality: str
    document_number: Annotated[
        str, msgspec.Meta(pattern=r"^[A-Z0-9<]{1,35}\Z", description="an MRZ document number")
    ]
    birth_date: date | None = None
    sex: str = "<"
    expiry_date: date | None = None


class _ChecksIn(_Wire, frozen=True):
    chip_read: bool = True
    document_authentic: bool | None = None
    chip_genuine: bool | None = None
    face_match: bool | None = None
    liveness: bool | None = None
    watchlist_hit: bool | None = None


class _OnwardIn(_Wire, frozen=True):
    departure_time: str
    destination: str | None = None
    departure_port: _Port | None = None
    confirmed: bool = False
    flight: str | None = None
    source: str | None = None
    verified: bool = False


class _JourneyIn(_Wire, frozen=True):
    arrived_from: str | None = None
    onward: _OnwardIn | None = None


class _VisaIn(_Wire, frozen=True):
    valid_from: date
    valid_until: date
    kind: Any = None  # documentation for the reader; not decided on
    number: Any = None


class _ReferenceDataIn(_Wire, frozen=True):
    # Hours since the kiosk last confirmed its reference data with the border
    # database; null: never, which is infinitely stale.
    age_hours: Annotated[float, msgspec.Meta(ge=0, le=sys.float_info.max)] | None


class _EntryRecordIn(_Wire, frozen=True):
    entry_time: str
    port: _Port | None = None
    basis: str | None = None
    permitted_until: str | None = None


class _CaseIn(_Wire, frozen=True):
    now: str
    port: _Port
    direction: Literal["entry", "exit"]
    document: _DocumentIn
    checks: _ChecksIn
    journey: _JourneyIn | None = None
    visa: _VisaIn | None = None
    reference_data: _ReferenceDataIn | None = None
    entry_record: _EntryRecordIn | None = None
    case_id: str | None = None


_W = TypeVar("_W", bound=_Wire)

CASE_KEYS: Final = _CaseIn.__struct_fields__  # the top-level keys of the case format


def _instant(value: str, field: str) -> datetime:
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


def _state(value: str, field: str) -> str:
    try:
        return normalise_state(value)
    except ValueError as exc:
        raise CaseError(field, str(exc)) from exc


def _document(d: _DocumentIn) -> Document:
    code = d.document_code.strip().rstrip("<")
    if not re.fullmatch(r"[A-Z][A-Z]?", code):
        raise CaseError("document.document_code", f"{code!r} is not an ICAO 9303 document code")
    return Document(
        document_code=code,
        issuing_state=_state(d.issuing_state, "document.issuing_state"),
        nationality=_state(d.nationality, "document.nationality"),
        document_number=d.document_number.rstrip("<"),
        birth_date=d.birth_date,
        sex=d.sex or "<",
        expiry_date=d.expiry_date,
    )


def _journey(j: _JourneyIn | None) -> Journey:
    if j is None:
        return Journey(arrived_from=None, onward=None)
    o = j.onward
    onward = None
    if o is not None:
        onward = Onward(
            destination=None
            if o.destination is None
            else _state(o.destination, "journey.onward.destination"),
            departure_time=_instant(o.departure_time, "journey.onward.departure_time"),
            departure_port=o.departure_port,
            confirmed=o.confirmed,
            flight=o.flight,
            source=o.source,
            verified=o.verified,
        )
    return Journey(
        arrived_from=None
        if j.arrived_from is None
        else _state(j.arrived_from, "journey.arrived_from"),
        onward=onward,
    )


def _visa(v: _VisaIn | None) -> Visa | None:
    if v is None:
        return None
    if v.valid_until < v.valid_from:
        raise CaseError("visa.valid_until", f"{v.valid_until} is before valid_from {v.valid_from}")
    return Visa(valid_from=v.valid_from, valid_until=v.valid_until)


def _entry_record(e: _EntryRecordIn | None) -> EntryRecord | None:
    if e is None:
        return None
    if e.basis is not None and e.basis not in BASES:
        raise CaseError("entry_record.basis", f"{e.basis!r} is not one of {', '.join(BASES)}")
    until = e.permitted_until
    return EntryRecord(
        entry_time=_instant(e.entry_time, "entry_record.entry_time"),
        port=e.port,
        basis=e.basis,
        permitted_until=None if until is None else _instant(until, "entry_record.permitted_until"),
    )


def _wire_part(data: Any, schema: type[_W], prefix: str) -> _W:
    try:
        return msgspec.convert(data, schema, strict=True)
    except msgspec.ValidationError as exc:
        key, problem = key_and_problem(exc, data, schema)
        raise CaseError(f"{prefix}.{key}" if key else prefix, problem) from exc


# The parts of a case the lane receives from outside the process (DG1, the journey
# resolver, the border database) pass the same schema as a whole case: a lane-built
# case holds nothing `parse_case` would refuse.
def parse_document(data: Mapping[str, Any]) -> Document:
    """A case's `document` object (DG1's fields; dates as date objects or ISO text)."""
    return _document(_wire_part(dict(data), _DocumentIn, "document"))


def parse_journey(data: Mapping[str, Any] | None) -> Journey:
    """A case's `journey` object; None or empty: no journey known."""
    return _journey(_wire_part(dict(data), _JourneyIn, "journey") if data else None)


def parse_entry_record(data: Mapping[str, Any] | None) -> EntryRecord | None:
    """A case's `entry_record` object; None: no record."""
    if data is None:
        return None
    return _entry_record(_wire_part(dict(data), _EntryRecordIn, "entry_record"))


def parse_case(data: Any) -> Case:
    """Validate a case (a JSON object) and return its typed form; raise CaseError."""
    try:
        wire = msgspec.convert(data, _CaseIn, strict=True)
    except msgspec.ValidationError as exc:
        raise CaseError(*key_and_problem(exc, data, _CaseIn)) from exc
    ref = wire.reference_data
    return Case(
        now=_instant(wire.now, "now"),
        port=wire.port,
        direction=wire.direction,
        document=_document(wire.document),
        checks=Checks(**msgspec.structs.asdict(wire.checks)),
        journey=_journey(wire.journey),
        visa=_visa(wire.visa),
        # None: not given (not checked); age_hours null: never confirmed.
        reference_age_hours=None
        if ref is None
        else math.inf
        if ref.age_hours is None
        else ref.age_hours,
        entry_record=_entry_record(wire.entry_record),
        case_id=wire.case_id,
    )
