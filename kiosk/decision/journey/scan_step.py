"""The lane's boarding-pass step: watch the camera for a BCBP barcode and turn it
into the policy case's journey object."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from devices.protocols import Camera
from kiosk.decision.journey.barcode import BoardingPassScanner
from kiosk.decision.journey.carrier_keys import KeySource
from kiosk.decision.journey.resolver import JourneyResolver, TravellerRef

SLICE_S = 0.25  # how often the traveller's "no boarding pass" is noticed


def scan_boarding_pass(
    facts: TravellerRef,
    camera: Camera,
    budget_s: float,
    skipped: Callable[[], bool],
    now: datetime,
    monotonic: Callable[[], float] = time.monotonic,
    carrier_keys: KeySource | None = None,
) -> Mapping[str, Any] | None:
    """The journey from the first well-formed boarding pass seen within budget_s,
    or None (nothing shown, traveller skipped, or the pass is in another name)."""
    scanner = BoardingPassScanner(camera, monotonic)
    deadline = monotonic() + budget_s
    while not skipped():
        remaining = deadline - monotonic()
        if remaining <= 0:
            return None
        found = scanner.scan(min(SLICE_S, remaining))
        if found is not None:
            resolver = JourneyResolver(carrier_keys=carrier_keys)
            resolver.offer_boarding_pass(found)
            return resolver(facts, now)
    return None
