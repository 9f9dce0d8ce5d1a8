"""ISO/IEC 7816-4 command and response APDUs (5.1), short and extended length.

Ne follows the standard's convention: None means no Le field; 256 is the short
Le '00'; 65536 is the extended Le '0000'.
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.errors import ChipError

SHORT_MAX_NC = 255
SHORT_MAX_NE = 256
EXTENDED_MAX_NC = 65535
EXTENDED_MAX_NE = 65536

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282  # fewer bytes than Ne: end of file reached
SW_WRONG_LENGTH = 0x6700
SW_SECURITY_NOT_SATISFIED = 0x6982
SW_AUTH_METHOD_BLOCKED = 0x6983
SW_REFERENCE_DATA_NOT_USABLE = 0x6984
SW_CONDITIONS_NOT_SATISFIED = 0x6985
SW_SM_DATA_MISSING = 0x6987
SW_SM_DATA_INCORRECT = 0x6988
SW_WRONG_DATA = 0x6A80
SW_FILE_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_UNKNOWN = 0x6F00


class ApduError(ChipError):
    """Bytes that are not a well-formed command or response APDU."""


class StatusError(ChipError):
    """The card answered with a status word other than the one the command needs."""

    def __init__(self, sw: int, what: str) -> None:
        super().__init__(f"{what}: status {sw:04X}")
        self.sw = sw


@dataclass(frozen=True)
class CommandApdu:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    ne: int | None = None

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFF:
                raise ApduError(f"{name} {value} is not a byte")
        if len(self.data) > EXTENDED_MAX_NC:
            raise ApduError(f"command data of {len(self.data)} bytes exceeds {EXTENDED_MAX_NC}")
        if self.ne is not None and not 1 <= self.ne <= EXTENDED_MAX_NE:
            raise ApduError(f"Ne {self.ne} outside 1..{EXTENDED_MAX_NE}")

    @property
    def needs_extended(self) -> bool:
        return len(self.data) > SHORT_MAX_NC or (self.ne is not None and self.ne > SHORT_MAX_NE)

    def encode(self, extended: bool | None = None) -> bytes:
        """Serialise; extended length when needed (or when forced with extended=True)."""
        ext = self.needs_extended if extended is None else extended
        if self.needs_extended and not ext:
            raise ApduError("this APDU needs extended length")
        out = bytearray((self.cla, self.ins, self.p1, self.p2))
        nc = len(self.data)
        if not ext:
            if nc:
                out.append(nc)
                out += self.data
            if self.ne is not None:
                out.append(self.ne & 0xFF)  # 256 -> 00
            return bytes(out)
        if nc:
            out += b"\x00" + nc.to_bytes(2, "big")
            out += self.data
        if self.ne is not None:
            le = (self.ne & 0xFFFF).to_bytes(2, "big")  # 65536 -> 0000
            out += le if nc else b"\x00" + le
        return bytes(out)

    @classmethod
    def decode(cls, raw: bytes) -> CommandApdu:
        """Parse the four ISO/IEC 7816-4 cases in short and extended form."""
        if len(raw) < 4:
            raise ApduError(f"command APDU of {len(raw)} bytes is shorter than its header")
        cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, ne=body[0] or 256)
        if body[0] != 0:
            nc = body[0]
            if len(body) == 1 + nc:
                return cls(cla, ins, p1, p2, bytes(body[1:]))
            if len(body) == 2 + nc:
                return cls(cla, ins, p1, p2, bytes(body[1 : 1 + nc]), body[-1] or 256)
            raise ApduError(f"short Lc {nc} does not match {len(body) - 1} body bytes")
        # Extended form: body starts with 00.
        if len(body) == 3:
            le = int.from_bytes(body[1:3], "big")
            return cls(cla, ins, p1, p2, ne=le or 65536)
        if len(body) < 3:
            raise ApduError("truncated extended length field")
        nc = int.from_bytes(body[1:3], "big")
        if nc == 0:
            raise ApduError("extended Lc of zero")
        if len(body) == 3 + nc:
            return cls(cla, ins, p1, p2, bytes(body[3:]))
        if len(body) == 5 + nc:
            le = int.from_bytes(body[-2:], "big")
            return cls(cla, ins, p1, p2, bytes(body[3 : 3 + nc]), le or 65536)
        raise ApduError(f"extended Lc {nc} does not match {len(body) - 3} body bytes")


@dataclass(frozen=True)
class ResponseApdu:
    data: bytes
    sw: int

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    def encode(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    @classmethod
    def decode(cls, raw: bytes) -> ResponseApdu:
        if len(raw) < 2:
            raise ApduError(f"response of {len(raw)} bytes has no status word")
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))

    def require_ok(self, what: str) -> bytes:
        if self.sw != SW_OK:
            raise StatusError(self.sw, what)
        return self.data


def is_extended_encoding(raw: bytes) -> bool:
    """Whether a command APDU uses the extended length fields (body starting 00, > 1 byte)."""
    return len(raw) > 5 and raw[4] == 0x00
