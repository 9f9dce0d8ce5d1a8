"""The wall clock a QA scenario runs at: pinned, never the machine's.

A verdict that depends on the time of day (the 240-hour transit stay counts from
00:00 of the day after entry at the port) must not depend on when the suite runs:
each scenario pins the wall clock to its `clock:` instant (DEFAULT_CLOCK without
one) and the lane, the policy, the simulated passports and the advance passenger
information all read it. Wall time then advances with real (monotonic) seconds, so
timeouts and the seconds a scenario waits still pass as they would at a kiosk.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from kiosk.lane.facts import PORT_TIMEZONE

# Midday at the port, far from the midnight the transit stay counts from, on a day
# the shipped packs are in force. Fixed: the same for every run on every machine.
DEFAULT_CLOCK = datetime(2026, 3, 10, 12, 0, tzinfo=PORT_TIMEZONE)


class PinnedClock:
    """kiosk.clock.Clock whose wall time starts at the pinned instant."""

    def __init__(self, at: datetime = DEFAULT_CLOCK) -> None:
        self._lock = threading.Lock()
        self._at = at
        self._from = time.monotonic()
        self.pin(at)

    def pin(self, at: datetime) -> None:
        if at.tzinfo is None:  # a naive instant is a different moment in every zone
            raise ValueError(f"clock {at.isoformat()} has no UTC offset")
        with self._lock:
            self._at, self._from = at.astimezone(UTC), time.monotonic()

    def now(self) -> datetime:
        with self._lock:
            at, since = self._at, self._from
        return at + timedelta(seconds=time.monotonic() - since)

    def monotonic(self) -> float:
        return time.monotonic()
