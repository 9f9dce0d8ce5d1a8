"""Policy packs: dated reference data that says which rules apply where.

A pack is TOML text (see docs/policy.md for every key). Validation is strict:
unknown keys, wrong types, malformed codes and inconsistent dates are errors
that name the key, because a pack that is half-understood must never decide.
"""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Final, Literal

from policy.codes import TRANSIT_BASES
from policy.errors import PackError
from policy.states import normalise_state

Counting = Literal["next_day_midnight", "from_entry"]
COUNTING_RULES: Final[tuple[str, ...]] = ("next_day_midnight", "from_entry")
SCHEMA_VERSION: Final = 1

_ID: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}\Z")
_VERSION: Final = re.compile(r"^[0-9]+(\.[0-9]+){0,3}\Z")
_IATA: Final = re.compile(r"^[A-Z]{3}\Z")
_OFFSET: Final = re.compile(r"^([+-])([0-9]{2}):([0-9]{2})\Z")


@dataclass(frozen=True)
class EligibilityGroup:
    """Nationalities eligible for a transit exemption from a date (inclusive)."""

    nationalities: frozenset[str]
    valid_from: date
    valid_until: date | None
    source: str

    def covers(self, nationality: str, day: date) -> bool:
        return (
            nationality in self.nationalities
            and self.valid_from <= day
            and (self.valid_until is None or day <= self.valid_until)
        )


@dataclass(frozen=True)
class TransitRule:
    """A transit visa exemption (72/144/240 hours) at designated ports."""

    basis: str
    stay_hours: int
    counting: Counting
    counting_confirmed: bool
    entry_ports: frozenset[str]
    departure_ports: frozenset[str]
    stay_area: str
    separate_regions: frozenset[str]
    eligible: tuple[EligibilityGroup, ...]

    def eligibility(self, nationality: str, day: date) -> EligibilityGroup | None:
        for group in self.eligible:
            if group.covers(nationality, day):
                return group
        return None

    def ever_eligible(self, nationality: str) -> EligibilityGroup | None:
        for group in self.eligible:
            if nationality in group.nationalities:
                return group
        return None


@dataclass(frozen=True)
class VisaExemption:
    """A mutual or unilateral visa-exemption arrangement with its own dates."""

    name: str
    kind: Literal["mutual", "unilateral"]
    nationalities: frozenset[str]
    valid_from: date
    valid_until: date | None
    stay_days: int
    counting: Counting
    source: str

    def covers(self, nationality: str, day: date) -> bool:
        return (
            nationality in self.nationalities
            and self.valid_from <= day
            and (self.valid_until is None or day <= self.valid_until)
        )


@dataclass(frozen=True)
class LaneRules:
    """The lane's own rules (not national law): who the e-gate may handle."""

    home_state: str
    citizen_nationalities: frozenset[str]
    minimum_age_years: int
    document_codes: tuple[str, ...]
    reference_max_age_hours: float


@dataclass(frozen=True)
class PolicyPack:
    id: str
    version: str
    title: str
    effective_from: date
    effective_until: date | None  # inclusive; None = open-ended
    utc_offset: timedelta
    ports: frozenset[str]
    area: str
    sources: tuple[str, ...]
    notes: tuple[str, ...]
    lane: LaneRules
    transit: TransitRule | None
    visa_exemptions: tuple[VisaExemption, ...]
    sha256: str
    origin: str

    @property
    def tz(self) -> timezone:
        return timezone(self.utc_offset)

    @property
    def version_key(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.version.split("."))

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_until is None or day <= self.effective_until
        )

    def summary(self) -> dict[str, Any]:
        """JSON-safe description for listings (`egate policy packs`)."""
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "effective_from": self.effective_from.isoformat(),
            "effective_until": (self.effective_until.isoformat() if self.effective_until else None),
            "ports": sorted(self.ports),
            "transit": (
                {
                    "basis": self.transit.basis,
                    "stay_hours": self.transit.stay_hours,
                    "entry_ports": sorted(self.transit.entry_ports),
                }
                if self.transit
                else None
            ),
            "visa_exemptions": len(self.visa_exemptions),
            "origin": self.origin,
            "sha256": self.sha256,
        }


class _Table:
    """A TOML table read with strict key and type checks."""

    def __init__(self, origin: str, path: str, data: Any, known: Iterable[str]) -> None:
        self.origin = origin
        self.path = path
        if not isinstance(data, Mapping):
            raise PackError(origin, path or "(top level)", "expected a table")
        self.data: Mapping[str, Any] = data
        known_set = set(known)
        for key in data:
            if key not in known_set:
                raise PackError(
                    origin, self.key(key), f"unknown key (known: {', '.join(sorted(known_set))})"
                )

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, problem: str) -> PackError:
        return PackError(self.origin, self.key(name), problem)

    def has(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str) -> Any:
        if name not in self.data:
            raise self.fail(name, "is required")
        return self.data[name]

    def str_(self, name: str, default: str | None = None, *, empty: bool = False) -> str:
        if name not in self.data and default is not None:
            return default
        value = self.raw(name)
        if not isinstance(value, str) or (not empty and not value.strip()):
            raise self.fail(name, f"expected a non-empty string, got {value!r}")
        return value

    def int_(self, name: str, *, minimum: int, maximum: int = 10_000) -> int:
        value = self.raw(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(name, f"expected an integer >= {minimum}, got {value!r}")
        if value > maximum:
            raise self.fail(name, f"{value} is more than the plausible maximum {maximum}")
        return value

    def float_(self, name: str, *, positive: bool = True) -> float:
        value = self.raw(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(name, f"expected a number, got {value!r}")
        if not math.isfinite(value):  # a NaN limit would never be exceeded
            raise self.fail(name, f"expected a finite number, got {value!r}")
        if positive and value <= 0:
            raise self.fail(name, f"must be positive, got {value!r}")
        return float(value)

    def bool_(self, name: str, default: bool) -> bool:
        if name not in self.data:
            return default
        value = self.data[name]
        if not isinstance(value, bool):
            raise self.fail(name, f"expected true or false, got {value!r}")
        return value

    def date_(self, name: str, *, optional: bool = False) -> date | None:
        if optional and name not in self.data:
            return None
        value = self.raw(name)
        # tomllib gives datetime for date-times; a pack speaks in whole days.
        if isinstance(value, datetime) or not isinstance(value, date):
            raise self.fail(name, f"expected a TOML date such as 2024-12-17, got {value!r}")
        return value

    def strings(self, name: str, *, default: tuple[str, ...] | None = None) -> tuple[str, ...]:
        if name not in self.data and default is not None:
            return default
        value = self.raw(name)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(name, f"expected a list of strings, got {value!r}")
        return tuple(value)

    def states(self, name: str, *, allow_empty: bool = False) -> frozenset[str]:
        values = self.strings(name)
        if not values and not allow_empty:
            raise self.fail(name, "must not be empty")
        out: list[str] = []
        for v in values:
            try:
                out.append(normalise_state(v))
            except ValueError as exc:
                raise self.fail(name, str(exc)) from exc
        dupes = sorted({c for c in out if out.count(c) > 1})
        if dupes:
            raise self.fail(name, f"lists {', '.join(dupes)} more than once")
        return frozenset(out)

    def airports(self, name: str) -> frozenset[str]:
        values = self.strings(name)
        if not values:
            raise self.fail(name, "must not be empty")
        for v in values:
            if not _IATA.match(v):
                raise self.fail(name, f"{v!r} is not a three-letter IATA airport code")
        return frozenset(values)

    def tables(self, name: str) -> list[Any]:
        if name not in self.data:
            return []
        value = self.data[name]
        if not isinstance(value, list):
            raise self.fail(name, "expected an array of tables ([[...]])")
        return value

    def counting(self, name: str, default: Counting) -> Counting:
        value = self.str_(name, default)
        if value == "next_day_midnight":
            return "next_day_midnight"
        if value == "from_entry":
            return "from_entry"
        raise self.fail(name, f"{value!r} is not one of {', '.join(COUNTING_RULES)}")


def _check_range(t: _Table, start: date, end: date | None, end_key: str) -> None:
    if end is not None and end < start:
        raise t.fail(end_key, f"{end} is before the start date {start}")


def _parse_offset(t: _Table) -> timedelta:
    text = t.str_("utc_offset")
    m = _OFFSET.match(text)
    if not m:
        raise t.fail("utc_offset", f"expected +HH:MM, got {text!r}")
    sign = -1 if m.group(1) == "-" else 1
    hours, minutes = int(m.group(2)), int(m.group(3))
    if hours > 14 or minutes >= 60:
        raise t.fail("utc_offset", f"{text!r} is not a real UTC offset")
    return sign * timedelta(hours=hours, minutes=minutes)


def _parse_lane(origin: str, data: Any) -> LaneRules:
    t = _Table(
        origin,
        "lane",
        data,
        (
            "home_state",
            "citizen_nationalities",
            "minimum_age_years",
            "document_codes",
            "reference_max_age_hours",
        ),
    )
    codes = t.strings("document_codes")
    if not codes or not all(re.fullmatch(r"[A-Z][A-Z<]?", c) for c in codes):
        raise t.fail("document_codes", f"expected ICAO document codes such as 'P', got {codes!r}")
    try:
        home = normalise_state(t.str_("home_state"))
    except ValueError as exc:
        raise t.fail("home_state", str(exc)) from exc
    return LaneRules(
        home_state=home,
        citizen_nationalities=t.states("citizen_nationalities"),
        minimum_age_years=t.int_("minimum_age_years", minimum=0, maximum=120),
        document_codes=codes,
        reference_max_age_hours=t.float_("reference_max_age_hours"),
    )


def _parse_transit(origin: str, data: Any, home: str) -> TransitRule:
    t = _Table(
        origin,
        "transit",
        data,
        (
            "basis",
            "stay_hours",
            "counting",
            "counting_confirmed",
            "entry_ports",
            "departure_ports",
            "stay_area",
            "separate_regions",
            "eligible",
        ),
    )
    basis = t.str_("basis")
    if basis not in TRANSIT_BASES:
        raise t.fail("basis", f"{basis!r} is not one of {', '.join(TRANSIT_BASES)}")
    hours = t.int_("stay_hours", minimum=1, maximum=24 * 366)
    if basis != f"transit_{hours}h":
        raise t.fail("stay_hours", f"{hours} does not match basis {basis!r}")
    regions = t.states("separate_regions", allow_empty=True)
    if home in regions:
        raise t.fail("separate_regions", f"must not contain the home state {home}")
    groups: list[EligibilityGroup] = []
    raw_groups = t.tables("eligible")
    if not raw_groups:
        raise t.fail("eligible", "at least one [[transit.eligible]] group is required")
    for i, raw in enumerate(raw_groups):
        g = _Table(
            origin, f"transit.eligible[{i}]", raw, ("from", "until", "nationalities", "source")
        )
        start = g.date_("from")
        assert start is not None
        end = g.date_("until", optional=True)
        _check_range(g, start, end, "until")
        nats = g.states("nationalities")
        if home in nats:
            raise g.fail("nationalities", f"must not contain the home state {home}")
        groups.append(EligibilityGroup(nats, start, end, g.str_("source", "")))
    return TransitRule(
        basis=basis,
        stay_hours=hours,
        counting=t.counting("counting", "next_day_midnight"),
        counting_confirmed=t.bool_("counting_confirmed", False),
        entry_ports=t.airports("entry_ports"),
        departure_ports=t.airports("departure_ports"),
        stay_area=t.str_("stay_area"),
        separate_regions=regions,
        eligible=tuple(groups),
    )


def _parse_exemption(origin: str, index: int, data: Any) -> VisaExemption:
    t = _Table(
        origin,
        f"visa_exemptions[{index}]",
        data,
        ("name", "kind", "nationalities", "from", "until", "stay_days", "counting", "source"),
    )
    kind = t.str_("kind")
    if kind not in ("mutual", "unilateral"):
        raise t.fail("kind", f"{kind!r} is not 'mutual' or 'unilateral'")
    start = t.date_("from")
    assert start is not None
    end = t.date_("until", optional=True)
    _check_range(t, start, end, "until")
    return VisaExemption(
        name=t.str_("name"),
        kind="mutual" if kind == "mutual" else "unilateral",
        nationalities=t.states("nationalities"),
        valid_from=start,
        valid_until=end,
        stay_days=t.int_("stay_days", minimum=1, maximum=3660),
        counting=t.counting("counting", "next_day_midnight"),
        source=t.str_("source"),
    )


def parse_pack(text: str | bytes, origin: str = "<pack>") -> PolicyPack:
    """Parse and validate a pack; raise PackError naming the key on any problem."""
    raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PackError(origin, "", f"not UTF-8 text ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PackError(origin, "", f"not valid TOML ({exc})") from exc
    top = _Table(origin, "", data, ("schema", "pack", "lane", "transit", "visa_exemptions"))
    schema = top.int_("schema", minimum=1, maximum=1_000)
    if schema != SCHEMA_VERSION:
        raise top.fail("schema", f"version {schema} is not supported (this engine reads 1)")
    p = _Table(
        origin,
        "pack",
        top.raw("pack"),
        (
            "id",
            "version",
            "title",
            "effective_from",
            "effective_until",
            "utc_offset",
            "ports",
            "area",
            "sources",
            "notes",
        ),
    )
    pack_id = p.str_("id")
    if not _ID.match(pack_id):
        raise p.fail("id", f"{pack_id!r} must be lower-case letters, digits, '.', '_' or '-'")
    version = p.str_("version")
    if not _VERSION.match(version):
        raise p.fail("version", f"{version!r} must be dotted numbers such as 1.2")
    start = p.date_("effective_from")
    assert start is not None
    end = p.date_("effective_until", optional=True)
    _check_range(p, start, end, "effective_until")
    sources = p.strings("sources")
    if not sources:
        raise p.fail("sources", "a pack must cite at least one source")
    lane = _parse_lane(origin, top.raw("lane"))
    transit = (
        _parse_transit(origin, top.raw("transit"), lane.home_state) if top.has("transit") else None
    )
    exemptions = tuple(
        _parse_exemption(origin, i, raw) for i, raw in enumerate(top.tables("visa_exemptions"))
    )
    for ex in exemptions:
        if lane.home_state in ex.nationalities:
            raise PackError(origin, f"visa_exemptions ({ex.name})", "lists the home state")
    return PolicyPack(
        id=pack_id,
        version=version,
        title=p.str_("title"),
        effective_from=start,
        effective_until=end,
        utc_offset=_parse_offset(p),
        ports=p.airports("ports"),
        area=p.str_("area"),
        sources=sources,
        notes=p.strings("notes", default=()),
        lane=lane,
        transit=transit,
        visa_exemptions=exemptions,
        sha256=hashlib.sha256(raw).hexdigest(),
        origin=origin,
    )


def select_pack(packs: Iterable[PolicyPack], port: str, now: datetime) -> PolicyPack | None:
    """The pack in force at `port` at `now` (on the pack's local date).

    Among several, the latest effective_from wins, then the highest version.
    """
    candidates = [p for p in packs if port in p.ports and p.in_force(now.astimezone(p.tz).date())]
    if not candidates:
        return None
    return max(candidates, key=lambda p: (p.effective_from, p.version_key, p.id))
