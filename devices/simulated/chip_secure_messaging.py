"""The chip side of secure messaging (ICAO 9303-11 9.8), for the chip emulator: it
verifies and decrypts protected commands and protects its responses, with switches
that imitate faulty chips. The terminal side is devices.icao9303.secure_messaging."""

from __future__ import annotations

import hmac

from devices.icao9303.apdu import CommandApdu
from devices.icao9303.secure_messaging import (
    TAG_CRYPTOGRAM,
    TAG_CRYPTOGRAM_ODD,
    TAG_LE,
    TAG_MAC,
    TAG_STATUS,
    SecureMessaging,
    SecureMessagingError,
    pad,
    sm_objects,
)
from devices.icao9303.tlv import encode_length, encode_tlv, tag_bytes


def _long_tlv(tag: int, value: bytes) -> bytes:
    """A TLV whose length uses one more byte than needed (legal BER, not DER)."""
    minimal = encode_length(len(value))
    size = len(minimal) if minimal[0] & 0x80 else 1
    return tag_bytes(tag) + bytes([0x80 | size]) + len(value).to_bytes(size, "big") + value


class ChipSecureMessaging(SecureMessaging):
    """The same session keys and SSC as the terminal's, used from the chip's end."""

    @classmethod
    def of(cls, session: SecureMessaging) -> ChipSecureMessaging:
        """The chip's copy of a session the shared key agreement derived (BAC, CA)."""
        return cls(session.cipher, session.ks_enc, session.ks_mac, session.ssc)

    def unprotect_command(self, cmd: CommandApdu) -> CommandApdu:
        """Verify and decrypt a protected command as the chip does."""
        if cmd.cla & 0x0C != 0x0C:
            raise SecureMessagingError("command is not secure-messaging formatted")
        self.ssc += 1
        objects = sm_objects(cmd.data, "command")
        if not objects or objects[-1].tag != TAG_MAC or len(objects[-1].value) != 8:
            raise SecureMessagingError("secure-messaging command lacks its MAC (DO8E)")
        header = bytes((cmd.cla, cmd.ins, cmd.p1, cmd.p2))
        macced = cmd.data[: objects[-1].start]
        if not hmac.compare_digest(self.mac(pad(header, self.block) + macced), objects[-1].value):
            raise SecureMessagingError("command MAC (DO8E) does not verify")
        data = b""
        ne: int | None = None
        for obj in objects[:-1]:
            plain = self.decrypt_object(obj)
            if plain is not None:
                data = plain
            elif obj.tag == TAG_LE:
                if len(obj.value) == 1:
                    ne = obj.value[0] or 256
                elif len(obj.value) == 2:
                    ne = int.from_bytes(obj.value, "big") or 65536
                else:
                    raise SecureMessagingError("DO97 must hold one or two bytes")
            else:
                raise SecureMessagingError(f"unexpected DO{obj.tag:X} in command")
        return CommandApdu(cmd.cla & 0xF3, cmd.ins, cmd.p1, cmd.p2, data, ne)

    def protect_response(
        self,
        data: bytes,
        sw: int,
        *,
        odd_ins: bool = False,
        include_status: bool = True,
        corrupt_mac: bool = False,
        non_minimal_lengths: bool = False,
    ) -> bytes:
        """Build the chip's protected response (the switches emulate faulty chips).

        `non_minimal_lengths` writes DO87/DO85/DO99/DO8E lengths one byte longer than DER
        needs (`99 81 02 ...`), which BER allows and some chips do.
        """
        self.ssc += 1
        tlv = _long_tlv if non_minimal_lengths else encode_tlv
        objects = b""
        if data:
            cryptogram = self._encrypt(pad(data, self.block))
            if odd_ins:
                objects += tlv(TAG_CRYPTOGRAM_ODD, cryptogram)
            else:
                objects += tlv(TAG_CRYPTOGRAM, b"\x01" + cryptogram)
        if include_status:
            objects += tlv(TAG_STATUS, sw.to_bytes(2, "big"))
        mac = self.mac(objects)
        if corrupt_mac:
            mac = bytes([mac[0] ^ 0x01]) + mac[1:]
        return objects + tlv(TAG_MAC, mac) + sw.to_bytes(2, "big")
