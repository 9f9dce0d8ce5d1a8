"""Chip profiles read through the real PC/SC stack (pyscard -> pcscd -> vpcd -> emulator):
PACE-IM and PACE-CAM chips, and a chip writing non-minimal SM lengths."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from devices.icao9303.pcsc import PcscTerminal
from devices.icao9303.reader import ChipDocumentReader, ChipReadReport
from devices.simulated.emulator import ChipEmulator
from devices.simulated.virtual_passport import VirtualPassport
from devices.simulated.vpcd import VpcdCardServer

from .test_chip_profiles import PROFILES, check
from .test_pcsc_integration import wait_for

pytestmark = pytest.mark.pcsc
MakePassport = Callable[..., VirtualPassport]


@pytest.mark.parametrize(
    "name", ["pace_im", "pace_cam", "pace_cam_clone", "non_minimal_sm_lengths"]
)
def test_profile_through_pcscd(pcscd: str, make_passport: MakePassport, name: str) -> None:
    profile = PROFILES[name]
    vp = make_passport(*profile.defects, **profile.spec)
    server = VpcdCardServer(ChipEmulator.from_passport(vp, profile.misbehaviour))
    server.start()
    terminal = PcscTerminal(pcscd)
    try:
        wait_for(terminal.card_present)
        result = ChipDocumentReader(terminal).read(vp.mrz_key())
    finally:
        server.stop()
    wait_for(lambda: not terminal.card_present())
    assert isinstance(result, ChipReadReport)
    check(profile, vp, result)
    assert result.apdus < 40  # extended length went through pcscd
