"""IATA airport code -> state or region (MRZ form), from the shipped table text."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from policy.errors import PolicyError
from policy.states import normalise_state

_IATA: Final = re.compile(r"^[A-Z]{3}\Z")


class AirportTableError(PolicyError):
    """The airport table is malformed; the message names the line."""


@dataclass(frozen=True)
class AirportTable:
    states: Mapping[str, str]
    cities: Mapping[str, str]

    def state_of(self, iata: str) -> str | None:
        """The state/region of an airport, or None when the table does not know it."""
        return self.states.get(iata.strip().upper())

    def __len__(self) -> int:
        return len(self.states)

    @classmethod
    def from_csv(cls, text: str) -> AirportTable:
        """Parse `iata,state,city` rows; '#' lines are comments; duplicates are errors."""
        states: dict[str, str] = {}
        cities: dict[str, str] = {}
        rows = csv.reader(io.StringIO(text))
        header_seen = False
        for lineno, row in enumerate(rows, start=1):
            if not row or row[0].lstrip().startswith("#"):
                continue
            if not header_seen:
                if [c.strip() for c in row[:2]] != ["iata", "state"]:
                    raise AirportTableError(f"line {lineno}: expected header iata,state,city")
                header_seen = True
                continue
            if len(row) < 2:
                raise AirportTableError(f"line {lineno}: expected iata,state[,city]")
            iata = row[0].strip()
            if not _IATA.match(iata):
                raise AirportTableError(f"line {lineno}: {iata!r} is not an IATA airport code")
            try:
                state = normalise_state(row[1])
            except ValueError as exc:
                raise AirportTableError(f"line {lineno}: {exc}") from exc
            if iata in states:
                raise AirportTableError(f"line {lineno}: {iata} is listed twice")
            states[iata] = state
            cities[iata] = row[2].strip() if len(row) > 2 else ""
        if not header_seen:
            raise AirportTableError("no header line iata,state,city")
        return cls(states=states, cities=cities)
