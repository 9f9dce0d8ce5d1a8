"""What the lane tells its observers (the traveller screen, the simulator, tests)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from kiosk.workflow.states import LaneState


@dataclass(frozen=True)
class LaneSnapshot:
    state: LaneState
    transaction_id: str | None
    language: str
    # A code of the message for the traveller ("place_passport", "see_officer", ...).
    message: str
    # Traveller-safe reason codes: sensitive ones (watchlist) never appear here.
    traveller_reasons: tuple[str, ...] = ()
    guidance: str | None = None
    # Officer-facing outcome (decision, every reason, trace). Never shown to travellers.
    officer: Mapping[str, Any] = field(default_factory=dict)


class LaneObserver(Protocol):
    def lane_changed(self, snapshot: LaneSnapshot) -> None: ...
