"""Small test doubles of the lane's ports, for state-machine tests with a FakeClock."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np

from devices.errors import CardRemovedError
from devices.protocols import ChipReadResult, DocumentListener, Frame, MrzKey
from devices.simulated.gate import SimulatedGate
from kiosk.clock import FakeClock
from kiosk.config import parse_config
from kiosk.lane.events import Start
from kiosk.lane.facts import DocumentFacts
from kiosk.lane.machine import Lane, LaneDevices, LaneServices
from kiosk.lane.states import LaneState
from kiosk.ports import (
    AuthenticityResult,
    FaceVerification,
    FrameProvenance,
    FrameRef,
    PolicyDecision,
)
from kiosk.store.database import open_local
from kiosk.store.event_log import EventLog
from policy.case import Case

FACTS = DocumentFacts("P", "UTO", "UTO", "L898902C3", "ERIKSSON", "ANNA MARIA",
                      date(1974, 8, 12), "F", date(2031, 4, 15))


class FakeReader:
    def __init__(self, clock: FakeClock, read_s: float = 0.2) -> None:
        self.listener: DocumentListener | None = None
        self.clock = clock
        self.read_s = read_s
        self.fail: Exception | None = None
        self.present = False

    def set_listener(self, listener: DocumentListener | None) -> None:
        self.listener = listener

    def document_present(self) -> bool:
        return self.present

    def place(self) -> None:
        self.present = True
        assert self.listener is not None
        self.listener("placed")

    def remove(self) -> None:
        self.present = False
        assert self.listener is not None
        self.listener("removed")

    def read(self, key: MrzKey) -> ChipReadResult:
        self.clock.advance(self.read_s)
        if self.fail is not None:
            raise self.fail
        if not self.present:
            raise CardRemovedError("card gone")
        return ChipReadResult(files={"DG1": b"x", "EF.SOD": b"y"}, access_control="PACE",
                              chip_authentication="passed", active_authentication="passed")


class FakeMrz:
    def read_mrz(self) -> MrzKey:
        return MrzKey("L898902C3", "740812", "310415")


class FakeCamera:
    """Every read sees a new frame (index and capture time one step on)."""

    fault = None

    def __init__(self) -> None:
        self.index = 0

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def latest(self) -> Frame:
        return Frame(np.zeros((2, 2, 3), np.uint8), float(self.index), self.index)

    def wait_frame(self, after_index: int, timeout: float) -> Frame:
        self.index = max(self.index, after_index) + 1
        return self.latest()


class FakeAuthenticator:
    def __init__(self) -> None:
        self.result = AuthenticityResult(True, None, {"verdict": "valid"})

    def authenticate(self, files: Mapping[str, bytes], at: datetime) -> AuthenticityResult:
        return self.result


class FakeFace:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.match = True
        self.calls = 0
        self.stale = False  # decide on a frame from before the document
        self.unnamed = False  # give no provenance at all

    def verify(self, reference_rgb: Any, camera: Any, budget_s: float) -> FaceVerification:
        self.calls += 1
        self.clock.advance(0.5)
        # The frame it decides on: the camera's next one, or (to test the lane's
        # refusal) one from before the document was presented.
        frame = FrameRef(0, 0.0) if self.stale else FrameRef.of(camera.wait_frame(-1, 0.1))
        assert frame is not None
        provenance = FrameProvenance(None, (frame,), (frame,), frame)
        return FaceVerification("match" if self.match else "mismatch", self.match, "live",
                                0.3 if self.match else 0.8, 0.5, 3, 500.0,
                                best_frame_jpeg=b"\xff\xd8jpeg",
                                provenance=None if self.unnamed else provenance)


class FakePolicy:
    def __init__(self) -> None:
        self.cases: list[Case] = []

    def evaluate(self, case: Case) -> PolicyDecision:
        self.cases.append(case)
        c = case.checks
        reasons = []
        if not c.document_authentic:
            reasons.append("document_not_authentic")
        if not c.face_match:
            reasons.append("face_mismatch")
        if c.watchlist_hit:
            reasons.append("watchlist_hit")
        return PolicyDecision("refer" if reasons else "admit", None if reasons else "citizen",
                              tuple(reasons), None, "test-pack", "1")


class Rig:
    """A lane wired to fakes, on a FakeClock and a real SQLite event log."""

    def __init__(self, tmp_path: Any, **config: Any) -> None:
        self.clock = FakeClock()
        self.reader = FakeReader(self.clock)
        self.gate = SimulatedGate()
        self.auth = FakeAuthenticator()
        self.face = FakeFace(self.clock)
        self.policy = FakePolicy()
        self.watch = False
        self.images: dict[str, bytes] = {}
        cfg = parse_config({"storage": {"local_url": f"sqlite:///{tmp_path}/local.sqlite"},
                            **config})
        self.log = EventLog(open_local(cfg.storage.local_url))
        self.lane = Lane(
            cfg,
            LaneDevices(self.reader, FakeMrz(), FakeCamera(), self.gate),
            LaneServices(
                authenticator=self.auth,
                face=self.face,
                policy=self.policy,
                document_facts=lambda files: FACTS,
                reference_face=lambda files: np.zeros((4, 4, 3), np.uint8),
                journey=lambda facts, now: None,
                watchlist=lambda facts: self.watch,
                referral_images=self.images.__setitem__,
            ),
            self.log,
            self.clock,
        )
        self.snapshots: list[Any] = []
        self.lane.add_observer(self)

    def lane_changed(self, snapshot: Any) -> None:
        self.snapshots.append(snapshot)

    def states(self) -> list[str]:
        return [s.state.value for s in self.snapshots]


def run_traveller(rig: Rig, take_back: bool = True) -> None:
    """One traveller through the lane: start, place the passport, and (take_back)
    take it back at "take your passport", after which the gate opens."""
    rig.lane.post(Start("en"))
    rig.lane.run_pending()
    rig.reader.place()
    rig.lane.run_pending()
    if take_back and rig.lane.state is LaneState.RETURNING_DOCUMENT:
        rig.reader.remove()
        rig.lane.run_pending()
