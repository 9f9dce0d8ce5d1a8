"""ICAO 9303-11 Appendix D: BAC key derivation, mutual authentication and SM, byte for byte."""

from __future__ import annotations

import pytest

from devices.errors import AccessDeniedError
from devices.icao9303.apdu import CommandApdu
from devices.icao9303.bac import BacKeys, mrz_information, perform_bac
from devices.icao9303.mrz import check_digit
from devices.icao9303.secure_messaging import SecureMessaging, adjust_parity
from devices.simulated.chip_secure_messaging import ChipSecureMessaging


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


KS_ENC = h("979EC13B1CBFE9DCD01AB0FED307EAE5")
KS_MAC = h("F1CB1F1FB5ADF208806B89DC579DC1F8")
SSC0 = h("887022120C06C226")


def test_check_digits_of_the_example_mrz() -> None:
    assert check_digit("L898902C<") == "3"
    assert check_digit("690806") == "1"
    assert check_digit("940623") == "6"
    assert check_digit("ABC<<<<<<") != check_digit("ABD<<<<<<")


def test_key_derivation_d2() -> None:
    assert mrz_information("L898902C", "690806", "940623") == b"L898902C<369080619406236"
    keys = BacKeys.from_mrz("L898902C", "690806", "940623")
    assert keys.k_seed == h("239AB9CB282DAF66231DC5A4DF6BFBAE")
    assert keys.k_enc == h("AB94FDECF2674FDFB9B391F85D7F76F2")
    assert keys.k_mac == h("7962D9ECE03D1ACD4C76089DCE131543")


def test_parity_adjustment() -> None:
    assert adjust_parity(h("AA95FCEDF3664EDEB8B290F85C7E77F3")) == h(
        "AB94FDECF2674FDFB9B391F85D7F76F2"
    )


class ScriptedCard:
    """Plays the chip's side of a fixed transcript and checks every command."""

    def __init__(self, steps: list[tuple[str, str]]) -> None:
        self.steps = [(h(c), h(r)) for c, r in steps]

    @property
    def extended_length(self) -> bool:
        return False

    def transmit(self, apdu: bytes) -> bytes:
        expected, response = self.steps.pop(0)
        assert apdu.hex().upper() == expected.hex().upper()
        return response

    def close(self) -> None:
        pass


def test_mutual_authentication_d3() -> None:
    card = ScriptedCard(
        [
            ("0084000008", "4608F919887022129000"),
            (
                "0082000028 72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"
                "5F1448EEA8AD90A7 28",
                "46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F"
                "2F2D235D074D7449 9000",
            ),
        ]
    )
    sm = perform_bac(
        card,
        BacKeys.from_mrz("L898902C<", "690806", "940623"),
        rnd_ifd=h("781723860C06C226"),
        k_ifd=h("0B795240CB7049B01C19B33E32804F0B"),
    )
    assert not card.steps
    assert sm.ks_enc == KS_ENC
    assert sm.ks_mac == KS_MAC
    assert sm.ssc_bytes == SSC0


def test_wrong_mrz_is_access_denied() -> None:
    card = ScriptedCard([("0084000008", "4608F919887022129000")])

    class Refusing(ScriptedCard):
        def transmit(self, apdu: bytes) -> bytes:
            if apdu[1] == 0x82:
                return h("6300")
            return super().transmit(apdu)

    refusing = Refusing([("0084000008", "4608F919887022129000")])
    with pytest.raises(AccessDeniedError):
        perform_bac(refusing, BacKeys.from_mrz("X00000000", "690806", "940623"))
    assert card.steps


def test_secure_messaging_exchange_d4() -> None:
    sm = SecureMessaging.tdes(KS_ENC, KS_MAC, SSC0)
    # SELECT EF.COM
    select = sm.protect(CommandApdu(0x00, 0xA4, 0x02, 0x0C, h("011E")))
    assert select.encode().hex().upper() == (
        "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"
    )
    assert sm.ssc_bytes == h("887022120C06C227")
    resp = sm.unprotect(h("990290008E08FA855A5D4C50A8ED9000"))
    assert resp.sw == 0x9000 and resp.data == b""
    assert sm.ssc_bytes == h("887022120C06C228")
    # READ BINARY of the first four bytes
    read = sm.protect(CommandApdu(0x00, 0xB0, 0x00, 0x00, ne=4))
    assert read.encode().hex().upper() == "0CB000000D9701048E08ED6705417E96BA5500"
    resp = sm.unprotect(h("8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"))
    assert resp.data == h("60145F01")
    assert sm.ssc_bytes == h("887022120C06C22A")
    # READ BINARY of the remaining 18 bytes from offset 4
    read = sm.protect(CommandApdu(0x00, 0xB0, 0x00, 0x04, ne=0x12))
    assert read.encode().hex().upper() == "0CB000040D9701128E082EA28A70F3C7B53500"
    resp = sm.unprotect(
        h("871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000")
    )
    assert resp.data == h("04303130365F36063034303030305C026175")
    assert sm.ssc_bytes == h("887022120C06C22C")


def test_chip_side_reproduces_the_d4_responses() -> None:
    chip = ChipSecureMessaging.tdes(KS_ENC, KS_MAC, SSC0)
    cmd = chip.unprotect_command(
        CommandApdu.decode(h("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"))
    )
    assert cmd == CommandApdu(0x00, 0xA4, 0x02, 0x0C, h("011E"))
    assert chip.protect_response(b"", 0x9000) == h("990290008E08FA855A5D4C50A8ED9000")
    cmd = chip.unprotect_command(CommandApdu.decode(h("0CB000000D9701048E08ED6705417E96BA5500")))
    assert cmd.ne == 4 and cmd.data == b""
    assert chip.protect_response(h("60145F01"), 0x9000) == h(
        "8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"
    )
