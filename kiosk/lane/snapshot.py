"""What the lane tells its observers (the traveller screen, the simulator, tests)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from kiosk.lane.states import LaneState


@dataclass(frozen=True)
class LaneSnapshot:
    state: LaneState
    transaction_id: str | None
    language: str
    # A code of the message for the traveller ("place_passport", "see_officer", ...).
    message: str
    # Traveller-safe reason codes: sensitive ones (watchlist) never appear here.
    # The screen shows one referral text whatever they are (the officer gets them).
    traveller_reasons: tuple[str, ...] = ()
    guidance: str | None = None
    # Officer-facing outcome (decision, every reason, trace). Never shown to travellers.
    officer: Mapping[str, Any] = field(default_factory=dict)
    # A passport lies on the reader (the screen asks for it to be taken).
    document_on_reader: bool = False
    # The language of the passport's nationality, offered first once the chip is read.
    offered_language: str | None = None
    direction: str = "entry"
    # Seconds the traveller has in this state before the lane moves on (None: no limit).
    deadline_s: float | None = None
    # The steps the step indicator shows, the same for every traveller of this lane
    # ("passport", "face", ["boarding_pass",] "gate"): never changes mid-transaction.
    steps: tuple[str, ...] = ()
    # The try at the camera (face.attempts): a new one restarts the countdown.
    attempt: int = 1

    @property
    def screen(self) -> str:
        """The screen's name (scenarios and screenshots use it): the message code."""
        return self.message


class LaneObserver(Protocol):
    def lane_changed(self, snapshot: LaneSnapshot) -> None: ...
