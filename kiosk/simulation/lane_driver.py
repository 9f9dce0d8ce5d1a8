"""Drives simulated travellers through a running lane and collects the lane's
headline figures (`egate simulate lane`), each transaction split into the time
its devices needed and egate's own overhead (docs/performance.md, "The split")."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.config import Config
from kiosk.face.matcher import MatcherSettings
from kiosk.lane.events import Start
from kiosk.lane.snapshot import LaneSnapshot
from kiosk.lane.states import LaneState
from kiosk.simulation.simulated_kiosk import (
    DeviceTiming,
    Presentation,
    SampleTraveller,
    SimulatedKiosk,
)

S = LaneState


class DriverTimeout(RuntimeError):
    pass


SPLIT_KEYS = ("total", "chip_io", "walk", "capture_window", "device", "overhead")


def capture_window_s(config: Config, fps: float) -> float:
    """The shortest capture the matcher accepts on this camera: the collection
    window, or its minimum once max_frames usable frames have come in (the
    settings FaceMatcher.from_config builds)."""
    collect = min(config.face.budget_s, MatcherSettings.collect_s)
    least = max(MatcherSettings.min_collect_s, config.face.max_frames / fps)
    return min(collect, least)


def split_ms(
    total_ms: float, chip_io_ms: float, walk_ms: float, window_ms: float, captured: bool
) -> dict[str, float]:
    """Device-bound time and egate's overhead of one transaction (passport to decision).

    The devices alone would need the chip read or the walk to the camera, whichever
    is longer (the capture cannot begin before both), then the capture window; a
    transaction that never reached the camera needed the chip read only. The rest
    is egate's own work and waiting for it. overhead + device == total, always.
    """
    device = max(chip_io_ms, walk_ms) + window_ms if captured else chip_io_ms
    return {
        "total": round(total_ms, 1),
        "chip_io": round(chip_io_ms, 1),
        "walk": round(walk_ms if captured else 0.0, 1),
        "capture_window": round(window_ms if captured else 0.0, 1),
        "device": round(device, 1),
        "overhead": round(total_ms - device, 1),
    }


def _median_p95(values: list[float]) -> dict[str, float | None]:
    ms = sorted(values)
    if not ms:
        return {"median": None, "p95": None}
    p95 = ms[min(len(ms) - 1, max(0, round(0.95 * len(ms)) - 1))]
    return {"median": round(statistics.median(ms), 1), "p95": round(p95, 1)}


@dataclass
class LaneFigures:
    travellers: int = 0
    admitted: int = 0
    referred: int = 0
    aborted: int = 0
    transaction_ms: list[float] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    devices: str = "instant"  # the DeviceTiming the run used

    def split_summary(self) -> dict[str, Any]:
        """Median and p95 of each part of the split, over the transactions that have one."""
        splits = [o["timing_ms"] for o in self.outcomes if o.get("timing_ms")]
        out: dict[str, Any] = {"devices": self.devices, "transactions": len(splits)}
        for key in SPLIT_KEYS:
            out[key] = _median_p95([sp[key] for sp in splits])
        return out

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
            "timing_ms": self.split_summary(),
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
    timing: DeviceTiming = kiosk.timing
    figures = LaneFigures(devices=timing.name)
    window_ms = capture_window_s(kiosk.config, timing.camera_fps) * 1000.0
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
                checks = event.checks or {}
                o["timing_ms"] = split_ms(
                    event.transaction_ms,
                    float(checks.get("chip_io_ms") or 0.0),
                    timing.walk_s * 1000.0,
                    window_ms,
                    captured="face_outcome" in checks,
                )
    return figures
