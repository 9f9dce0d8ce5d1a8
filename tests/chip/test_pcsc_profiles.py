"""Chip profiles read through the real PC/SC stack (pyscard -> pcscd -> vpcd -> emulator):
PACE-IM and PACE-CAM chips, a chip writing non-minimal SM lengths, and the EF.SOD
content-type quirks."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from devices.icao9303.pcsc import PcscTerminal
from devices.icao9303.reader import ChipDocumentReader, ChipReadReport
from devices.simulated.emulator import ChipEmulator
from devices.simulated.virtual_passport import VirtualPassport
from devices.simulated.vpcd import VpcdCardServer
from tests.waiting import wait_until

from .test_chip_profiles import PROFILES, check

pytestmark = pytest.mark.pcsc
MakePassport = Callable[..., VirtualPassport]


def read_through_pcscd(reader: str, emulator: ChipEmulator, vp: VirtualPassport) -> ChipReadReport:
    """Read the emulated chip as a card behind pcscd; waits until pcscd has seen it go,
    so the next test's card is not taken for this one."""
    server = VpcdCardServer(emulator)
    server.start()
    terminal = PcscTerminal(reader)
    try:
        wait_until(terminal.card_present, what="the card on the reader")
        result = ChipDocumentReader(terminal).read(vp.mrz_key())
    finally:
        server.stop()
    wait_until(lambda: not terminal.card_present(), what="the card off the reader")
    assert isinstance(result, ChipReadReport)
    return result


@pytest.mark.parametrize(
    "name", ["pace_im", "pace_cam", "pace_cam_clone", "non_minimal_sm_lengths"]
)
def test_profile_through_pcscd(pcscd: str, make_passport: MakePassport, name: str) -> None:
    profile = PROFILES[name]
    vp = make_passport(*profile.defects, **profile.spec)
    result = read_through_pcscd(pcscd, ChipEmulator.from_passport(vp, profile.misbehaviour), vp)
    check(profile, vp, result)
    assert result.apdus < 40  # extended length went through pcscd


@pytest.mark.parametrize(
    ("content_type", "quirk"),
    [
        ("1.2.840.113549.1.7.1", "sod_content_type_id_data"),  # some Chinese passports
        ("1.3.27.1.1.1", "sod_content_type_icao_1_3_27"),  # some French and Belgian ones
    ],
)
def test_sod_quirk_through_pcscd(pcscd: str, content_type: str, quirk: str) -> None:
    # EF.SOD's field quirks (docs/trust.md) read from a chip behind the real PC/SC
    # stack and verified by passive authentication, the quirk named in the verdict.
    import dataclasses
    from datetime import UTC, datetime

    from devices.simulated import pki
    from devices.simulated.factory import DocumentSpec, make_document
    from kiosk.trust import CscaStore, PassiveAuthenticator

    test_pki = pki.make_test_pki("CHN")
    vp = make_document(DocumentSpec(issuing_state="CHN", nationality="CHN"), pki=test_pki)
    groups = {int(n[2:]): data for n, data in vp.files.items() if n.startswith("DG")}
    sod = pki.build_sod(
        groups, test_pki.ds_cert, test_pki.ds_key, lds_version=(1, 8), content_type=content_type
    )
    vp = dataclasses.replace(vp, files={**vp.files, "EF.SOD": sod})
    result = read_through_pcscd(pcscd, ChipEmulator.from_passport(vp), vp)
    assert result.files["EF.SOD"] == sod
    store = CscaStore.from_certificates([test_pki.csca_der()])
    verdict = PassiveAuthenticator(store).verify(result.files, datetime.now(UTC)).to_dict()
    assert verdict["verdict"] == "valid", verdict["reasons"]
    assert verdict["sod"]["quirks"] == [quirk]
    assert [n for n in verdict["notes"] if n.startswith(f"quirk {quirk}: ")]
