"""Drives simulated travellers through a running lane, acting instantly, and
collects the lane's headline figures (`egate simulate lane`)."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.simulation import Presentation, SampleTraveller, SimulatedKiosk
from kiosk.workflow.events import Start
from kiosk.workflow.snapshot import LaneSnapshot
from kiosk.workflow.states import LaneState

S = LaneState


class DriverTimeout(RuntimeError):
    pass


@dataclass
class LaneFigures:
    travellers: int = 0
    admitted: int = 0
    referred: int = 0
    aborted: int = 0
    transaction_ms: list[float] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)

    def mismatches(self) -> list[dict[str, Any]]:
        """Travellers who ended otherwise than their sample expects, or whose face
        verdict rests on a frame from before they laid their passport down."""
        out = []
        for o in self.outcomes:
            wanted = {"admit": "admitted", "refer": "referred"}[o["expected"]]
            problems = []
            if o["outcome"] != wanted:
                problems.append(f"expected {wanted}, got {o['outcome']}")
            if o.get("earlier_face_frames"):
                problems.append(f"face verdict on earlier frames {o['earlier_face_frames']}")
            if problems:
                out.append({"index": o["index"], "traveller": o["traveller"],
                            "expected": o["expected"], "outcome": o["outcome"],
                            "reasons": o["reasons"], "problems": problems})
        return out

    def summary(self, events_logged: int) -> dict[str, Any]:
        ms = sorted(self.transaction_ms)
        p95 = ms[min(len(ms) - 1, max(0, round(0.95 * len(ms)) - 1))] if ms else None
        return {
            "travellers": self.travellers,
            "admitted": self.admitted,
            "referred": self.referred,
            "aborted": self.aborted,
            "events_logged": events_logged,
            "median_transaction_ms": round(statistics.median(ms), 1) if ms else None,
            "p95_transaction_ms": round(p95, 1) if p95 is not None else None,
            "outcomes": self.outcomes,
            "mismatches": self.mismatches(),
        }


class StateWaiter:
    """A LaneObserver that lets the driver wait for a state (on any thread)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.history: list[LaneSnapshot] = []

    def lane_changed(self, snapshot: LaneSnapshot) -> None:
        with self._cond:
            self.history.append(snapshot)
            self._cond.notify_all()

    def wait_for(
        self, states: set[LaneState], since: int, timeout: float, pump: Callable[[], None] | None
    ) -> LaneSnapshot:
        """The first snapshot at index >= since whose state is in `states`."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                for snap in self.history[since:]:
                    if snap.state in states:
                        return snap
                if pump is None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(min(remaining, 0.05))
            if pump is not None:
                pump()
            if time.monotonic() > deadline:
                break
        raise DriverTimeout(f"lane did not reach {sorted(s.value for s in states)} in {timeout}s")


def _earlier(used: list[int], presented: Presentation | None, scenes: bool) -> list[int]:
    """Frames a verdict used from before the passport was laid down (or, on the
    simulated camera, before this traveller's scene was shown)."""
    if presented is None:
        return []
    bound = presented.document_frame if presented.document_frame is not None else -1
    first = presented.scene_first_frame if scenes else 0
    return [i for i in used if i <= bound or i < first]


def drive(
    kiosk: SimulatedKiosk,
    travellers: list[SampleTraveller],
    pump: Callable[[], None] | None = None,
    timeout_s: float = 60.0,
) -> LaneFigures:
    """Run each traveller through: start, passport, face, decision, gate or referral.

    `pump` processes lane events on this thread (no LaneRunner); None when a
    LaneRunner thread drives the lane.
    """
    waiter = StateWaiter()
    kiosk.lane.add_observer(waiter)
    figures = LaneFigures()
    for number, traveller in enumerate(travellers):
        mark = len(waiter.history)
        kiosk.lane.post(Start("en"))
        waiter.wait_for({S.WAITING_FOR_DOCUMENT}, mark, timeout_s, pump)
        kiosk.present(traveller)
        end = waiter.wait_for(
            {S.RETURNING_DOCUMENT, S.REFERRED, S.ERROR}, mark, timeout_s, pump
        )
        if end.state is S.RETURNING_DOCUMENT:  # admitted: the gate opens once it is taken
            kiosk.remove_passport()
            end = waiter.wait_for({S.ADMITTED, S.ERROR}, mark, timeout_s, pump)
        after_end = waiter.history.index(end) + 1
        # The traveller takes the passport and walks through (or off to the officer).
        if end.state is S.ADMITTED:
            kiosk.walk_through()
        kiosk.remove_passport()
        waiter.wait_for({S.IDLE}, after_end, timeout_s, pump)
        figures.travellers += 1
        outcome = {S.ADMITTED: "admitted", S.REFERRED: "referred"}.get(end.state, "aborted")
        setattr(figures, outcome, getattr(figures, outcome) + 1)
        tx_id = end.transaction_id
        checks = end.officer.get("checks", {})
        used = list(checks.get("face_frame_indices") or [])
        presented = kiosk.presentations[-1] if kiosk.presentations else None
        figures.outcomes.append(
            {"index": number, "traveller": traveller.key, "expected": traveller.expect,
             "outcome": outcome, "reasons": list(end.officer.get("reasons", [])),
             "transaction_id": tx_id, "face_frames": used,
             "earlier_face_frames": _earlier(used, presented, kiosk.camera is kiosk.scenes)}
        )
    kiosk.lane.flush_log()
    for event in kiosk.storage.events.events():
        for o in figures.outcomes:
            if o["transaction_id"] == event.event_id and event.transaction_ms is not None:
                figures.transaction_ms.append(event.transaction_ms)
    return figures
