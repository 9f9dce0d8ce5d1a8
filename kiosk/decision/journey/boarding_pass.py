"""From a parsed boarding pass (IATA BCBP) to the onward journey.

The onward leg is the first leg leaving the home state for abroad on or after
the date of the check; the leg arriving into the home state before it, if the
pass carries one (a through check-in), tells where the traveller came from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timezone

from kiosk.decision.journey.carrier_keys import Verification
from kiosk.decision.journey.model import OnwardJourney
from policy.airports import AirportTable
from policy.bcbp import BcbpLeg, BoardingPass
from policy.errors import BcbpError

_LETTERS = re.compile(r"[^A-Z]")


def names_agree(bcbp_name: str, mrz_surname: str) -> bool:
    """Whether a pass's surname can be the passport's.

    BCBP truncates names to 20 characters and airlines drop spaces, hyphens and
    apostrophes, so letters are compared and a truncated surname is a prefix.
    """
    bp = _LETTERS.sub("", bcbp_name.split("/", 1)[0].upper())
    mrz = _LETTERS.sub("", mrz_surname.upper())
    if len(bp) < 2 or len(mrz) < 2:
        return False
    return mrz.startswith(bp) if len(bp) < len(mrz) else bp == mrz


def _state(airports: AirportTable, code: str) -> str | None:
    return airports.state_of(code)


def journey_from_boarding_pass(
    bp: BoardingPass,
    airports: AirportTable,
    *,
    home_state: str,
    today: date,
    tz: timezone,
    verify: Callable[[BoardingPass, BcbpLeg], Verification] | None = None,
) -> OnwardJourney | None:
    """The onward journey the pass shows, or None if it shows no departure abroad.
    `verified` only when `verify` finds the carrier's signature for the onward leg."""
    dated: list[tuple[date, BcbpLeg]] = []
    for leg in bp.legs:
        try:
            dated.append((leg.flight_date(today), leg))
        except BcbpError:  # day 366 with no leap year near today: not a usable date
            continue
    onward: tuple[date, BcbpLeg] | None = None
    for day, leg in dated:
        leaves_home = _state(airports, leg.from_airport) == home_state
        goes_abroad = _state(airports, leg.to_airport) != home_state
        if leaves_home and goes_abroad and day >= today:
            onward = (day, leg)
            break
    if onward is None:
        return None
    day, leg = onward
    arrived_from: str | None = None
    for other_day, other in dated:
        if other_day > day:
            break
        origin = _state(airports, other.from_airport)
        if _state(airports, other.to_airport) == home_state and origin not in (None, home_state):
            arrived_from = origin
    return OnwardJourney(
        destination=_state(airports, leg.to_airport),
        departure_time=datetime.combine(day, time(23, 59), tzinfo=tz),
        departure_port=leg.from_airport,
        confirmed=leg.seat_assigned,
        flight=leg.flight,
        source="boarding_pass",
        arrived_from=arrived_from,
        verified=verify(bp, leg).verified if verify is not None else False,
    )
