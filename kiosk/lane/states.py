"""States of one traveller transaction and the transitions allowed between them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class LaneState(StrEnum):
    IDLE = "idle"
    WAITING_FOR_DOCUMENT = "waiting_for_document"
    READING_CHIP = "reading_chip"
    VERIFYING_DOCUMENT = "verifying_document"
    CAPTURING_FACE = "capturing_face"
    DECIDING = "deciding"
    SCANNING_BOARDING_PASS = "scanning_boarding_pass"
    # Admitted, gate still closed: the traveller takes the passport back first.
    RETURNING_DOCUMENT = "returning_document"
    ADMITTED = "admitted"
    REFERRED = "referred"
    ERROR = "error"
    RESETTING = "resetting"
    # Between travellers with a passport still on the reader: nobody is asked to
    # place theirs until it is taken.
    DOCUMENT_LEFT = "document_left"


S = LaneState

# The error path is open from every active state; it always passes through
# RESETTING, which closes the gate, before the lane is IDLE again (or
# DOCUMENT_LEFT while a passport lies on the reader).
TRANSITIONS: dict[LaneState, frozenset[LaneState]] = {
    S.IDLE: frozenset({S.WAITING_FOR_DOCUMENT, S.ERROR}),
    S.WAITING_FOR_DOCUMENT: frozenset({S.READING_CHIP, S.ERROR, S.RESETTING}),
    S.READING_CHIP: frozenset({S.VERIFYING_DOCUMENT, S.DECIDING, S.ERROR}),
    S.VERIFYING_DOCUMENT: frozenset({S.CAPTURING_FACE, S.DECIDING, S.ERROR}),
    S.CAPTURING_FACE: frozenset({S.DECIDING, S.ERROR}),
    S.DECIDING: frozenset(
        {S.RETURNING_DOCUMENT, S.ADMITTED, S.REFERRED, S.SCANNING_BOARDING_PASS, S.ERROR}
    ),
    # Only when the policy lacks an onward journey: the traveller shows the pass.
    S.SCANNING_BOARDING_PASS: frozenset({S.DECIDING, S.ERROR}),
    S.RETURNING_DOCUMENT: frozenset({S.ADMITTED, S.REFERRED, S.RESETTING, S.ERROR}),
    S.ADMITTED: frozenset({S.RESETTING, S.ERROR}),
    # An officer at the supervisor station may admit a referred traveller.
    S.REFERRED: frozenset({S.RESETTING, S.ERROR, S.ADMITTED}),
    S.ERROR: frozenset({S.RESETTING}),
    S.RESETTING: frozenset({S.IDLE, S.DOCUMENT_LEFT}),
    S.DOCUMENT_LEFT: frozenset({S.IDLE}),
}


class IllegalTransition(RuntimeError):
    pass


@dataclass
class TransactionMachine:
    """Holds the current state and the time stamp of every transition."""

    state: LaneState = LaneState.IDLE
    history: list[tuple[LaneState, datetime]] = field(default_factory=list)

    def move(self, to: LaneState, at: datetime) -> None:
        if to not in TRANSITIONS[self.state]:
            raise IllegalTransition(f"{self.state} -> {to} is not a lane transition")
        self.state = to
        self.history.append((to, at))

    def stamps(self) -> dict[str, str]:
        """First time each state was entered, as ISO-8601 (the stage timings)."""
        out: dict[str, str] = {}
        for state, at in self.history:
            out.setdefault(state.value, at.isoformat())
        return out

    def reset_history(self) -> None:
        self.history = []
