"""The reader against the emulator: access control, files, CA, AA, listener events."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from devices.errors import AccessDeniedError, CardRemovedError
from devices.icao9303.lds.dg14 import DataGroup14
from devices.icao9303.lds.security_infos import (
    CA_ECDH_3DES_CBC_CBC,
    ID_PACE_DH_GM,
    ID_PACE_ECDH_GM,
    ID_PK_ECDH,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
    SecurityInfos,
)
from devices.icao9303.lds.spki import PublicKeyInfo
from devices.icao9303.reader import DEFAULT_FILES, ReaderOptions, read_chip
from devices.icao9303.tlv import encode_tlv
from devices.protocols import ChipReadResult, MrzKey
from devices.simulated.chip_reader import SimulatedDocumentReader
from devices.simulated.emulator import ChipEmulator
from devices.simulated.transport import InProcessTransport
from devices.simulated.virtual_passport import VirtualPassport

MakePassport = Callable[..., VirtualPassport]


class RecordingCard:
    """Wraps the emulator and records each command's INS byte."""

    def __init__(self, emulator: ChipEmulator) -> None:
        self.emulator = emulator
        self.ins: list[int] = []

    def power_on(self) -> bytes:
        return self.emulator.power_on()

    def process(self, apdu: bytes) -> bytes:
        self.ins.append(apdu[1])
        return self.emulator.process(apdu)


def read(vp: VirtualPassport, key: MrzKey | None = None) -> ChipReadResult:
    sim = SimulatedDocumentReader()
    sim.place(vp)
    return sim.read(key or vp.mrz_key())


def assert_files_match(result_files: object, vp: VirtualPassport) -> None:
    assert isinstance(result_files, dict)
    for name, raw in result_files.items():
        assert raw == vp.files[name], name
    assert {"EF.COM", "EF.SOD", "DG1", "DG2"} <= set(result_files)


def test_pace_with_mrz_reads_all_files_and_passes_ca_and_aa(pace_passport: VirtualPassport) -> None:
    result = read(pace_passport)
    assert result.access_control == "PACE"
    assert result.chip_authentication == "passed"
    assert result.active_authentication == "passed"
    assert_files_match(dict(result.files), pace_passport)
    assert set(result.files) == set(pace_passport.files)
    assert result.bytes_read == sum(len(v) for v in pace_passport.files.values())
    # 18 KB DG2 in 4 KB blocks: far fewer APDUs than 223-byte reads would need
    assert result.apdus < 40


def test_pace_with_can(pace_passport: VirtualPassport) -> None:
    result = read(pace_passport, pace_passport.can_key())
    assert result.access_control == "PACE"
    assert result.chip_authentication == "passed"


def test_wrong_mrz_is_access_denied_for_pace_and_bac(make_passport: MakePassport) -> None:
    wrong = MrzKey("X12345678", "740812", "300101")
    with pytest.raises(AccessDeniedError):
        read(make_passport(), wrong)
    with pytest.raises(AccessDeniedError):
        read(make_passport("bac_only"), wrong)
    with pytest.raises(AccessDeniedError):
        read(make_passport(), MrzKey(can="000000"))
    with pytest.raises(AccessDeniedError, match="malformed"):
        read(make_passport(), MrzKey("X12345678", "7408", "300101"))
    with pytest.raises(AccessDeniedError, match="malformed"):
        read(make_passport("bac_only"), MrzKey("X1234567?", "740812", "300101"))


def test_bac_only_chip(make_passport: MakePassport) -> None:
    vp = make_passport("bac_only")
    assert "EF.CardAccess" not in vp.files
    result = read(vp)
    assert result.access_control == "BAC"
    assert result.chip_authentication == "passed"
    assert result.active_authentication == "passed"
    assert_files_match(dict(result.files), vp)
    with pytest.raises(AccessDeniedError, match="CAN"):
        read(vp, vp.can_key())


def test_pace_only_chip(make_passport: MakePassport) -> None:
    vp = make_passport(bac=False)
    result = read(vp)
    assert result.access_control == "PACE"


def test_a_chip_read_twice_without_a_reset_gives_the_same_files(
    make_passport: MakePassport,
) -> None:
    """An officer's admit reads the referred passport again while it stays in the field:
    the first read left the chip in the eMRTD application, where EF.CardAccess (in the
    master file) is not found. A PACE-only chip must still open, with the same files."""
    vp = make_passport(bac=False)
    transport = InProcessTransport(ChipEmulator.from_passport(vp))
    first = read_chip(transport, vp.mrz_key())
    again = read_chip(transport, vp.mrz_key())
    assert (first.access_control, again.access_control) == ("PACE", "PACE")
    assert dict(again.files) == dict(first.files)
    assert "EF.CardAccess" in again.files


def test_cloned_chip_fails_ca_and_aa_but_files_are_read(make_passport: MakePassport) -> None:
    vp = make_passport("cloned_chip")
    result = read(vp)
    assert result.chip_authentication == "failed"
    assert result.active_authentication == "failed"
    assert_files_match(dict(result.files), vp)


def test_missing_dg14_and_dg15_are_not_supported(make_passport: MakePassport) -> None:
    result = read(make_passport("no_ca", "no_aa"))
    assert result.chip_authentication == "not_supported"
    assert result.active_authentication == "not_supported"


def test_ecdsa_active_authentication(make_passport: MakePassport) -> None:
    result = read(make_passport(aa_algorithm="ecdsa-p256"))
    assert result.active_authentication == "passed"


@pytest.mark.parametrize("parameter_id", [12, 13, 15, 16])
@pytest.mark.parametrize("suite", ["1", "2", "3", "4"])
def test_pace_curves_and_ciphers(
    pace_passport: VirtualPassport, parameter_id: int, suite: str
) -> None:
    card_access = SecurityInfos.of([PACEInfo(f"{ID_PACE_ECDH_GM}.{suite}", 2, parameter_id)])
    vp = dataclasses.replace(
        pace_passport, files={**pace_passport.files, "EF.CardAccess": card_access.encode()}
    )
    result = read(vp)
    assert result.access_control == "PACE"
    assert result.chip_authentication == "passed"
    assert result.files["DG2"] == vp.files["DG2"]


@pytest.mark.parametrize(("parameter_id", "suite"), [(0, "1"), (0, "2"), (1, "3"), (2, "4")])
def test_pace_dh_generic_mapping(
    pace_passport: VirtualPassport, parameter_id: int, suite: str
) -> None:
    card_access = SecurityInfos.of([PACEInfo(f"{ID_PACE_DH_GM}.{suite}", 2, parameter_id)])
    vp = dataclasses.replace(
        pace_passport, files={**pace_passport.files, "EF.CardAccess": card_access.encode()}
    )
    result = read(vp, vp.can_key())
    assert result.access_control == "PACE"
    assert result.chip_authentication == "passed"


def test_unsupported_pace_falls_back_to_bac(pace_passport: VirtualPassport) -> None:
    # integrated mapping needs p = 3 mod 4, which P-224 (parameter id 10) is not
    card_access = SecurityInfos.of([PACEInfo("0.4.0.127.0.7.2.2.4.4.2", 2, 10)])
    vp = dataclasses.replace(
        pace_passport, files={**pace_passport.files, "EF.CardAccess": card_access.encode()}
    )
    result = read(vp)
    assert result.access_control == "BAC"
    assert any("PACE offered" in n for n in result.notes)


def test_chip_authentication_with_3des(pace_passport: VirtualPassport) -> None:
    key = pace_passport.ca_key()
    assert key is not None
    spki = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    dg14 = DataGroup14.build(
        [
            ChipAuthenticationInfo(CA_ECDH_3DES_CBC_CBC, 1),
            ChipAuthenticationPublicKeyInfo(ID_PK_ECDH, PublicKeyInfo.parse(spki)),
        ]
    )
    vp = dataclasses.replace(pace_passport, files={**pace_passport.files, "DG14": dg14.encode()})
    result = read(vp)
    assert result.chip_authentication == "passed"
    assert result.files["DG1"] == vp.files["DG1"]


def test_huge_dg2_uses_odd_ins_beyond_32767(make_passport: MakePassport) -> None:
    vp = make_passport("huge_dg2")
    assert len(vp.files["DG2"]) > 0x8000
    card = RecordingCard(ChipEmulator.from_passport(vp))
    result = read_chip(InProcessTransport(card), vp.mrz_key())
    assert result.files["DG2"] == vp.files["DG2"]
    assert 0xB1 in card.ins


def test_listener_events_and_presence(pace_passport: VirtualPassport) -> None:
    events: list[str] = []
    sim = SimulatedDocumentReader()
    sim.set_listener(events.append)
    assert not sim.document_present()
    with pytest.raises(CardRemovedError):
        sim.read(pace_passport.mrz_key())
    sim.place(pace_passport)
    assert sim.document_present()
    sim.remove()
    sim.remove()  # no second event without a document
    assert events == ["placed", "removed"]
    assert not sim.document_present()


def test_removal_during_a_read(pace_passport: VirtualPassport) -> None:
    sim = SimulatedDocumentReader()
    emulator = sim.place(pace_passport)
    original = emulator.process

    def pull_midway(apdu: bytes) -> bytes:
        if emulator.apdu_count == 12:
            sim.remove()
        return original(apdu)

    emulator.process = pull_midway  # type: ignore[method-assign]
    with pytest.raises(CardRemovedError):
        sim.read(pace_passport.mrz_key())


def test_eac_protected_file_is_skipped_not_fatal(pace_passport: VirtualPassport) -> None:
    tags = bytes((0x61, 0x75, 0x63, 0x6B, 0x6C, 0x6E, 0x6F))  # DG1, DG2, DG3, DG11 ...
    com = encode_tlv(
        0x60,
        encode_tlv(0x5F01, b"0107") + encode_tlv(0x5F36, b"040000") + encode_tlv(0x5C, tags),
    )
    files = {**pace_passport.files, "EF.COM": com, "DG3": bytes.fromhex("630400000000")}
    vp = dataclasses.replace(pace_passport, files=files)
    card = ChipEmulator.from_passport(vp)
    options = ReaderOptions(files=(*DEFAULT_FILES, "DG3"))
    result = read_chip(InProcessTransport(card), vp.mrz_key(), options)
    assert "DG3" not in result.files
    assert result.files["EF.COM"] == com
    assert any("DG3: access refused" in n for n in result.notes)
    assert result.chip_authentication == "passed"


def test_point_encoding_pads_short_coordinates() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec
    from ecdsa import curves

    from devices.icao9303.pace import decode_point, encode_point

    while True:  # about 1 in 256 P-256 keys has an x coordinate below 2**248
        key = ec.generate_private_key(ec.SECP256R1())
        x = key.public_key().public_numbers().x
        if x < 1 << 248:
            break
    scalar = key.private_numbers().private_value
    encoded = encode_point(curves.NIST256p.generator * scalar, curves.NIST256p)
    assert len(encoded) == 65 and encoded[1] == 0
    assert int(decode_point(encoded, curves.NIST256p).x()) == x
