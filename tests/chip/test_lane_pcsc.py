"""The kiosk workflow reading a passport through pcscd and vpcd, as with hardware."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices.simulated.emulator import ChipEmulator
from devices.simulated.vpcd import VpcdCardServer
from kiosk.config import parse_config
from kiosk.lane.events import Start
from kiosk.lane.states import LaneState
from kiosk.runtime.app import open_storage
from kiosk.simulation.lane_driver import StateWaiter
from kiosk.simulation.simulated_kiosk import SimulatedKiosk, sample

S = LaneState
pytestmark = pytest.mark.pcsc


def test_lane_admits_a_passport_read_through_pcscd(pcscd: str, tmp_path: Path) -> None:
    cfg = parse_config({
        "storage": {"local_url": f"sqlite:///{tmp_path}/local.sqlite"},
        "devices": {"reader": "real", "reader_name": pcscd},
    })  # fmt: skip
    kiosk = SimulatedKiosk(cfg, open_storage(cfg))
    traveller = sample("usa-transit-240h")
    kiosk.prepare([traveller])
    waiter = StateWaiter()
    kiosk.lane.add_observer(waiter)
    pump = lambda: kiosk.lane.run_pending(0.01)  # noqa: E731
    kiosk.camera.start()
    server = VpcdCardServer(ChipEmulator.from_passport(kiosk.passport(traveller)))
    try:
        kiosk.lane.post(Start("en"))
        waiter.wait_for({S.WAITING_FOR_DOCUMENT}, 0, 10, pump)
        kiosk.present(traveller)  # the traveller stands at the camera ...
        server.start()  # ... and lays the passport on the PC/SC reader
        end = waiter.wait_for({S.RETURNING_DOCUMENT, S.REFERRED, S.ERROR}, 0, 60, pump)
        if end.state is S.RETURNING_DOCUMENT:  # "take your passport": the gate opens after
            server.stop()
            end = waiter.wait_for({S.ADMITTED, S.ERROR}, 0, 30, pump)
    finally:
        server.stop()
        kiosk.close()
    assert end.state is S.ADMITTED, end.officer
    event = kiosk.storage.events.events()[-1]
    assert event.basis == "transit_240h"
    assert (event.checks["access_control"], event.checks["chip_authentication"],
            event.checks["active_authentication"]) == ("PACE", "passed", "passed")
    assert event.checks["document_authentic"] is True
