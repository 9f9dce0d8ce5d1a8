"""The chip profiles of docs/chip.md ("Chip profiles"), one test per row: what issuing
states' chips do, imitated by the factory and the emulator, and how each is read."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devices.icao9303.lds.security_infos import (
    ID_PACE_ECDH_CAM,
    ID_PACE_ECDH_GM,
    PACEInfo,
    SecurityInfos,
)
from devices.icao9303.reader import ChipReadReport, read_chip
from devices.simulated.emulator import ChipEmulator, Misbehaviour
from devices.simulated.transport import InProcessTransport
from devices.simulated.virtual_passport import VirtualPassport

MakePassport = Callable[..., VirtualPassport]


@dataclass(frozen=True)
class Profile:
    spec: dict[str, Any] = field(default_factory=dict)
    defects: tuple[str, ...] = ()
    misbehaviour: Misbehaviour = field(default_factory=Misbehaviour)
    access: str = "PACE"
    chip_authentication: str = "passed"
    active_authentication: str = "passed"
    note: str | None = None  # a note the read must carry
    block: int | None = None  # the READ BINARY block the read settles on


PROFILES: dict[str, Profile] = {
    "pace_only_gm": Profile({"bac": False}),
    "pace_im": Profile({"bac": False, "pace_mapping": "IM"}, note="PACE-IM"),
    "pace_im_dh": Profile({"bac": False, "pace_mapping": "IM", "pace_parameter_id": 0}),
    "pace_cam": Profile({"bac": False, "pace_mapping": "CAM"}, note="CA passed by PACE-CAM"),
    "pace_cam_clone": Profile(
        {"bac": False, "pace_mapping": "CAM"},
        misbehaviour=Misbehaviour(wrong_cam_data=True),
        chip_authentication="failed",
        note="does not match the DG14 key",
    ),
    "bac_only": Profile(defects=("bac_only",), access="BAC"),
    "6700_on_extended_length": Profile(
        defects=("bac_only", "no_ca"),
        misbehaviour=Misbehaviour(refuse_extended_length=True),
        access="BAC",
        chip_authentication="not_supported",
        note="short APDUs: chip refused extended length",
        block=231,
    ),
    "255_byte_cut": Profile(
        {"aa_algorithm": "ecdsa-p256"},
        misbehaviour=Misbehaviour(cut_long_apdus=True),
        note="short APDUs: garbled",
    ),
    # an RSA-2048 signature does not fit through such a reader under SM: AA fails, noted
    "255_byte_cut_rsa_aa": Profile(
        misbehaviour=Misbehaviour(cut_long_apdus=True),
        active_authentication="failed",
        note="AA: malformed secure-messaging response",
    ),
    "aa_ecdsa": Profile({"aa_algorithm": "ecdsa-p256"}, note="AA passed: ECDSA"),
    "non_minimal_sm_lengths": Profile(misbehaviour=Misbehaviour(non_minimal_sm_lengths=True)),
    # the longest protected short answer: 3DES BAC, 231-byte blocks, every length long-form
    "non_minimal_sm_lengths_bac_short": Profile(
        defects=("bac_only", "no_ca"),
        misbehaviour=Misbehaviour(non_minimal_sm_lengths=True, refuse_extended_length=True),
        access="BAC",
        chip_authentication="not_supported",
        note="short APDUs: chip refused extended length",
        block=231,
    ),
}


def read_profile(profile: Profile, vp: VirtualPassport) -> ChipReadReport:
    card = ChipEmulator.from_passport(vp, profile.misbehaviour)
    return read_chip(InProcessTransport(card), vp.mrz_key())


def check(profile: Profile, vp: VirtualPassport, result: ChipReadReport) -> None:
    assert result.access_control == profile.access
    assert result.chip_authentication == profile.chip_authentication, result.notes
    assert result.active_authentication == profile.active_authentication, result.notes
    if profile.note is not None:
        assert any(profile.note in n for n in result.notes), result.notes
    if profile.block is not None:
        assert result.block_size == profile.block
    assert set(result.files) == set(vp.files)
    for name, raw in result.files.items():
        assert raw == vp.files[name], name


@pytest.mark.parametrize("name", list(PROFILES))
def test_profile_is_read(name: str, make_passport: MakePassport) -> None:
    profile = PROFILES[name]
    vp = make_passport(*profile.defects, **profile.spec)
    check(profile, vp, read_profile(profile, vp))


def test_profiles_are_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "chip.md").read_text()
    for name in PROFILES:
        assert f"`{name}`" in doc, name


@pytest.mark.parametrize(("mapping", "mse_count"), [("GM", 2), ("IM", 2), ("CAM", 1)])
def test_cam_replaces_chip_authentication_v1(
    make_passport: MakePassport, mapping: str, mse_count: int
) -> None:
    """After PACE-CAM the reader runs no CA v1 (its MSE:Set AT); GM and IM chips get it."""
    vp = make_passport(bac=False, pace_mapping=mapping)
    card = ChipEmulator.from_passport(vp)
    commands: list[bytes] = []

    class Recording(InProcessTransport):
        def transmit(self, apdu: bytes) -> bytes:
            commands.append(apdu)
            return super().transmit(apdu)

    result = read_chip(Recording(card), vp.mrz_key())
    assert result.chip_authentication == "passed"
    assert sum(apdu[1] == 0x22 for apdu in commands) == mse_count


def test_a_refused_mapping_falls_back_to_the_next_pace_info(make_passport: MakePassport) -> None:
    """A copied chip without SK_IC cannot run CAM; offered GM as well, it is read with
    PACE-GM and then fails chip authentication."""
    vp = make_passport("cloned_chip", bac=False, pace_mapping="CAM")
    both = SecurityInfos.of(
        [PACEInfo(ID_PACE_ECDH_GM + ".2", 2, 12), PACEInfo(ID_PACE_ECDH_CAM + ".2", 2, 12)]
    ).encode()
    vp = dataclasses.replace(vp, files={**vp.files, "EF.CardAccess": both})
    result = read_chip(InProcessTransport(ChipEmulator.from_passport(vp)), vp.mrz_key())
    assert result.access_control == "PACE"
    assert any(n.startswith("PACE failed, trying PACE") for n in result.notes), result.notes
    assert "PACE-CAM" not in result.notes
    assert result.chip_authentication == "failed"
    assert result.active_authentication == "failed"
