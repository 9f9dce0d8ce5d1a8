"""The reader against deliberately faulty chips and readers (Misbehaviour switches)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from devices.errors import CardRemovedError, ChipError
from devices.icao9303.apdu import CommandApdu
from devices.icao9303.reader import ChipReadReport, read_chip
from devices.icao9303.secure_messaging import SecureMessaging, SecureMessagingError
from devices.simulated.emulator import ChipEmulator, Misbehaviour
from devices.simulated.transport import InProcessTransport
from devices.simulated.virtual_passport import VirtualPassport

MakePassport = Callable[..., VirtualPassport]


def run(vp: VirtualPassport, mb: Misbehaviour, *, extended: bool = True) -> ChipReadReport:
    card = ChipEmulator.from_passport(vp, mb)
    return read_chip(InProcessTransport(card, extended_length=extended), vp.mrz_key())


def files_ok(result: ChipReadReport, vp: VirtualPassport) -> None:
    assert set(result.files) == set(vp.files)
    for name, raw in result.files.items():
        assert raw == vp.files[name], name


def test_chip_refusing_extended_length_like_bac_only_chinese_passports(
    make_passport: MakePassport,
) -> None:
    vp = make_passport("bac_only", "no_ca")
    result = run(vp, Misbehaviour(refuse_extended_length=True))
    files_ok(result, vp)
    assert result.access_control == "BAC"
    assert result.active_authentication == "passed"
    assert any("refused extended length" in n for n in result.notes)
    # DG2 now needs short reads of at most 231 bytes (3DES SM)
    assert result.block_size == 231
    assert result.apdus > len(vp.files["DG2"]) // 231


def test_reader_without_extended_length_uses_short_apdus(pace_passport: VirtualPassport) -> None:
    result = run(pace_passport, Misbehaviour(), extended=False)
    files_ok(result, pace_passport)
    assert result.block_size == 223  # AES SM
    assert result.chip_authentication == "passed"


def test_reader_cutting_long_apdus(pace_passport: VirtualPassport) -> None:
    result = run(pace_passport, Misbehaviour(cut_long_apdus=True))
    files_ok(result, pace_passport)
    assert any("garbled extended answer" in n for n in result.notes)


def test_missing_do99_is_tolerated_and_noted(pace_passport: VirtualPassport) -> None:
    result = run(pace_passport, Misbehaviour(drop_do99=True))
    files_ok(result, pace_passport)
    assert "sm_response_without_do99" in result.notes
    assert result.chip_authentication == "passed"


def test_wrong_mac_is_a_chip_error(pace_passport: VirtualPassport) -> None:
    with pytest.raises(SecureMessagingError, match="MAC"):
        run(pace_passport, Misbehaviour(wrong_mac_from=3))


def test_short_reads_are_continued(pace_passport: VirtualPassport) -> None:
    result = run(pace_passport, Misbehaviour(short_read=100))
    files_ok(result, pace_passport)
    assert result.block_size == 100


def test_unprotected_6982_mid_session_reruns_access_control(
    pace_passport: VirtualPassport,
) -> None:
    result = run(pace_passport, Misbehaviour(sm_6982_at=4))
    files_ok(result, pace_passport)
    assert any("re-run" in n for n in result.notes)


def test_card_removed_after_n_apdus(pace_passport: VirtualPassport) -> None:
    with pytest.raises(CardRemovedError):
        run(pace_passport, Misbehaviour(remove_after=9))


def test_silent_aa_on_extended_le_is_avoided(make_passport: MakePassport) -> None:
    # The reader sends AA with a short Le, so such chips still sign.
    result = run(make_passport("bac_only"), Misbehaviour(aa_silent_on_extended_le=True))
    assert result.active_authentication == "passed"


def test_unprotected_status_does_not_advance_the_ssc() -> None:
    sm = SecureMessaging.aes(bytes(16), bytes(range(16)), 41)
    sm.protect(CommandApdu(0x00, 0xB0, 0, 0, ne=65536))
    resp = sm.unprotect(bytes.fromhex("6700"))
    assert resp.sw == 0x6700
    assert sm.ssc == 41
    assert not sm.last.protected
    # A bare 9000 is not acceptable under secure messaging
    sm.protect(CommandApdu(0x00, 0xB0, 0, 0, ne=4))
    with pytest.raises(SecureMessagingError):
        sm.unprotect(bytes.fromhex("9000"))


def test_chip_side_rejects_a_bad_command_mac_and_drops_the_session(
    pace_passport: VirtualPassport,
) -> None:
    card = ChipEmulator.from_passport(pace_passport)
    transport = InProcessTransport(card)
    result = read_chip(transport, pace_passport.mrz_key())
    assert result.access_control == "PACE"
    forged = bytes.fromhex("0CB000000D970104" + "8E08" + "00" * 8 + "00")
    assert transport.transmit(forged) in (bytes.fromhex("6988"), bytes.fromhex("6987"))
    # the session is gone: application files are refused without secure messaging
    assert card.process(bytes.fromhex("00A4040C07A0000002471001")) == bytes.fromhex("9000")
    assert card.process(bytes.fromhex("00A4020C020101")) == bytes.fromhex("6982")
    assert card.process(bytes.fromhex("00")) == bytes.fromhex("6700")  # answered, not raised


def test_a_dribbling_chip_hits_the_apdu_budget(
    pace_passport: VirtualPassport, monkeypatch: pytest.MonkeyPatch
) -> None:
    import devices.icao9303.reader as reader

    monkeypatch.setattr(reader, "MAX_APDUS", 200)
    with pytest.raises(ChipError, match="more than 200 APDUs"):
        run(pace_passport, Misbehaviour(short_read=16))
