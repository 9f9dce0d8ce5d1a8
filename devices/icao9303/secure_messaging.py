"""Secure messaging, ICAO 9303-11 section 9.8 (3DES retail MAC and AES CMAC).

One `SecureMessaging` object holds the session keys and the send sequence counter
(SSC). The terminal side calls `protect` / `unprotect`; the chip side
(`unprotect_command` / `protect_response`) is the emulator's subclass,
devices.simulated.chip_secure_messaging.ChipSecureMessaging. The SSC is advanced
once for each protected command and once for each protected response. A bare status
word without secure-messaging objects (a chip that rejected the APDU before its SM
layer, e.g. the unprotected 6700 of chips refusing extended length) undoes the
command's increment, because such a chip has not counted the command either.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal, Self

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

from devices.errors import ChipError
from devices.icao9303.apdu import SHORT_MAX_NE, ApduError, CommandApdu, ResponseApdu
from devices.icao9303.tlv import TlvError, encode_tlv, read_length, read_tag

SmCipherName = Literal["3DES", "AES"]

TAG_PLAIN_ODD = 0x81
TAG_CRYPTOGRAM_ODD = 0x85
TAG_CRYPTOGRAM = 0x87
TAG_LE = 0x97
TAG_STATUS = 0x99
TAG_MAC = 0x8E


class SecureMessagingError(ChipError):
    """A secure-messaging object is missing, malformed or fails its MAC."""


@dataclass(frozen=True)
class SmObject:
    """One SM data object and where it starts in the bytes received."""

    tag: int
    value: bytes
    start: int


def sm_objects(data: bytes, what: str) -> list[SmObject]:
    """The SM data objects of a command or response body, offsets kept.

    The MAC covers the objects exactly as they were sent, so a legal non-minimal
    length (`99 81 02 90 00`) must not be re-encoded before verification.
    """
    out: list[SmObject] = []
    pos = 0
    try:
        while pos < len(data):
            start = pos
            tag, pos = read_tag(data, pos)
            length, pos = read_length(data, pos)
            if pos + length > len(data):
                raise TlvError(f"DO{tag:X} declares {length} bytes, {len(data) - pos} remain")
            out.append(SmObject(tag, bytes(data[pos : pos + length]), start))
            pos += length
    except TlvError as exc:
        raise SecureMessagingError(f"malformed secure-messaging {what}: {exc}") from exc
    return out


# --- primitives ---------------------------------------------------------------


def pad(data: bytes, block: int) -> bytes:
    """ISO/IEC 9797-1 padding method 2: 80 then zeros to the block size."""
    padded = data + b"\x80"
    return padded + b"\x00" * (-len(padded) % block)


def unpad(data: bytes) -> bytes:
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80:
        raise SecureMessagingError("decrypted data lacks ISO/IEC 9797-1 method 2 padding")
    return stripped[:-1]


def adjust_parity(key: bytes) -> bytes:
    """DES keys carry odd parity in each byte's low bit."""
    out = bytearray()
    for b in key:
        high = b & 0xFE
        out.append(high | (bin(high).count("1") + 1) % 2)
    return bytes(out)


def _tdes(key: bytes) -> TripleDES:
    # Always hand over the 24-byte form: K1K2K1 (two-key 3DES) or K1K1K1 (single DES).
    if len(key) == 8:
        key = key * 3
    elif len(key) == 16:
        key = key + key[:8]
    return TripleDES(key)


def tdes_cbc(key: bytes, data: bytes, *, decrypt: bool = False, iv: bytes = bytes(8)) -> bytes:
    cipher = Cipher(_tdes(key), modes.CBC(iv))
    ctx = cipher.decryptor() if decrypt else cipher.encryptor()
    return ctx.update(data) + ctx.finalize()


def aes_cbc(key: bytes, data: bytes, *, decrypt: bool = False, iv: bytes = bytes(16)) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    ctx = cipher.decryptor() if decrypt else cipher.encryptor()
    return ctx.update(data) + ctx.finalize()


def aes_ecb(key: bytes, block: bytes) -> bytes:
    ctx = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return ctx.update(block) + ctx.finalize()


def retail_mac(key: bytes, padded: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 with DES: CBC under Ka, then D(Kb), E(Ka)."""
    ka, kb = key[:8], key[8:16]
    last = tdes_cbc(ka, padded)[-8:]
    dec = Cipher(_tdes(kb), modes.ECB()).decryptor()
    enc = Cipher(_tdes(ka), modes.ECB()).encryptor()
    return enc.update(dec.update(last) + dec.finalize()) + enc.finalize()


def aes_cmac(key: bytes, data: bytes) -> bytes:
    mac = CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()


def derive_key(seed: bytes, counter: int, cipher: SmCipherName, key_bytes: int = 16) -> bytes:
    """ICAO 9303-11 9.7.1: KDF(K, c) = H(K || c) cut to the key length.

    SHA-1 for 3DES and AES-128, SHA-256 for AES-192/256; 3DES keys get DES parity.
    """
    data = seed + counter.to_bytes(4, "big")
    if cipher == "3DES":
        return adjust_parity(hashlib.sha1(data).digest()[:16])
    if key_bytes == 16:
        return hashlib.sha1(data).digest()[:16]
    if key_bytes in (24, 32):
        return hashlib.sha256(data).digest()[:key_bytes]
    raise ValueError(f"unsupported AES key length {key_bytes}")


# --- secure messaging ---------------------------------------------------------


@dataclass(frozen=True)
class SmStatus:
    """How the last response was protected (for diagnostics and notes)."""

    protected: bool
    had_status_object: bool


class SecureMessaging:
    """Session keys plus SSC; protects commands and verifies responses."""

    def __init__(self, cipher: SmCipherName, ks_enc: bytes, ks_mac: bytes, ssc: int = 0) -> None:
        if cipher == "3DES":
            if len(ks_enc) != 16 or len(ks_mac) != 16:
                raise ValueError("3DES secure messaging needs 16-byte keys")
            self.block = 8
        else:
            if len(ks_enc) not in (16, 24, 32) or len(ks_mac) != len(ks_enc):
                raise ValueError("AES secure messaging needs 16, 24 or 32-byte keys")
            self.block = 16
        self.cipher = cipher
        self.ks_enc = ks_enc
        self.ks_mac = ks_mac
        self.ssc = ssc
        self.last = SmStatus(protected=True, had_status_object=True)
        self._pending = False

    @classmethod
    def tdes(cls, ks_enc: bytes, ks_mac: bytes, ssc: bytes) -> Self:
        return cls("3DES", ks_enc, ks_mac, int.from_bytes(ssc, "big"))

    @classmethod
    def aes(cls, ks_enc: bytes, ks_mac: bytes, ssc: int = 0) -> Self:
        return cls("AES", ks_enc, ks_mac, ssc)

    @property
    def ssc_bytes(self) -> bytes:
        return (self.ssc % (1 << (8 * self.block))).to_bytes(self.block, "big")

    @property
    def max_short_read(self) -> int:
        """Largest READ BINARY plaintext whose protected response fits a short APDU."""
        # 87 81 L 01 <cryptogram> + 99 02 SW + 8E 08 MAC within 256 bytes.
        cryptogram = (SHORT_MAX_NE - 4 - 4 - 10) // self.block * self.block
        return cryptogram - 1

    # primitives under the session keys

    def _encrypt(self, data: bytes) -> bytes:
        if self.cipher == "3DES":
            return tdes_cbc(self.ks_enc, data)
        return aes_cbc(self.ks_enc, data, iv=aes_ecb(self.ks_enc, self.ssc_bytes))

    def _decrypt(self, data: bytes) -> bytes:
        if not data or len(data) % self.block:
            raise SecureMessagingError(
                f"cryptogram of {len(data)} bytes is not a multiple of {self.block}"
            )
        if self.cipher == "3DES":
            return tdes_cbc(self.ks_enc, data, decrypt=True)
        return aes_cbc(self.ks_enc, data, decrypt=True, iv=aes_ecb(self.ks_enc, self.ssc_bytes))

    def mac(self, data: bytes) -> bytes:
        """MAC over SSC || data, padded (ICAO 9303-11 9.8.6.2)."""
        padded = pad(self.ssc_bytes + data, self.block)
        if self.cipher == "3DES":
            return retail_mac(self.ks_mac, padded)
        return aes_cmac(self.ks_mac, padded)[:8]

    def decrypt_object(self, obj: SmObject) -> bytes | None:
        """The plaintext of a DO87 (after its 01 padding indicator) or a DO85, on either
        side; None for any other data object."""
        if obj.tag == TAG_CRYPTOGRAM:
            if not obj.value or obj.value[0] != 0x01:
                raise SecureMessagingError("DO87 lacks the padding-content indicator 01")
            return unpad(self._decrypt(obj.value[1:]))
        if obj.tag == TAG_CRYPTOGRAM_ODD:
            return unpad(self._decrypt(obj.value))
        return None

    # terminal side

    def protect(self, cmd: CommandApdu) -> CommandApdu:
        """Wrap a plain command: DO87/DO85 (data), DO97 (Le), DO8E (MAC)."""
        if cmd.cla & 0x0C:
            raise ValueError("command is already secure-messaging formatted")
        self.ssc += 1
        self._pending = True
        header = bytes((cmd.cla | 0x0C, cmd.ins, cmd.p1, cmd.p2))
        objects = b""
        if cmd.data:
            cryptogram = self._encrypt(pad(cmd.data, self.block))
            if cmd.ins & 1:
                objects += encode_tlv(TAG_CRYPTOGRAM_ODD, cryptogram)
            else:
                objects += encode_tlv(TAG_CRYPTOGRAM, b"\x01" + cryptogram)
        extended = cmd.needs_extended
        if cmd.ne is not None:
            le_len = 2 if cmd.ne > SHORT_MAX_NE else 1
            objects += encode_tlv(TAG_LE, (cmd.ne % (1 << (8 * le_len))).to_bytes(le_len, "big"))
        mac = self.mac(pad(header, self.block) + objects)
        body = objects + encode_tlv(TAG_MAC, mac)
        ne = 65536 if extended or len(body) > 255 else 256
        return CommandApdu(header[0], cmd.ins, cmd.p1, cmd.p2, body, ne)

    def unprotect(self, raw: bytes) -> ResponseApdu:
        """Verify and decrypt a protected response (raises SecureMessagingError)."""
        try:
            resp = ResponseApdu.decode(raw)
        except ApduError as exc:
            raise SecureMessagingError(str(exc)) from exc
        pending, self._pending = self._pending, False
        if not resp.data:
            if resp.sw == 0x9000 or resp.sw >> 8 == 0x61:
                if pending:
                    self.ssc += 1
                raise SecureMessagingError(f"status {resp.sw:04X} without secure messaging")
            if pending:
                self.ssc -= 1  # the chip rejected the APDU before counting it
            self.last = SmStatus(protected=False, had_status_object=False)
            return resp
        self.ssc += 1
        objects = sm_objects(resp.data, "response")
        if not objects or objects[-1].tag != TAG_MAC:
            raise SecureMessagingError("secure-messaging response lacks its MAC (DO8E) at the end")
        mac_obj = objects[-1]
        if len(mac_obj.value) != 8:
            raise SecureMessagingError(f"DO8E holds {len(mac_obj.value)} bytes, expected 8")
        macced = resp.data[: mac_obj.start]  # as received (JMRTD does the same)
        if not hmac.compare_digest(self.mac(macced), mac_obj.value):
            raise SecureMessagingError("response MAC (DO8E) does not verify")
        data = b""
        sw: int | None = None
        seen: set[int] = set()
        for obj in objects[:-1]:
            if obj.tag in seen:
                raise SecureMessagingError(f"duplicate DO{obj.tag:X} in response")
            seen.add(obj.tag)
            plain = self.decrypt_object(obj)
            if plain is not None:
                data = plain
            elif obj.tag == TAG_PLAIN_ODD:
                data = obj.value
            elif obj.tag == TAG_STATUS:
                if len(obj.value) != 2:
                    raise SecureMessagingError(f"DO99 holds {len(obj.value)} bytes, expected 2")
                sw = int.from_bytes(obj.value, "big")
            else:
                raise SecureMessagingError(f"unexpected DO{obj.tag:X} in response")
        self.last = SmStatus(protected=True, had_status_object=sw is not None)
        return ResponseApdu(data, resp.sw if sw is None else sw)
