"""End to end on the simulated lane (real chip protocol, passive authentication,
dlib face matching, policy): a referral reaches the station with both photos and
an officer's admit opens that kiosk's gate, and no other."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.clock import SystemClock
from kiosk.config import parse_config
from kiosk.lane.machine import LaneRunner
from kiosk.lane.states import LaneState
from kiosk.runtime.app import open_storage
from kiosk.simulation.simulated_kiosk import SimulatedKiosk, sample
from kiosk.store.verify import verify_log
from kiosk.supervisor.agent import KioskAgent, command_key
from kiosk.supervisor.officers import OfficerDirectory
from kiosk.supervisor.settings import AgentSettings
from kiosk.supervisor.station import Station
from tests.supervisor.conftest import CHEAP
from tests.waiting import wait_until

S = LaneState
pytestmark = pytest.mark.slow


class Kiosk:
    def __init__(self, tmp_path: Path, index: int, stop: threading.Event) -> None:
        cfg = parse_config({
            "kiosk": {"id": f"SIM-CSX-{index:02d}", "lane": index},
            "storage": {"local_url": f"sqlite:///{tmp_path}/k{index}.sqlite",
                        "border_url": f"sqlite:///{tmp_path}/border.sqlite"},
            "timeouts": {"result_display_s": 120.0, "face_s": 20.0},
            # A longer face window: with both cores busy 1.5 s may find no face at all.
            "face": {"budget_s": 4.0},
        })  # fmt: skip
        self.sim = SimulatedKiosk(cfg, open_storage(cfg))
        assert self.sim.storage.border is not None
        key = command_key(cfg, self.sim.storage.border, SystemClock())  # the stand-in's own
        self.agent = KioskAgent(self.sim.lane, self.sim.storage.border, SystemClock(),
                                AgentSettings(poll_s=0.05, heartbeat_s=0.5),
                                command_key=key)  # fmt: skip
        self.runner = LaneRunner(self.sim.lane, poll_s=0.01)
        self.stop = stop

    def start(self) -> None:
        self.sim.camera.start()
        self.runner.start()
        self.agent.start(self.stop)

    def close(self) -> None:
        self.runner.stop()
        self.sim.close()


@pytest.fixture
def kiosks(tmp_path: Path) -> Iterator[tuple[Kiosk, Kiosk]]:
    stop = threading.Event()
    one, two = Kiosk(tmp_path, 1, stop), Kiosk(tmp_path, 2, stop)
    one.sim.prepare([sample("chn-citizen")])
    for k in (one, two):
        k.start()
    yield one, two
    stop.set()
    for k in (one, two):
        k.close()


def test_officer_admit_opens_the_referring_kiosks_gate(kiosks: tuple[Kiosk, Kiosk]) -> None:
    one, two = kiosks
    border = one.sim.storage.border
    assert border is not None
    OfficerDirectory(border, SystemClock(), params=CHEAP).add(
        "A1", "Ada", "officer", "ada-secret-1"
    )
    station = Station(border, SystemClock(), directory=OfficerDirectory(border, SystemClock(),
                                                                       params=CHEAP))  # fmt: skip
    station.sign_in("A1", "ada-secret-1")
    one.sim.present(sample("chn-citizen"), face="other")
    wait_until(lambda: one.sim.lane.state is S.REFERRED, what="kiosk 1 refers")
    wait_until(station.queue, what="the referral in the station queue")
    [summary] = station.queue()
    assert summary.kiosk_id == "SIM-CSX-01" and "face_mismatch" in summary.reasons
    case = station.case(summary.referral_id)
    # The chip photo (DG2, re-encoded) and the frame the decision used, side by side.
    assert case.chip_jpeg is not None and case.chip_jpeg[:2] == b"\xff\xd8"
    assert case.live_jpeg is not None and case.live_jpeg[:2] == b"\xff\xd8", {
        k: v for k, v in case.checks.items() if k.startswith("face") or k == "liveness"
    }
    assert case.distance is not None and case.threshold is not None
    assert case.distance > case.threshold
    assert case.document["document_number"] == "E12345678"
    wait_until(
        lambda: {v.kiosk_id: v.state for v in station.lanes()}.get("SIM-CSX-02") == "idle",
        what="kiosk 2 reported idle",
    )
    assert one.sim.gate.opened_count == 0
    # The officer has the traveller look at the camera: the kiosk's fresh capture
    # before it opens must match the chip photo (an "other" face would be rejected).
    one.sim.show_face("same")
    result = station.resolve(
        summary.referral_id, "admit", "identity_confirmed", "compared the photos in person"
    )
    wait_until(lambda: one.sim.gate.state == "open", what="kiosk 1 gate open")
    wait_until(
        lambda: station.command_result(result.command_id)[0] == "executed",
        what="the admit executed",
    )
    assert two.sim.gate.opened_count == 0  # only the referring kiosk's gate
    assert one.sim.walk_through()
    # The lane is free again (showing "passport left" while it still lies on the reader).
    wait_until(lambda: one.sim.lane.state in (S.IDLE, S.DOCUMENT_LEFT), what="lane 1 free")
    assert one.sim.gate.state == "closed"
    events = one.sim.storage.events.events()
    assert [e.outcome for e in events] == ["referred", "officer"]
    assert events[1].checks["officer_id"] == "A1" and events[1].checks["result"] == "executed"
    assert verify_log(one.sim.storage.events.engine, one.sim.storage.events.sealer).valid
