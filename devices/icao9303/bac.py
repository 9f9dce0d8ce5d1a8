"""Basic Access Control, ICAO 9303-11 section 4.3 (worked example in Appendix D).

The terminal derives Kenc/Kmac from the MRZ, runs GET CHALLENGE and EXTERNAL
AUTHENTICATE (mutual authentication with 3DES + retail MAC), and derives the
3DES session keys and the initial SSC.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from devices.errors import AccessDeniedError, ChipError
from devices.icao9303.apdu import CommandApdu, ResponseApdu
from devices.icao9303.mrz import check_digit
from devices.icao9303.secure_messaging import (
    SecureMessaging,
    derive_key,
    pad,
    retail_mac,
    tdes_cbc,
)
from devices.icao9303.transport import Transport


def mrz_information(document_number: str, birth_date: str, expiry_date: str) -> bytes:
    """Document number, birth date, expiry date, each with its check digit (9.7.2).

    Document numbers of up to 9 characters are filler-padded; longer ones (TD1
    extended numbers) are used in full, as the key seed then takes them whole.
    """
    number = document_number.strip().upper().replace(" ", "<")
    if len(number) < 9:
        number = number.ljust(9, "<")
    for name, value in (("birth date", birth_date), ("expiry date", expiry_date)):
        if len(value) != 6 or not value.isdigit():
            raise ValueError(f"{name} {value!r} is not YYMMDD")
    text = (
        number
        + check_digit(number)
        + birth_date
        + check_digit(birth_date)
        + expiry_date
        + check_digit(expiry_date)
    )
    return text.encode("ascii")


@dataclass(frozen=True)
class BacKeys:
    """Document basic access keys Kenc and Kmac (ICAO 9303-11 4.3.2)."""

    k_seed: bytes
    k_enc: bytes
    k_mac: bytes

    @classmethod
    def from_seed(cls, k_seed: bytes) -> BacKeys:
        return cls(k_seed, derive_key(k_seed, 1, "3DES"), derive_key(k_seed, 2, "3DES"))

    @classmethod
    def from_mrz(cls, document_number: str, birth_date: str, expiry_date: str) -> BacKeys:
        info = mrz_information(document_number, birth_date, expiry_date)
        return cls.from_seed(hashlib.sha1(info).digest()[:16])


def session_from_key_material(
    k_ifd: bytes, k_ic: bytes, rnd_ic: bytes, rnd_ifd: bytes
) -> SecureMessaging:
    """KSenc/KSmac from K.IFD xor K.IC; SSC from the low halves of the nonces."""
    seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
    ssc = rnd_ic[4:] + rnd_ifd[4:]
    return SecureMessaging.tdes(derive_key(seed, 1, "3DES"), derive_key(seed, 2, "3DES"), ssc)


def authentication_cryptogram(keys: BacKeys, s: bytes) -> bytes:
    """E.IFD || M.IFD for EXTERNAL AUTHENTICATE."""
    e = tdes_cbc(keys.k_enc, s)
    return e + retail_mac(keys.k_mac, pad(e, 8))


def perform_bac(
    transport: Transport,
    keys: BacKeys,
    *,
    rnd_ifd: bytes | None = None,
    k_ifd: bytes | None = None,
) -> SecureMessaging:
    """Run BAC (terminal side) and return the secure-messaging session.

    rnd_ifd/k_ifd are for reproducing the worked example; normally random.
    """
    rnd_ifd = rnd_ifd if rnd_ifd is not None else os.urandom(8)
    k_ifd = k_ifd if k_ifd is not None else os.urandom(16)
    resp = ResponseApdu.decode(transport.transmit(CommandApdu(0x00, 0x84, 0, 0, ne=8).encode()))
    if resp.sw != 0x9000 or len(resp.data) != 8:
        raise ChipError(f"GET CHALLENGE failed: status {resp.sw:04X}, {len(resp.data)} bytes")
    rnd_ic = resp.data
    cryptogram = authentication_cryptogram(keys, rnd_ifd + rnd_ic + k_ifd)
    cmd = CommandApdu(0x00, 0x82, 0, 0, cryptogram, ne=40)
    resp = ResponseApdu.decode(transport.transmit(cmd.encode()))
    if resp.sw in (0x6300, 0x6982, 0x6985, 0x6A80) or (resp.sw >> 8) == 0x63:
        raise AccessDeniedError(f"BAC refused by the chip (status {resp.sw:04X}): wrong MRZ?")
    if resp.sw != 0x9000 or len(resp.data) != 40:
        raise ChipError(f"EXTERNAL AUTHENTICATE failed: status {resp.sw:04X}")
    e_ic, m_ic = resp.data[:32], resp.data[32:]
    if not hmac.compare_digest(retail_mac(keys.k_mac, pad(e_ic, 8)), m_ic):
        raise AccessDeniedError("BAC: the chip's MAC does not verify (wrong MRZ?)")
    r = tdes_cbc(keys.k_enc, e_ic, decrypt=True)
    if r[:8] != rnd_ic or r[8:16] != rnd_ifd:
        raise AccessDeniedError("BAC: the chip's answer does not echo the nonces")
    return session_from_key_material(k_ifd, r[16:32], rnd_ic, rnd_ifd)
