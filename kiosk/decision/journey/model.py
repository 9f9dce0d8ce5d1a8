"""The onward journey as the policy case needs it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

JourneySource = Literal["api", "boarding_pass"]


@dataclass(frozen=True)
class OnwardJourney:
    """The traveller's next departure from the country, and where they came from.

    `departure_time` is aware. A boarding pass gives only the flight date, so its
    journeys carry the last minute of that day (the conservative reading for a
    stay limit). Codes are MRZ state/region codes; HKG, MAC, TWN are not CHN.
    """

    destination: str | None
    departure_time: datetime
    departure_port: str | None
    confirmed: bool
    flight: str | None
    source: JourneySource
    arrived_from: str | None = None
    # Evidence, not a claim: a boarding pass signed by its carrier (a key the
    # border distributes) or advance passenger information (the border's own).
    verified: bool = False

    def __post_init__(self) -> None:
        if self.departure_time.tzinfo is None:
            raise ValueError("OnwardJourney.departure_time must be timezone-aware")

    def case_onward(self) -> dict[str, Any]:
        """The `journey.onward` object of the case format (docs/policy.md)."""
        return {
            "destination": self.destination,
            "departure_time": self.departure_time.isoformat(),
            "departure_port": self.departure_port,
            "confirmed": self.confirmed,
            "flight": self.flight,
            "source": self.source,
            "verified": self.verified,
        }

    def case_journey(self, arrived_from: str | None = None) -> dict[str, Any]:
        """The `journey` object of the case; an explicit `arrived_from` is the fallback."""
        return {"arrived_from": self.arrived_from or arrived_from, "onward": self.case_onward()}

    @classmethod
    def from_case_onward(
        cls, onward: Mapping[str, Any], arrived_from: str | None = None
    ) -> OnwardJourney:
        """Read a case-shaped `journey.onward` object (e.g. from the border database).

        Raises ValueError when it is not in the case format.
        """
        when = onward.get("departure_time")
        if not isinstance(when, str):
            raise ValueError(f"departure_time {when!r} is not an ISO 8601 string")
        for key in ("destination", "departure_port", "flight"):
            if onward.get(key) is not None and not isinstance(onward.get(key), str):
                raise ValueError(f"{key} {onward.get(key)!r} is not a string")
        confirmed = onward.get("confirmed", False)
        if not isinstance(confirmed, bool):
            raise ValueError(f"confirmed {confirmed!r} is not true or false")
        return cls(
            destination=onward.get("destination"),
            departure_time=datetime.fromisoformat(when),
            departure_port=onward.get("departure_port"),
            confirmed=confirmed,
            flight=onward.get("flight"),
            source="api",
            arrived_from=arrived_from,
            verified=True,  # the border's own record, not something the traveller showed
        )
