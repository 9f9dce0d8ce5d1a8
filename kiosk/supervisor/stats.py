"""Clearance statistics from border events (pure functions, hand-checkable).

Definitions (docs/supervisor.md):
- a traveller is a finished transaction, outcome admitted or referred (aborted
  ones are counted apart); officer events (outcome "officer") are not travellers;
- times are shown in the port's time zone (the report's --tz): hours and days
  are local clock hours and local dates of the finishing time;
- throughput: travellers per clock hour of their finishing time;
- clearance overall: the lane's transaction time (document placed to decision);
  per stage: from entering the stage to entering the next one (the last to the
  finishing time), for the processing stages below;
- median: the middle value (mean of the two middle ones); p90: nearest rank,
  the ceil(0.9 n)-th smallest value;
- self-service ratio: travellers the kiosk admitted without an officer, over
  all travellers; referral rate by reason: referred travellers giving that
  reason, over all travellers; per day: the same ratio per local date;
- aborted transactions (no decision) are counted apart, by their error code
  (the text before ":" in the event's error); a walk-away is an aborted
  transaction the traveller left (codes in WALK_AWAY);
- reasons are text: anything else in an event (a number, a list) is counted
  as INVALID_REASON instead of failing the report (issue 19 item 6).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from kiosk.clock import as_utc

STAGES = (
    "reading_chip",
    "verifying_document",
    "capturing_face",
    "scanning_boarding_pass",
    "deciding",
)
GROUPINGS = ("all", "port", "lane", "kiosk")
TRAVELLER_OUTCOMES = ("admitted", "referred")
# Aborted transactions where the traveller went away: cancelled on the lane, a
# step's inactivity timeout, the passport left behind on the reader.
WALK_AWAY = ("cancelled", "timeout", "document_left")
INVALID_REASON = "(invalid reason)"
UNKNOWN_ABORT = "unknown"


def text_reasons(value: object) -> list[str]:
    """An event's reasons as strings (a hostile or broken row may hold anything)."""
    if not isinstance(value, list | tuple):
        return [INVALID_REASON] if value else []
    return [r if isinstance(r, str) and r.isprintable() else INVALID_REASON for r in value]


def abort_code(error: object) -> str:
    if not isinstance(error, str) or not error.strip():
        return UNKNOWN_ABORT
    code = error.split(":", 1)[0].strip()
    return code if code.replace("_", "").isalnum() and len(code) <= 40 else UNKNOWN_ABORT


def median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[math.ceil(0.9 * len(ordered)) - 1])


@dataclass
class GroupStats:
    travellers: int = 0
    admitted: int = 0
    referred: int = 0
    aborted: int = 0
    officer_admitted: int = 0
    per_hour: dict[str, int] = field(default_factory=dict)
    clearance_s: list[float] = field(default_factory=list)
    stage_s: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    reasons: Counter[str] = field(default_factory=Counter)
    aborted_by: Counter[str] = field(default_factory=Counter)
    # local date (ISO) -> [travellers, admitted without an officer]
    per_day: dict[str, list[int]] = field(default_factory=dict)

    @property
    def walk_aways(self) -> int:
        return sum(n for code, n in self.aborted_by.items() if code in WALK_AWAY)

    def self_service_per_day(self) -> dict[str, float | None]:
        return {d: (a / t if t else None) for d, (t, a) in sorted(self.per_day.items())}

    @property
    def self_service_ratio(self) -> float | None:
        return self.admitted / self.travellers if self.travellers else None

    def referral_rate(self) -> dict[str, float]:
        if not self.travellers:
            return {}
        return {r: n / self.travellers for r, n in sorted(self.reasons.items())}

    def clearance(self) -> dict[str, dict[str, float | None]]:
        out = {
            "overall": {
                "median_s": median(self.clearance_s),
                "p90_s": p90(self.clearance_s),
                "n": float(len(self.clearance_s)),
            }
        }
        for stage in STAGES:
            values = self.stage_s.get(stage, [])
            if values:
                out[stage] = {
                    "median_s": median(values),
                    "p90_s": p90(values),
                    "n": float(len(values)),
                }
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "travellers": self.travellers,
            "admitted": self.admitted,
            "referred": self.referred,
            "aborted": self.aborted,
            "aborted_by": dict(sorted(self.aborted_by.items())),
            "walk_aways": self.walk_aways,
            "officer_admitted": self.officer_admitted,
            "self_service_ratio": self.self_service_ratio,
            "throughput_per_hour": dict(self.per_hour),
            "self_service_per_day": self.self_service_per_day(),
            "clearance": self.clearance(),
            "referral_rate": self.referral_rate(),
        }


@dataclass
class Statistics:
    start: datetime
    end: datetime
    group_by: str
    groups: dict[str, GroupStats]
    overall: GroupStats
    tz: tzinfo = UTC
    tz_name: str = "UTC"
    port: str = "all ports"

    def local(self, at: datetime) -> datetime:
        return as_utc(at).astimezone(self.tz)

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.local(self.start).isoformat(),
            "to": self.local(self.end).isoformat(),
            "time_zone": self.tz_name,
            "port": self.port,
            "group_by": self.group_by,
            "overall": self.overall.as_json(),
            "groups": {k: g.as_json() for k, g in sorted(self.groups.items())},
        }


def hour_key(at: datetime, tz: tzinfo = UTC) -> str:
    """The clock hour `at` falls in, as local ISO time (UTC hours: a zone with a
    half-hour offset still gets whole-hour buckets of real time)."""
    return as_utc(at).replace(minute=0, second=0, microsecond=0).astimezone(tz).isoformat()


def hours(start: datetime, end: datetime, tz: tzinfo = UTC) -> list[str]:
    """Every clock hour (local ISO) from start's hour up to end (exclusive)."""
    at = as_utc(start).replace(minute=0, second=0, microsecond=0)
    out = []
    while at < as_utc(end):
        out.append(at.astimezone(tz).isoformat())
        at += timedelta(hours=1)
    return out


def group_key(event: Mapping[str, Any], group_by: str) -> str:
    if group_by == "kiosk":
        return str(event["kiosk_id"])
    if group_by == "lane":
        return f"{event['port']} lane {event['lane']}"
    if group_by == "port":
        return str(event["port"])
    return "all"


def _stage_durations(stages: Mapping[str, Any], finished: datetime) -> dict[str, float]:
    stamps = []
    for name, iso in stages.items():
        try:
            stamps.append((as_utc(datetime.fromisoformat(str(iso))), name))
        except ValueError:
            continue
    stamps.sort()
    out: dict[str, float] = {}
    for i, (at, name) in enumerate(stamps):
        if name not in STAGES:
            continue
        until = stamps[i + 1][0] if i + 1 < len(stamps) else as_utc(finished)
        out[name] = max(0.0, (until - at).total_seconds())
    return out


@dataclass(frozen=True)
class _Counted:
    """What one event adds to a group, worked out once (it is added to the overall
    figures and to its group's)."""

    outcome: str
    officer_admit: bool = False
    abort: str = ""
    hour: str = ""
    day: str = ""
    reasons: frozenset[str] = frozenset()
    clearance_s: float | None = None
    stages: tuple[tuple[str, float], ...] = ()


@lru_cache(maxsize=8192)
def _local_hour_and_day(utc_hour: datetime, tz: tzinfo) -> tuple[str, str]:
    """hour_key and the local date of a UTC clock hour (a month has some 720: each
    worked out once, not once per event)."""
    local = utc_hour.astimezone(tz)
    return local.isoformat(), local.date().isoformat()


def _count(e: Mapping[str, Any], tz: tzinfo) -> _Counted | None:
    outcome = e["outcome"]
    if outcome == "officer":
        checks = e.get("checks") or {}
        executed = e.get("decision") == "admit" and checks.get("result") == "executed"
        return _Counted(outcome, officer_admit=executed)
    if outcome == "aborted":
        return _Counted(outcome, abort=abort_code(e.get("error")))
    if outcome not in TRAVELLER_OUTCOMES:
        return None
    finished = as_utc(e["finished_at"])
    ms = e.get("transaction_ms")
    clearance = float(ms) / 1000.0 if (
        isinstance(ms, int | float) and math.isfinite(ms) and ms >= 0
    ) else None  # fmt: skip
    stages = e.get("stages")
    stages = stages if isinstance(stages, Mapping) else {}
    hour, day = _local_hour_and_day(finished.replace(minute=0, second=0, microsecond=0), tz)
    return _Counted(
        outcome,
        hour=hour,
        day=day,
        reasons=frozenset(text_reasons(e.get("reasons"))) if outcome != "admitted" else frozenset(),
        clearance_s=clearance,
        stages=tuple(_stage_durations(stages, finished).items()),
    )


def _add(g: GroupStats, c: _Counted) -> None:
    if c.outcome == "officer":
        g.officer_admitted += c.officer_admit
        return
    if c.outcome == "aborted":
        g.aborted += 1
        g.aborted_by[c.abort] += 1
        return
    g.travellers += 1
    if c.hour in g.per_hour:
        g.per_hour[c.hour] += 1
    day = g.per_day.setdefault(c.day, [0, 0])
    day[0] += 1
    if c.outcome == "admitted":
        g.admitted += 1
        day[1] += 1
    else:
        g.referred += 1
        g.reasons.update(c.reasons)
    if c.clearance_s is not None:
        g.clearance_s.append(c.clearance_s)
    for stage, seconds in c.stages:
        g.stage_s[stage].append(seconds)


def compute_statistics(
    events: Iterable[Mapping[str, Any]],
    start: datetime,
    end: datetime,
    group_by: str = "port",
    tz: tzinfo = UTC,
    tz_name: str | None = None,
    port: str | None = None,
) -> Statistics:
    if group_by not in GROUPINGS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPINGS)}")
    if as_utc(end) <= as_utc(start):
        raise ValueError("the period ends before it starts")
    buckets = hours(start, end, tz)

    def fresh() -> GroupStats:
        return GroupStats(per_hour=dict.fromkeys(buckets, 0))

    overall = fresh()
    groups: dict[str, GroupStats] = {}
    first, last = as_utc(start), as_utc(end)
    for e in events:
        if not first <= as_utc(e["finished_at"]) < last:
            continue
        counted = _count(e, tz)
        if counted is None:
            continue
        key = group_key(e, group_by)
        if key not in groups:  # not setdefault: a fresh group holds every hour of the period
            groups[key] = fresh()
        _add(overall, counted)
        _add(groups[key], counted)
    return Statistics(as_utc(start), as_utc(end), group_by, groups, overall, tz,
                      tz_name or str(tz), port or "all ports")
