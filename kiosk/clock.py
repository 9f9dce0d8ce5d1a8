"""Injected clocks: the workflow never reads the system time itself."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


def as_utc(at: datetime) -> datetime:
    """Aware UTC time. SQLite hands back naive datetimes, which this project
    always writes as UTC, so a naive value is taken to be UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware wall-clock time (for time stamps and the policy's 'now')."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin (for timeouts and durations)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds
