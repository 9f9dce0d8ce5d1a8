"""Chip Authentication v1 with ECDH (ICAO 9303-11 6.2, BSI TR-03110-1 3.4).

The terminal sends an ephemeral public key on the domain parameters of the chip's
static key from DG14; both sides derive new secure-messaging keys from the ECDH
secret and restart the SSC at zero. CA v1 authenticates implicitly: the chip is
genuine when its next response verifies under the new keys, which the reader checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from devices.errors import ChipError
from devices.icao9303.apdu import CommandApdu
from devices.icao9303.lds import LdsError
from devices.icao9303.lds.dg14 import DataGroup14
from devices.icao9303.lds.security_infos import (
    ID_CA_ECDH,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    cipher_key,
)
from devices.icao9303.pace import oid_value
from devices.icao9303.secure_messaging import SecureMessaging, SmCipherName, derive_key
from devices.icao9303.tlv import encode_tlv
from devices.icao9303.transport import Transport


class ChipAuthenticationUnsupported(ChipError):
    """DG14 offers no chip authentication this terminal can run."""




@dataclass(frozen=True)
class ChipAuthenticationSetup:
    """The CA protocol and chip key chosen from DG14."""

    protocol: str
    cipher: SmCipherName
    key_bytes: int
    key_id: int | None
    chip_public_key: ec.EllipticCurvePublicKey

    @property
    def curve(self) -> ec.EllipticCurve:
        return self.chip_public_key.curve


def select_chip_authentication(dg14_raw: bytes) -> ChipAuthenticationSetup:
    """Pick an ECDH CA protocol and its public key from DG14 (raises when none fits)."""
    try:
        infos = DataGroup14.parse(dg14_raw).security_infos
    except LdsError as exc:
        raise ChipError(f"DG14 is malformed: {exc}") from exc
    keys = [k for k in infos.chip_authentication_public_keys if k.public_key.kind == "ec"]
    ca_infos = [i for i in infos.chip_authentication_infos if i.protocol.startswith(ID_CA_ECDH)]
    if not keys:
        raise ChipAuthenticationUnsupported("DG14 holds no ECDH chip authentication key")
    pairs: list[tuple[ChipAuthenticationInfo | None, ChipAuthenticationPublicKeyInfo]] = []
    for key in keys:
        match = [i for i in ca_infos if i.key_id == key.key_id or len(keys) == 1]
        pairs.append((match[0] if match else None, key))
    for info, key in pairs:
        protocol = info.protocol if info else ID_CA_ECDH + ".1"  # TR-03110: default 3DES
        suite = cipher_key(protocol)
        if suite is None:
            continue
        try:
            public = key.public_key.to_cryptography()
        except LdsError:
            continue
        if not isinstance(public, ec.EllipticCurvePublicKey):
            continue
        cipher, size = suite
        return ChipAuthenticationSetup(protocol, cipher, size, key.key_id, public)
    raise ChipAuthenticationUnsupported("DG14's chip authentication key is on an unsupported curve")


def encode_public_point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def derive_session(setup_cipher: SmCipherName, key_bytes: int, shared: bytes) -> SecureMessaging:
    return SecureMessaging(
        setup_cipher,
        derive_key(shared, 1, setup_cipher, key_bytes),
        derive_key(shared, 2, setup_cipher, key_bytes),
        0,
    )


def _key_reference(key_id: int | None) -> bytes:
    if key_id is None:
        return b""
    size = max(1, (key_id.bit_length() + 7) // 8)
    return encode_tlv(0x84, key_id.to_bytes(size, "big"))


def perform_chip_authentication(
    transport: Transport, sm: SecureMessaging, setup: ChipAuthenticationSetup
) -> SecureMessaging:
    """Run CA v1 under the current session; returns the re-keyed session.

    Raises ChipError when the chip refuses the key (CA then counts as failed).
    """
    ephemeral = ec.generate_private_key(setup.curve)
    point = encode_public_point(ephemeral.public_key())
    if setup.cipher == "3DES":
        # MSE:Set KAT carries the key directly (TR-03110-3 B.11.1).
        data = encode_tlv(0x91, point) + _key_reference(setup.key_id)
        commands = [CommandApdu(0x00, 0x22, 0x41, 0xA6, data)]
    else:
        # MSE:Set AT then GENERAL AUTHENTICATE (TR-03110-3 B.11.1, B.11.2).
        data = encode_tlv(0x80, oid_value(setup.protocol)) + _key_reference(setup.key_id)
        commands = [
            CommandApdu(0x00, 0x22, 0x41, 0xA4, data),
            CommandApdu(0x00, 0x86, 0, 0, encode_tlv(0x7C, encode_tlv(0x80, point)), ne=256),
        ]
    for cmd in commands:
        resp = sm.unprotect(transport.transmit(sm.protect(cmd).encode()))
        if resp.sw != 0x9000:
            raise ChipError(f"chip authentication refused: status {resp.sw:04X}")
    shared = ephemeral.exchange(ec.ECDH(), setup.chip_public_key)
    return derive_session(setup.cipher, setup.key_bytes, shared)


def chip_shared_secret(key: ec.EllipticCurvePrivateKey, terminal_point: bytes) -> bytes:
    """Chip side: ECDH of the static CA key with the terminal's point."""
    try:
        peer = ec.EllipticCurvePublicKey.from_encoded_point(key.curve, terminal_point)
    except ValueError as exc:
        raise ChipError(f"terminal key is not a point on {key.curve.name}") from exc
    return key.exchange(ec.ECDH(), peer)
