"""Advance passenger information (API): the onward journey the carrier reported.

The lane looks the traveller up by document number and the date of the check;
the border database backs the real source.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from kiosk.decision.journey.model import OnwardJourney


class ApiSource(Protocol):
    def lookup(self, document_number: str, on: date) -> OnwardJourney | None:
        """The onward journey reported for this document around `on`, or None.

        Raises OSError-derived or database errors when the source is unreachable;
        the caller treats that as "no journey known" and says so in the trace.
        """
        ...


class InMemoryApiSource:
    """An ApiSource over a dictionary: the simulator's and tests' API feed."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, date], OnwardJourney] = {}

    def add(self, document_number: str, on: date, journey: OnwardJourney) -> None:
        self._records[(document_number.rstrip("<").upper(), on)] = journey

    def lookup(self, document_number: str, on: date) -> OnwardJourney | None:
        return self._records.get((document_number.rstrip("<").upper(), on))
