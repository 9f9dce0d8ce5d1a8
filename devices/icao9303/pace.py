"""PACE v2 with generic mapping on elliptic curves (ICAO 9303-11 4.4, BSI TR-03110-2 3.2).

Terminal side: `perform_pace`. The pieces (nonce encryption, mapping, key
derivation, authentication token) are module functions shared with the chip
emulator; the ICAO 9303-11 Appendix G worked example pins each of them in tests.
Point arithmetic on the mapped generator uses python-ecdsa, because `cryptography`
only multiplies the standard generator.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

from ecdsa import curves as ec_curves
from ecdsa.ellipticcurve import INFINITY, PointJacobi
from ecdsa.errors import MalformedPointError

from devices.errors import AccessDeniedError, ChipError
from devices.icao9303.apdu import CommandApdu, ResponseApdu
from devices.icao9303.bac import mrz_information
from devices.icao9303.lds.der import encode_oid
from devices.icao9303.secure_messaging import (
    SecureMessaging,
    SmCipherName,
    aes_cbc,
    aes_cmac,
    derive_key,
    pad,
    retail_mac,
    tdes_cbc,
)
from devices.icao9303.tlv import TlvError, encode_tlv, parse_single
from devices.icao9303.transport import Transport

ID_PACE = "0.4.0.127.0.7.2.2.4"
ID_PACE_DH_GM = ID_PACE + ".1"
ID_PACE_ECDH_GM = ID_PACE + ".2"
PACE_ECDH_GM_AES_128 = ID_PACE_ECDH_GM + ".2"

# Standardized domain parameters (ICAO 9303-11 Table 6 / TR-03110-3 A.2.1.1).
DOMAIN_PARAMETERS: dict[int, ec_curves.Curve] = {
    8: ec_curves.NIST192p,
    9: ec_curves.BRAINPOOLP192r1,
    10: ec_curves.NIST224p,
    11: ec_curves.BRAINPOOLP224r1,
    12: ec_curves.NIST256p,
    13: ec_curves.BRAINPOOLP256r1,
    14: ec_curves.BRAINPOOLP320r1,
    15: ec_curves.NIST384p,
    16: ec_curves.BRAINPOOLP384r1,
    17: ec_curves.BRAINPOOLP512r1,
    18: ec_curves.NIST521p,
}


@dataclass(frozen=True)
class DhGroup:
    """A MODP group with a prime-order subgroup: modulus p, generator g of order q."""

    p: int
    g: int
    q: int

    @classmethod
    def from_hex(cls, p: str, g: str, q: str) -> DhGroup:
        return cls(int(p, 16), int(g, 16), int(q, 16))


# RFC 5114 groups, standardized PACE domain parameters 0, 1 and 2 (ICAO 9303-11 Table 6).
DH_GROUPS: dict[int, DhGroup] = {
    0: DhGroup.from_hex(
        "B10B8F96A080E01DDE92DE5EAE5D54EC52C99FBCFB06A3C69A6A9DCA52D23B616073E28675A23D18"
        "9838EF1E2EE652C013ECB4AEA906112324975C3CD49B83BFACCBDD7D90C4BD7098488E9C219A7372"
        "4EFFD6FAE5644738FAA31A4FF55BCCC0A151AF5F0DC8B4BD45BF37DF365C1A65E68CFDA76D4DA708"
        "DF1FB2BC2E4A4371",
        "A4D1CBD5C3FD34126765A442EFB99905F8104DD258AC507FD6406CFF14266D31266FEA1E5C41564B"
        "777E690F5504F213160217B4B01B886A5E91547F9E2749F4D7FBD7D3B9A92EE1909D0D2263F80A76"
        "A6A24C087A091F531DBF0A0169B6A28AD662A4D18E73AFA32D779D5918D08BC8858F4DCEF97C2A24"
        "855E6EEB22B3B2E5",
        "F518AA8781A8DF278ABA4E7D64B7CB9D49462353",
    ),
    1: DhGroup.from_hex(
        "AD107E1E9123A9D0D660FAA79559C51FA20D64E5683B9FD1B54B1597B61D0A75E6FA141DF95A56DB"
        "AF9A3C407BA1DF15EB3D688A309C180E1DE6B85A1274A0A66D3F8152AD6AC2129037C9EDEFDA4DF8"
        "D91E8FEF55B7394B7AD5B7D0B6C12207C9F98D11ED34DBF6C6BA0B2C8BBC27BE6A00E0A0B9C49708"
        "B3BF8A317091883681286130BC8985DB1602E714415D9330278273C7DE31EFDC7310F7121FD5A074"
        "15987D9ADC0A486DCDF93ACC44328387315D75E198C641A480CD86A1B9E587E8BE60E69CC928B2B9"
        "C52172E413042E9B23F10B0E16E79763C9B53DCF4BA80A29E3FB73C16B8E75B97EF363E2FFA31F71"
        "CF9DE5384E71B81C0AC4DFFE0C10E64F",
        "AC4032EF4F2D9AE39DF30B5C8FFDAC506CDEBE7B89998CAF74866A08CFE4FFE3A6824A4E10B9A6F0"
        "DD921F01A70C4AFAAB739D7700C29F52C57DB17C620A8652BE5E9001A8D66AD7C17669101999024A"
        "F4D027275AC1348BB8A762D0521BC98AE247150422EA1ED409939D54DA7460CDB5F6C6B250717CBE"
        "F180EB34118E98D119529A45D6F834566E3025E316A330EFBB77A86F0C1AB15B051AE3D428C8F8AC"
        "B70A8137150B8EEB10E183EDD19963DDD9E263E4770589EF6AA21E7F5F2FF381B539CCE3409D13CD"
        "566AFBB48D6C019181E1BCFE94B30269EDFE72FE9B6AA4BD7B5A0F1C71CFFF4C19C418E1F6EC0179"
        "81BC087F2A7065B384B890D3191F2BFA",
        "801C0D34C58D93FE997177101F80535A4738CEBCBF389A99B36371EB",
    ),
    2: DhGroup.from_hex(
        "87A8E61DB4B6663CFFBBD19C651959998CEEF608660DD0F25D2CEED4435E3B00E00DF8F1D61957D4"
        "FAF7DF4561B2AA3016C3D91134096FAA3BF4296D830E9A7C209E0C6497517ABD5A8A9D306BCF67ED"
        "91F9E6725B4758C022E0B1EF4275BF7B6C5BFC11D45F9088B941F54EB1E59BB8BC39A0BF12307F5C"
        "4FDB70C581B23F76B63ACAE1CAA6B7902D52526735488A0EF13C6D9A51BFA4AB3AD8347796524D8E"
        "F6A167B5A41825D967E144E5140564251CCACB83E6B486F6B3CA3F7971506026C0B857F689962856"
        "DED4010ABD0BE621C3A3960A54E710C375F26375D7014103A4B54330C198AF126116D2276E11715F"
        "693877FAD7EF09CADB094AE91E1A1597",
        "3FB32C9B73134D0B2E77506660EDBD484CA7B18F21EF205407F4793A1A0BA12510DBC15077BE463F"
        "FF4FED4AAC0BB555BE3A6C1B0C6B47B1BC3773BF7E8C6F62901228F8C28CBB18A55AE31341000A65"
        "0196F931C77A57F2DDF463E5E9EC144B777DE62AAAB8A8628AC376D282D6ED3864E67982428EBC83"
        "1D14348F6F2F9193B5045AF2767164E1DFC967C1FB3F2E55A4BD1BFFE83B9C80D052B985D182EA0A"
        "DB2A3B7313D3FE14C8484B1E052588B9B7D2BBD2DF016199ECD06E1557CD0915B3353BBB64E0EC37"
        "7FD028370DF92B52C7891428CDC67EB6184B523D1DB246C32F63078490F00EF8D647D148D4795451"
        "5E2327CFEF98C582664B4C0F6CC41659",
        "8CF83642A709A097B447997640129DA299B1A47D1EB3750BA308B0FE64F5FBD3",
    ),
}

PasswordKind = Literal["MRZ", "CAN"]
PASSWORD_REFERENCE: dict[PasswordKind, int] = {"MRZ": 1, "CAN": 2}


@dataclass(frozen=True)
class PaceAlgorithm:
    """What a PACE OID selects: key agreement (generic mapping) and the SM cipher."""

    oid: str
    cipher: SmCipherName
    key_bytes: int
    agreement: Literal["ECDH", "DH"] = "ECDH"

    @classmethod
    def from_oid(cls, oid: str) -> PaceAlgorithm:
        if oid.startswith(ID_PACE_ECDH_GM + "."):
            agreement: Literal["ECDH", "DH"] = "ECDH"
        elif oid.startswith(ID_PACE_DH_GM + "."):
            agreement = "DH"
        else:
            raise ChipError(f"PACE protocol {oid} is not supported (generic mapping only)")
        suffix = oid.rsplit(".", 1)[1]
        table: dict[str, tuple[SmCipherName, int]] = {
            "1": ("3DES", 16),
            "2": ("AES", 16),
            "3": ("AES", 24),
            "4": ("AES", 32),
        }
        if suffix not in table:
            raise ChipError(f"PACE protocol {oid} names an unknown cipher")
        cipher, key_bytes = table[suffix]
        return cls(oid, cipher, key_bytes, agreement)

    @property
    def nonce_bytes(self) -> int:
        return 8 if self.cipher == "3DES" else 16


@dataclass(frozen=True)
class PaceInfo:
    """PACEInfo of EF.CardAccess (ICAO 9303-11 9.2.1)."""

    oid: str
    version: int
    parameter_id: int | None

    @property
    def supported(self) -> bool:
        try:
            algorithm = PaceAlgorithm.from_oid(self.oid)
        except ChipError:
            return False
        groups = DOMAIN_PARAMETERS if algorithm.agreement == "ECDH" else DH_GROUPS
        return self.version == 2 and self.parameter_id in groups


@dataclass(frozen=True)
class PacePassword:
    """The PACE password: K = SHA-1(MRZ information) or the CAN digits (9.7.3)."""

    kind: PasswordKind
    key: bytes

    @classmethod
    def from_mrz(cls, document_number: str, birth_date: str, expiry_date: str) -> PacePassword:
        info = mrz_information(document_number, birth_date, expiry_date)
        return cls("MRZ", hashlib.sha1(info).digest())

    @classmethod
    def from_can(cls, can: str) -> PacePassword:
        if not can.isdigit() or not 1 <= len(can) <= 12:
            raise ValueError("a CAN is a short string of digits")
        return cls("CAN", can.encode("ascii"))

    def k_pi(self, algorithm: PaceAlgorithm) -> bytes:
        return derive_key(self.key, 3, algorithm.cipher, algorithm.key_bytes)


# --- primitives ---------------------------------------------------------------


def field_bytes(curve: ec_curves.Curve) -> int:
    return (int(curve.curve.p()).bit_length() + 7) // 8


def encode_point(point: PointJacobi, curve: ec_curves.Curve) -> bytes:
    """Uncompressed point, coordinates left-padded to the field size."""
    size = field_bytes(curve)
    return b"\x04" + int(point.x()).to_bytes(size, "big") + int(point.y()).to_bytes(size, "big")


def decode_point(data: bytes, curve: ec_curves.Curve) -> PointJacobi:
    size = field_bytes(curve)
    if len(data) != 1 + 2 * size or data[0] != 0x04:
        raise ChipError(f"EC point of {len(data)} bytes is not an uncompressed {curve.name} point")
    try:
        point = PointJacobi.from_bytes(curve.curve, data, valid_encodings=["uncompressed"])
    except (MalformedPointError, ValueError, AssertionError) as exc:
        raise ChipError(f"EC point is not on {curve.name}: {exc}") from exc
    if point == INFINITY:
        raise ChipError("EC point is the point at infinity")
    return point


def random_scalar(curve: ec_curves.Curve) -> int:
    return secrets.randbelow(int(curve.order) - 1) + 1


def nonce_cipher(algorithm: PaceAlgorithm, k_pi: bytes, data: bytes, *, decrypt: bool) -> bytes:
    """E/D(K_pi, s): CBC with a zero IV over one nonce."""
    if algorithm.cipher == "3DES":
        return tdes_cbc(k_pi, data, decrypt=decrypt)
    return aes_cbc(k_pi, data, decrypt=decrypt)


def map_generator(curve: ec_curves.Curve, nonce: bytes, shared: PointJacobi) -> PointJacobi:
    """Generic mapping: G~ = s * G + H (ICAO 9303-11 4.4.3.3.1)."""
    s = int.from_bytes(nonce, "big")
    mapped = curve.generator * s + shared
    if mapped == INFINITY:
        raise ChipError("PACE mapping produced the point at infinity")
    return mapped


def session_keys(algorithm: PaceAlgorithm, shared_x: bytes) -> tuple[bytes, bytes]:
    return (
        derive_key(shared_x, 1, algorithm.cipher, algorithm.key_bytes),
        derive_key(shared_x, 2, algorithm.cipher, algorithm.key_bytes),
    )


def authentication_token(
    algorithm: PaceAlgorithm, ks_mac: bytes, public_key: bytes, tag: int | None = None
) -> bytes:
    """T = MAC(KS_mac, 7F49 {06 OID, 86 point | 84 DH value}) (ICAO 9303-11 4.4.3.4)."""
    if tag is None:
        tag = 0x86 if algorithm.agreement == "ECDH" else 0x84
    template = encode_tlv(0x7F49, encode_oid(algorithm.oid) + encode_tlv(tag, public_key))
    if algorithm.cipher == "3DES":
        return retail_mac(ks_mac, pad(template, 8))
    return aes_cmac(ks_mac, template)[:8]


# A curve point (python-ecdsa's PointJacobi, untyped) or a MODP group element.
GroupElement = object


class PaceGroup:
    """The key-agreement group of one PACE step: an EC curve or a MODP group, with its
    current generator (the standard one, then the mapped one)."""

    def random_private(self) -> int:
        raise ChipError("abstract PACE group")

    def public(self, private: int) -> bytes:
        raise ChipError("abstract PACE group")

    def agree(self, private: int, peer: bytes) -> GroupElement:
        """private * peer (or peer ** private), after validating the peer's key."""
        raise ChipError("abstract PACE group")

    def mapped(self, nonce: bytes, shared: GroupElement) -> PaceGroup:
        raise ChipError("abstract PACE group")

    def secret(self, element: GroupElement) -> bytes:
        raise ChipError("abstract PACE group")


class EcPaceGroup(PaceGroup):
    def __init__(self, curve: ec_curves.Curve, generator: PointJacobi | None = None) -> None:
        self.curve = curve
        self.generator = generator if generator is not None else curve.generator

    def random_private(self) -> int:
        return random_scalar(self.curve)

    def public(self, private: int) -> bytes:
        return encode_point(self.generator * private, self.curve)

    def agree(self, private: int, peer: bytes) -> GroupElement:
        shared: GroupElement = decode_point(peer, self.curve) * private
        if shared == INFINITY:
            raise ChipError("PACE key agreement produced the point at infinity")
        return shared

    def mapped(self, nonce: bytes, shared: GroupElement) -> PaceGroup:
        if not isinstance(shared, PointJacobi):
            raise ChipError("EC mapping needs a point")
        return EcPaceGroup(self.curve, map_generator(self.curve, nonce, shared))

    def secret(self, element: GroupElement) -> bytes:
        if not isinstance(element, PointJacobi):
            raise ChipError("EC key agreement yields a point")
        return int(element.x()).to_bytes(field_bytes(self.curve), "big")


class DhPaceGroup(PaceGroup):
    def __init__(self, group: DhGroup, generator: int | None = None) -> None:
        self.group = group
        self.generator = generator if generator is not None else group.g
        self.size = (group.p.bit_length() + 7) // 8

    def random_private(self) -> int:
        return secrets.randbelow(self.group.q - 1) + 1

    def public(self, private: int) -> bytes:
        return pow(self.generator, private, self.group.p).to_bytes(self.size, "big")

    def agree(self, private: int, peer: bytes) -> GroupElement:
        p, q = self.group.p, self.group.q
        y = int.from_bytes(peer, "big")
        # TR-03110-3 A.4.1: 1 < y < p - 1 and y in the order-q subgroup
        if len(peer) > self.size or not 1 < y < p - 1 or pow(y, q, p) != 1:
            raise ChipError("DH public value is outside the PACE group")
        return pow(y, private, p)

    def mapped(self, nonce: bytes, shared: GroupElement) -> PaceGroup:
        """Generic mapping: g~ = g^s * h mod p (ICAO 9303-11 4.4.3.3.1)."""
        if not isinstance(shared, int):
            raise ChipError("DH mapping needs an integer")
        p = self.group.p
        mapped = pow(self.generator, int.from_bytes(nonce, "big"), p) * shared % p
        if mapped <= 1:
            raise ChipError("PACE mapping produced a degenerate generator")
        return DhPaceGroup(self.group, mapped)

    def secret(self, element: GroupElement) -> bytes:
        if not isinstance(element, int) or element <= 1:
            raise ChipError("DH key agreement produced a degenerate value")
        return int(element).to_bytes(self.size, "big")


def pace_group(algorithm: PaceAlgorithm, parameter_id: int | None) -> PaceGroup:
    if algorithm.agreement == "ECDH" and parameter_id in DOMAIN_PARAMETERS:
        return EcPaceGroup(DOMAIN_PARAMETERS[parameter_id])
    if algorithm.agreement == "DH" and parameter_id in DH_GROUPS:
        return DhPaceGroup(DH_GROUPS[parameter_id])
    raise ChipError(f"PACE domain parameters {parameter_id} are not supported")


def oid_value(oid: str) -> bytes:
    """The content octets of an OID (what tag 80 of MSE:Set AT carries)."""
    return parse_single(encode_oid(oid), 0x06).value


def _ga_data(tag: int, value: bytes) -> bytes:
    return encode_tlv(0x7C, encode_tlv(tag, value) if tag else value)


def _ga_response(raw: bytes, expected_tag: int, step: str) -> bytes:
    resp = ResponseApdu.decode(raw)
    if resp.sw != 0x9000:
        if step == "mutual authentication" or resp.sw >> 8 == 0x63:
            raise AccessDeniedError(
                f"PACE refused at {step} (status {resp.sw:04X}): wrong password?"
            )
        raise ChipError(f"PACE GENERAL AUTHENTICATE ({step}) failed: status {resp.sw:04X}")
    try:
        outer = parse_single(resp.data, 0x7C)
        inner = outer.find(expected_tag)
    except TlvError as exc:
        raise ChipError(f"PACE {step}: malformed response: {exc}") from exc
    if inner is None:
        raise ChipError(f"PACE {step}: response lacks tag {expected_tag:X}")
    return inner.value


def perform_pace(
    transport: Transport,
    password: PacePassword,
    info: PaceInfo,
    *,
    include_parameter_id: bool = True,
    scalars: tuple[int, int] | None = None,
) -> SecureMessaging:
    """Run PACE (terminal side) and return the new secure-messaging session.

    `scalars` fixes the terminal's mapping and ephemeral private keys (worked examples).
    """
    algorithm = PaceAlgorithm.from_oid(info.oid)
    group = pace_group(algorithm, info.parameter_id)
    assert info.parameter_id is not None
    mse = encode_tlv(0x80, oid_value(info.oid))
    mse += encode_tlv(0x83, bytes([PASSWORD_REFERENCE[password.kind]]))
    with_id = mse + encode_tlv(0x84, bytes([info.parameter_id]))
    resp = ResponseApdu.decode(
        transport.transmit(
            CommandApdu(0x00, 0x22, 0xC1, 0xA4, with_id if include_parameter_id else mse).encode()
        )
    )
    if resp.sw != 0x9000 and include_parameter_id:
        # DO84 is conditional (9303-11 4.4.4.1); some chips refuse it when they offer one set.
        resp = ResponseApdu.decode(
            transport.transmit(CommandApdu(0x00, 0x22, 0xC1, 0xA4, mse).encode())
        )
    if resp.sw != 0x9000:
        raise ChipError(f"PACE MSE:Set AT refused: status {resp.sw:04X}")

    def ga(tag: int, value: bytes, last: bool = False) -> bytes:
        cmd = CommandApdu(0x00 if last else 0x10, 0x86, 0, 0, _ga_data(tag, value), ne=256)
        return transport.transmit(cmd.encode())

    encrypted = _ga_response(ga(0, b""), 0x80, "encrypted nonce")
    if len(encrypted) != algorithm.nonce_bytes:
        raise ChipError(f"PACE nonce of {len(encrypted)} bytes, expected {algorithm.nonce_bytes}")
    nonce = nonce_cipher(algorithm, password.k_pi(algorithm), encrypted, decrypt=True)

    sk_map = scalars[0] if scalars else group.random_private()
    pk_map = group.public(sk_map)
    pk_map_ic = _ga_response(ga(0x81, pk_map), 0x82, "mapping")
    if pk_map_ic == pk_map:
        raise ChipError("PACE: the chip echoed the terminal's mapping key")
    mapped = group.mapped(nonce, group.agree(sk_map, pk_map_ic))

    sk_eph = scalars[1] if scalars else mapped.random_private()
    pk_eph = mapped.public(sk_eph)
    pk_eph_ic = _ga_response(ga(0x83, pk_eph), 0x84, "key agreement")
    if pk_eph_ic == pk_eph:
        raise ChipError("PACE: the chip echoed the terminal's ephemeral key")
    ks_enc, ks_mac = session_keys(algorithm, mapped.secret(mapped.agree(sk_eph, pk_eph_ic)))

    token = authentication_token(algorithm, ks_mac, pk_eph_ic)
    token_ic = _ga_response(ga(0x85, token, last=True), 0x86, "mutual authentication")
    if not hmac.compare_digest(token_ic, authentication_token(algorithm, ks_mac, pk_eph)):
        raise AccessDeniedError("PACE: the chip's authentication token does not verify")
    return SecureMessaging(algorithm.cipher, ks_enc, ks_mac, 0)
