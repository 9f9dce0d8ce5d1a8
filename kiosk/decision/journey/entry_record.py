"""The traveller's entry record, for the exit direction's overstay check.

On exit the lane finds the last entry of the document in the border database;
the lead backs EntryRecordSource with it. The record travels in the case as
`entry_record` (docs/policy.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class EntryRecord:
    entry_time: datetime
    port: str | None
    basis: str | None  # the decision's basis at entry
    permitted_until: datetime | None  # the decision's permitted_until at entry

    def __post_init__(self) -> None:
        for name in ("entry_time", "permitted_until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"EntryRecord.{name} must be timezone-aware")

    def case_entry_record(self) -> dict[str, Any]:
        """The `entry_record` object of the case format."""
        return {
            "entry_time": self.entry_time.isoformat(),
            "port": self.port,
            "basis": self.basis,
            "permitted_until": self.permitted_until.isoformat() if self.permitted_until else None,
        }


class EntryRecordSource(Protocol):
    def last_entry(
        self, document_number: str, nationality: str, before: datetime
    ) -> EntryRecord | None:
        """The latest entry of this document before `before`, or None if there is none."""
        ...


class InMemoryEntryRecords:
    """An EntryRecordSource over a list: the simulator's and tests' border database."""

    def __init__(self) -> None:
        self._records: list[tuple[str, str, EntryRecord]] = []

    def add(self, document_number: str, nationality: str, record: EntryRecord) -> None:
        self._records.append((document_number.rstrip("<").upper(), nationality, record))

    def last_entry(
        self, document_number: str, nationality: str, before: datetime
    ) -> EntryRecord | None:
        number = document_number.rstrip("<").upper()
        matches = [
            r
            for n, nat, r in self._records
            if n == number and nat == nationality and r.entry_time < before
        ]
        return max(matches, key=lambda r: r.entry_time, default=None)
