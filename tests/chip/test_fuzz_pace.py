"""Hostile PACE input: mutated explicit domain parameters in EF.CardAccess, and a
PACE-CAM chip with a mutated DG14. The reader raises only device errors (no stray
exception), still reads the files when it answers, and never reports CAM passed for a
DG14 that does not hold the chip's key."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ecdsa import curves
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.errors import DeviceFault
from devices.icao9303.apdu import CommandApdu, ResponseApdu
from devices.icao9303.lds.security_infos import (
    ID_PACE_ECDH_GM,
    PACEDomainParameterInfo,
    PACEInfo,
    SecurityInfos,
)
from devices.icao9303.pace import oid_value, pace_infos
from devices.icao9303.reader import read_chip
from devices.icao9303.tlv import encode_tlv
from devices.simulated.emulator import ChipEmulator
from devices.simulated.transport import InProcessTransport
from devices.simulated.virtual_passport import VirtualPassport

from .test_explicit_domain_parameters import ec_domain

MakePassport = Callable[..., VirtualPassport]
DOMAIN = ec_domain(curves.NIST256p, curves.NIST256p.generator * 7)


def mutate(data: bytes, at: int, value: bytes, cut: int) -> bytes:
    at %= len(data)
    out = data[:at] + value + data[at + len(value) :]
    return out[: len(out) - cut % 4]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(at=st.integers(0, 10_000), value=st.binary(min_size=1, max_size=3), cut=st.integers(0, 3))
def test_mutated_explicit_domain_parameters(
    at: int, value: bytes, cut: int, make_passport: MakePassport
) -> None:
    vp = make_passport()
    domain = mutate(DOMAIN, at, value, cut)
    card_access = SecurityInfos.of(
        [
            PACEInfo(ID_PACE_ECDH_GM + ".2", 2, 40),
            PACEDomainParameterInfo(ID_PACE_ECDH_GM, domain, 40),
        ]
    ).encode()
    hostile = dataclasses.replace(vp, files={**vp.files, "EF.CardAccess": card_access})
    card = ChipEmulator.from_passport(hostile)
    try:
        result = read_chip(InProcessTransport(card), vp.mrz_key())
    except DeviceFault:
        return
    assert result.access_control in ("PACE", "BAC")
    assert result.files["DG1"] == vp.files["DG1"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(at=st.integers(0, 10_000), value=st.binary(min_size=1, max_size=2), cut=st.integers(0, 3))
def test_cam_with_a_mutated_dg14(
    at: int, value: bytes, cut: int, make_passport: MakePassport
) -> None:
    vp = make_passport(bac=False, pace_mapping="CAM")
    dg14 = mutate(vp.files["DG14"], at, value, cut)
    hostile = dataclasses.replace(vp, files={**vp.files, "DG14": dg14})
    card = ChipEmulator.from_passport(hostile)
    try:
        result = read_chip(InProcessTransport(card), vp.mrz_key())
    except DeviceFault:
        return
    assert result.chip_authentication in ("passed", "failed", "not_supported")
    if result.chip_authentication == "passed":
        # only a DG14 that still carries the chip's public key can prove the chip
        key = vp.ca_key()
        assert key is not None
        point = key.public_key().public_numbers()
        assert point.x.to_bytes(32, "big") in dg14 and point.y.to_bytes(32, "big") in dg14


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mapping=st.sampled_from(["IM", "CAM"]),
    steps=st.lists(
        st.tuples(st.sampled_from([0x81, 0x83, 0x85, 0x80]), st.binary(max_size=80)),
        min_size=1,
        max_size=4,
    ),
)
def test_im_and_cam_chips_answer_a_hostile_terminal(
    mapping: str, steps: list[tuple[int, bytes]], make_passport: MakePassport
) -> None:
    vp = make_passport(bac=False, pace_mapping=mapping)
    (info,) = pace_infos(SecurityInfos.parse(vp.files["EF.CardAccess"]))
    card = ChipEmulator.from_passport(vp)
    card.power_on()
    mse = encode_tlv(0x80, oid_value(info.protocol)) + encode_tlv(0x83, b"\x01")
    assert card.process(CommandApdu(0x00, 0x22, 0xC1, 0xA4, mse).encode()) == b"\x90\x00"
    first = CommandApdu(0x10, 0x86, 0, 0, encode_tlv(0x7C, b""), ne=256)
    assert ResponseApdu.decode(card.process(first.encode())).sw == 0x9000
    for tag, value in steps:
        cmd = CommandApdu(0x10, 0x86, 0, 0, encode_tlv(0x7C, encode_tlv(tag, value)), ne=256)
        answer = ResponseApdu.decode(card.process(cmd.encode()))
        assert answer.sw in (0x9000, 0x6300, 0x6985, 0x6A80)
