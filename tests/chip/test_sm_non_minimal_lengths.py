"""Secure messaging MACs the data objects as received: a legal non-minimal BER length
(`99 81 02 90 00`, DO87 as `87 82 00 LL`) verifies when its MAC is right."""

from __future__ import annotations

import pytest

from devices.icao9303.apdu import CommandApdu
from devices.icao9303.reader import read_chip
from devices.icao9303.secure_messaging import (
    SecureMessaging,
    SecureMessagingError,
    encode_tlv,
    pad,
)
from devices.simulated.chip_secure_messaging import ChipSecureMessaging
from devices.simulated.emulator import ChipEmulator, Misbehaviour
from devices.simulated.transport import InProcessTransport
from devices.simulated.virtual_passport import VirtualPassport

KS_ENC = bytes.fromhex("F5F0E35C0D7161EE6724EE513A0D9A7F")
KS_MAC = bytes.fromhex("FE251C7858B356B24514B3BD5F4297D1")


def pair(cipher: str) -> tuple[SecureMessaging, ChipSecureMessaging]:
    """Terminal and chip sessions with the same keys and SSC."""
    return (
        SecureMessaging(cipher, KS_ENC, KS_MAC, 7),  # type: ignore[arg-type]
        ChipSecureMessaging(cipher, KS_ENC, KS_MAC, 7),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("cipher", ["3DES", "AES"])
def test_non_minimal_do99_and_do87_verify(cipher: str) -> None:
    terminal, chip = pair(cipher)
    chip.unprotect_command(terminal.protect(CommandApdu(0x00, 0xB0, 0, 0, ne=200)))
    data = bytes(range(200))
    raw = chip.protect_response(data, 0x9000, non_minimal_lengths=True)
    assert raw.startswith(b"\x87\x82\x00")  # 200 + 1 bytes would fit 87 81 C9 / C1
    assert b"\x99\x81\x02\x90\x00\x8e\x81\x08" in raw
    resp = terminal.unprotect(raw)
    assert (resp.data, resp.sw) == (data, 0x9000)
    assert terminal.ssc == chip.ssc


def test_status_only_answer_with_a_long_form_length() -> None:
    terminal, chip = pair("AES")
    chip.unprotect_command(terminal.protect(CommandApdu(0x00, 0xA4, 0x02, 0x0C, b"\x01\x1e")))
    raw = chip.protect_response(b"", 0x9000, non_minimal_lengths=True)
    assert raw[:5] == bytes.fromhex("9981029000")
    assert terminal.unprotect(raw).sw == 0x9000


def test_the_mac_covers_the_bytes_as_sent() -> None:
    """A MAC over the minimal re-encoding does not verify the long-form bytes (and the
    reverse): the verifier must not normalise what it received."""
    terminal, chip = pair("AES")
    chip.unprotect_command(terminal.protect(CommandApdu(0x00, 0xA4, 0x02, 0x0C, b"\x01\x1e")))
    chip.ssc += 1
    minimal = encode_tlv(0x99, b"\x90\x00")
    mac_of_minimal = chip.mac(minimal)
    chip.ssc -= 1
    forged = bytes.fromhex("9981029000") + encode_tlv(0x8E, mac_of_minimal) + b"\x90\x00"
    with pytest.raises(SecureMessagingError, match="does not verify"):
        terminal.unprotect(forged)


def test_chip_side_accepts_non_minimal_command_objects() -> None:
    terminal, chip = pair("3DES")
    terminal.ssc += 1
    header = bytes((0x0C, 0xB0, 0x00, 0x00))
    do97 = bytes.fromhex("978101") + b"\x20"  # Le 32 in a long-form length
    mac = terminal.mac(pad(header, 8) + do97)
    cmd = CommandApdu(0x0C, 0xB0, 0, 0, do97 + encode_tlv(0x8E, mac), 256)
    plain = chip.unprotect_command(cmd)
    assert plain.ne == 32


def test_reader_reads_a_chip_with_non_minimal_sm_lengths(
    pace_passport: VirtualPassport,
) -> None:
    card = ChipEmulator.from_passport(pace_passport, Misbehaviour(non_minimal_sm_lengths=True))
    seen: list[bytes] = []

    class Recording(InProcessTransport):
        def transmit(self, apdu: bytes) -> bytes:
            answer = super().transmit(apdu)
            seen.append(answer)
            return answer

    result = read_chip(Recording(card), pace_passport.mrz_key())
    assert result.access_control == "PACE"
    assert result.chip_authentication == "passed"
    assert result.active_authentication == "passed"
    for name, raw in result.files.items():
        assert raw == pace_passport.files[name], name
    assert sum(b"\x99\x81\x02" in answer for answer in seen) > 5
