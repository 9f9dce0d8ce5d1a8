"""Where the lane gets the onward journey: API first, else the boarding pass shown.

When neither gives one, the policy refers with no_onward_journey for any transit
basis; the notes say which source was tried and why it gave nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from kiosk.decision.journey.api import ApiSource
from kiosk.decision.journey.boarding_pass import journey_from_boarding_pass, names_agree
from kiosk.decision.journey.carrier_keys import KeySource, Verification, verify_boarding_pass
from kiosk.decision.journey.model import OnwardJourney
from policy.airports import AirportTable
from policy.bcbp import BcbpLeg, BoardingPass, parse_bcbp
from policy.shipped import shipped_airports

log = logging.getLogger(__name__)

CHINA_TIME = timezone(timedelta(hours=8))


class TravellerRef(Protocol):
    """What the resolver needs from the document facts (DG1)."""

    @property
    def document_number(self) -> str: ...

    @property
    def surname(self) -> str: ...


# A lookup that already answers in the case's `journey` shape, called with the
# document facts and the time of the check (the border database's API source).
CaseJourneyLookup = Callable[[Any, datetime], Mapping[str, Any] | None]


@dataclass(frozen=True)
class ResolvedJourney:
    journey: OnwardJourney | None
    notes: tuple[str, ...]
    arrived_from: str | None = None  # known even when no onward journey is

    def case_journey(self) -> dict[str, Any] | None:
        """The case's `journey` object, or None when nothing at all is known."""
        if self.journey is not None:
            return self.journey.case_journey(self.arrived_from)
        if self.arrived_from is not None:
            return {"arrived_from": self.arrived_from, "onward": None}
        return None


class JourneyResolver:
    """Combines advance passenger information and a boarding pass offered at the kiosk.

    Callable as the lane's journey lookup: `resolver(facts, now)` returns the
    case's `journey` object, or None when nothing is known. API sources: an
    `ApiSource` (returns OnwardJourney) and/or a `case_lookup` answering in the
    case's journey shape; the first onward journey found wins, then the pass.
    """

    def __init__(
        self,
        api: ApiSource | None = None,
        airports: AirportTable | None = None,
        *,
        case_lookup: CaseJourneyLookup | None = None,
        home_state: str = "CHN",
        tz: timezone = CHINA_TIME,
        carrier_keys: KeySource | None = None,
    ) -> None:
        self._carrier_keys = carrier_keys
        self._api = api
        self._case_lookup = case_lookup
        self._airports = airports if airports is not None else shipped_airports()
        self._home = home_state
        self._tz = tz
        self._boarding_pass: BoardingPass | None = None

    def offer_boarding_pass(self, bp: BoardingPass | str) -> BoardingPass:
        """Remember the pass scanned for the current traveller (BcbpError if malformed)."""
        parsed = parse_bcbp(bp) if isinstance(bp, str) else bp
        self._boarding_pass = parsed
        return parsed

    def clear(self) -> None:
        """Forget the boarding pass (between travellers)."""
        self._boarding_pass = None

    def _from_api(
        self, facts: TravellerRef, now: datetime, notes: list[str]
    ) -> OnwardJourney | None:
        if self._api is None:
            return None
        try:
            found = self._api.lookup(facts.document_number, now.astimezone(self._tz).date())
        except Exception as exc:  # the border database may be down; fall back
            log.warning("API lookup failed: %s", exc)
            notes.append(f"API lookup failed ({type(exc).__name__}).")
            return None
        if found is None:
            notes.append("No advance passenger information for this document.")
        return found

    def _from_case_lookup(
        self, facts: TravellerRef, now: datetime, notes: list[str]
    ) -> tuple[OnwardJourney | None, str | None]:
        if self._case_lookup is None:
            return None, None
        try:
            data = self._case_lookup(facts, now)
        except Exception as exc:  # same fallback as above
            log.warning("API lookup failed: %s", exc)
            notes.append(f"API lookup failed ({type(exc).__name__}).")
            return None, None
        if not data:
            notes.append("No advance passenger information for this document.")
            return None, None
        origin = data.get("arrived_from")
        arrived_from = origin if isinstance(origin, str) else None
        onward = data.get("onward")
        if not isinstance(onward, Mapping):
            notes.append("Advance passenger information has no onward journey.")
            return None, arrived_from
        try:
            return OnwardJourney.from_case_onward(onward, arrived_from), arrived_from
        except ValueError as exc:
            notes.append(f"Advance passenger information is malformed ({exc}); not used.")
            return None, arrived_from

    def resolve(self, facts: TravellerRef, now: datetime) -> ResolvedJourney:
        notes: list[str] = []
        found = self._from_api(facts, now, notes)
        arrived_from = found.arrived_from if found else None
        if found is None:
            found, arrived_from = self._from_case_lookup(facts, now, notes)
        if found is not None:
            notes.append("Onward journey from advance passenger information.")
            return ResolvedJourney(found, tuple(notes), arrived_from)
        bp = self._boarding_pass
        if bp is None:
            notes.append("No boarding pass was scanned.")
            return ResolvedJourney(None, tuple(notes), arrived_from)
        if not names_agree(bp.passenger_name, facts.surname):
            notes.append("The boarding pass is in another name; it was not used.")
            return ResolvedJourney(None, tuple(notes), arrived_from)
        checked: list[Verification] = []

        def verify(pass_: BoardingPass, leg: BcbpLeg) -> Verification:
            keys = self._carrier_keys.keys() if self._carrier_keys is not None else {}
            checked.append(verify_boarding_pass(pass_, leg, keys))
            return checked[-1]

        journey = journey_from_boarding_pass(
            bp,
            self._airports,
            home_state=self._home,
            today=now.astimezone(self._tz).date(),
            tz=self._tz,
            verify=verify,
        )
        if journey is None:
            notes.append("The boarding pass shows no departure abroad from today on.")
        else:
            notes.append(f"Onward journey from the boarding pass ({journey.flight}).")
            notes.append(checked[-1].detail[:1].upper() + checked[-1].detail[1:] + ".")
            arrived_from = journey.arrived_from or arrived_from
        return ResolvedJourney(journey, tuple(notes), arrived_from)

    def __call__(self, facts: TravellerRef, now: datetime) -> dict[str, Any] | None:
        return self.resolve(facts, now).case_journey()
