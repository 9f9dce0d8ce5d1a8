"""Clearance statistics from border events (pure functions, hand-checkable).

Definitions (docs/supervisor.md):
- a traveller is a finished transaction, outcome admitted or referred (aborted
  ones are counted apart); officer events (outcome "officer") are not travellers;
- throughput: travellers per clock hour (UTC) of their finishing time;
- clearance overall: the lane's transaction time (document placed to decision);
  per stage: from entering the stage to entering the next one (the last to the
  finishing time), for the processing stages below;
- median: the middle value (mean of the two middle ones); p90: nearest rank,
  the ceil(0.9 n)-th smallest value;
- self-service ratio: travellers the kiosk admitted without an officer, over
  all travellers; referral rate by reason: referred travellers giving that
  reason, over all travellers.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
            "officer_admitted": self.officer_admitted,
            "self_service_ratio": self.self_service_ratio,
            "throughput_per_hour": dict(self.per_hour),
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

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "group_by": self.group_by,
            "overall": self.overall.as_json(),
            "groups": {k: g.as_json() for k, g in sorted(self.groups.items())},
        }


def hours(start: datetime, end: datetime) -> list[str]:
    """Every clock hour (UTC, ISO) from start's hour up to end (exclusive)."""
    at = as_utc(start).replace(minute=0, second=0, microsecond=0)
    out = []
    while at < as_utc(end):
        out.append(at.isoformat())
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


def _add(g: GroupStats, e: Mapping[str, Any]) -> None:
    outcome = e["outcome"]
    if outcome == "officer":
        checks = e.get("checks") or {}
        if e.get("decision") == "admit" and checks.get("result") == "executed":
            g.officer_admitted += 1
        return
    if outcome == "aborted":
        g.aborted += 1
        return
    if outcome not in TRAVELLER_OUTCOMES:
        return
    g.travellers += 1
    hour = as_utc(e["finished_at"]).replace(minute=0, second=0, microsecond=0).isoformat()
    if hour in g.per_hour:
        g.per_hour[hour] += 1
    if outcome == "admitted":
        g.admitted += 1
    else:
        g.referred += 1
        g.reasons.update(set(e.get("reasons") or []))
    if e.get("transaction_ms") is not None:
        g.clearance_s.append(float(e["transaction_ms"]) / 1000.0)
    for stage, seconds in _stage_durations(e.get("stages") or {}, e["finished_at"]).items():
        g.stage_s[stage].append(seconds)


def compute_statistics(
    events: Iterable[Mapping[str, Any]], start: datetime, end: datetime, group_by: str = "port"
) -> Statistics:
    if group_by not in GROUPINGS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPINGS)}")
    if as_utc(end) <= as_utc(start):
        raise ValueError("the period ends before it starts")
    buckets = hours(start, end)

    def fresh() -> GroupStats:
        return GroupStats(per_hour=dict.fromkeys(buckets, 0))

    overall = fresh()
    groups: dict[str, GroupStats] = {}
    for e in events:
        finished = as_utc(e["finished_at"])
        if not as_utc(start) <= finished < as_utc(end):
            continue
        _add(overall, e)
        _add(groups.setdefault(group_key(e, group_by), fresh()), e)
    return Statistics(as_utc(start), as_utc(end), group_by, groups, overall)
