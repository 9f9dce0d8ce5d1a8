"""PACE v2 (ICAO 9303-11 4.4, BSI TR-03110-2 3.2): generic mapping (GM), integrated
mapping (IM) and chip authentication mapping (CAM), on elliptic curves and MODP groups.

Terminal side: `establish_pace` (and `perform_pace`, which returns only the session).
The pieces (nonce encryption, mappings, key derivation, authentication token, the
encrypted chip authentication data of CAM) are module functions shared with the chip
emulator; the ICAO 9303-11 Appendix G (GM), H (IM) and I (CAM) worked examples pin
each of them in tests. Domain parameters are standardized (parameter ids 0-2, 8-18)
or explicit (PACEDomainParameterInfo). Point arithmetic on the mapped generator uses
python-ecdsa, because `cryptography` only multiplies the standard generator.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

from ecdsa import curves as ec_curves
from ecdsa.ellipticcurve import INFINITY, PointJacobi
from ecdsa.errors import MalformedPointError
from ecdsa.numbertheory import is_prime

from devices.errors import AccessDeniedError, ChipDataError, ChipError
from devices.icao9303.apdu import CommandApdu, ResponseApdu
from devices.icao9303.bac import mrz_information
from devices.icao9303.lds import LdsError
from devices.icao9303.lds.der import decode_integer, decode_oid, encode_oid
from devices.icao9303.lds.security_infos import (
    ID_PACE_DH_IM,
    ID_PACE_ECDH_CAM,
    ID_PACE_ECDH_GM,
    ID_PACE_ECDH_IM,
    PACE_MAPPINGS,
    PACEDomainParameterInfo,
    PACEInfo,
    PaceMapping,
    SecurityInfos,
    cipher_key,
)
from devices.icao9303.lds.spki import (
    DH_PUBLIC_NUMBER,
    EC_PUBLIC_KEY,
    STANDARDIZED_CURVES,
    STANDARDIZED_DOMAIN_PARAMETERS,
    explicit_curve,
)
from devices.icao9303.secure_messaging import (
    SecureMessaging,
    SmCipherName,
    aes_cbc,
    aes_cmac,
    aes_ecb,
    derive_key,
    pad,
    retail_mac,
    tdes_cbc,
    unpad,
)
from devices.icao9303.tlv import Tlv, TlvError, encode_tlv, parse_single
from devices.icao9303.transport import Transport

PACE_ECDH_GM_AES_128 = ID_PACE_ECDH_GM + ".2"
PACE_ECDH_IM_AES_128 = ID_PACE_ECDH_IM + ".2"
PACE_DH_IM_AES_128 = ID_PACE_DH_IM + ".2"
PACE_ECDH_CAM_AES_128 = ID_PACE_ECDH_CAM + ".2"

# Pseudo-random number mapping constants (ICAO 9303-11 4.4.3.3.2): l = 128 and l = 256.
IM_C0_128 = bytes.fromhex("a668892a7c41e3ca739f40b057d85904")
IM_C1_128 = bytes.fromhex("a4e136ac725f738b01c1f60217c188ad")
IM_C0_256 = bytes.fromhex("d463d65234124ef7897054986dca0a174e28df758cbaa03f240616414d5a1676")
IM_C1_256 = bytes.fromhex("54bd7255f0aaf831bec3423fcf39d69b6cbf066677d0faae5aadd99df8e53517")
MIN_DH_BITS = 1024
MAX_DH_BITS = 3072  # bounds the primality tests a hostile EF.CardAccess can ask for
MIN_DH_ORDER_BITS = 160

# Standardized EC domain parameters (ICAO 9303-11 Table 6 / TR-03110-3 A.2.1.1).
DOMAIN_PARAMETERS: dict[int, ec_curves.Curve] = STANDARDIZED_CURVES


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
    """What a PACE OID selects: key agreement, mapping and the SM cipher."""

    oid: str
    cipher: SmCipherName
    key_bytes: int
    agreement: Literal["ECDH", "DH"] = "ECDH"
    mapping: PaceMapping = "GM"

    @classmethod
    def from_oid(cls, oid: str) -> PaceAlgorithm:
        family = oid.rpartition(".")[0]
        if family not in PACE_MAPPINGS:
            raise ChipError(f"PACE protocol {oid} is not supported")
        agreement, mapping = PACE_MAPPINGS[family]
        suite = cipher_key(oid)
        if suite is None or (mapping == "CAM" and suite[0] == "3DES"):
            raise ChipError(f"PACE protocol {oid} names an unknown cipher")
        cipher, key_bytes = suite
        return cls(oid, cipher, key_bytes, agreement, mapping)

    @property
    def block(self) -> int:
        return 8 if self.cipher == "3DES" else 16

    @property
    def nonce_bytes(self) -> int:
        """Length of the chip's nonce s: one block, or for IM the smallest multiple of
        the block size not shorter than the key (3DES counts as 128 bits, 4.4.3.3)."""
        if self.mapping == "IM":
            return 16 if self.key_bytes == 16 else 32
        return self.block

    @property
    def terminal_nonce_bytes(self) -> int:
        """Length of the IM nonce t: the key size k (16 bytes for 3DES)."""
        return self.key_bytes


def pace_algorithm(info: PACEInfo) -> PaceAlgorithm:
    return PaceAlgorithm.from_oid(info.protocol)


def pace_supported(info: PACEInfo) -> bool:
    """Whether this reader can run PACE as `info` (with its joined domain) describes."""
    if info.version != 2:
        return False
    try:
        algorithm = pace_algorithm(info)
        group = pace_group(algorithm, info.parameter_id, info.domain)
    except (ChipError, ChipDataError):
        return False
    if algorithm.mapping == "IM" and isinstance(group, EcPaceGroup):
        return int(group.curve.curve.p()) % 4 == 3  # the point encoding needs it
    return True


STANDARDIZED_ID_LIMIT = 32  # parameter ids 0-31 are standardized (TR-03110-3 A.2.1.1)


def pace_infos(infos: SecurityInfos) -> list[PACEInfo]:
    """The PACEInfos of EF.CardAccess, each joined to the PACEDomainParameterInfo it
    references when its parameter id is proprietary (>= 32) or absent (9303-11 9.2.1)."""
    domains = [i for i in infos.infos if isinstance(i, PACEDomainParameterInfo)]
    out: list[PACEInfo] = []
    for info in infos.pace_infos:
        explicit: bytes | None = None
        pid = info.parameter_id
        if pid is None or pid >= STANDARDIZED_ID_LIMIT:
            family = [d for d in domains if d.protocol == info.protocol.rpartition(".")[0]]
            match = [d for d in family if d.parameter_id == pid]
            if not match and len(family) == 1 and family[0].parameter_id is None:
                match = family
            if len(match) == 1:
                explicit = match[0].domain_parameter
        out.append(replace(info, domain=explicit))
    return out


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


def _block_encrypt(algorithm: PaceAlgorithm, key: bytes, data: bytes) -> bytes:
    if algorithm.cipher == "3DES":
        return tdes_cbc(key, data)
    return aes_cbc(key, data)


def pseudo_random(algorithm: PaceAlgorithm, s: bytes, t: bytes, p: int) -> int:
    """R_p(s, t) = int(x_1 || ... || x_n) mod p (ICAO 9303-11 4.4.3.3.2)."""
    return int.from_bytes(pseudo_random_bytes(algorithm, s, t, p), "big") % p


def pseudo_random_bytes(algorithm: PaceAlgorithm, s: bytes, t: bytes, p: int) -> bytes:
    """x_1 || ... || x_n of the pseudo-random number mapping (9303-11 Figure 2).

    k_0 = E(t, s); then x_i = E(k_{i-1}, c1), k_i = E(k_{i-1}, c0), each key cut to the
    key size (3DES counts as 128 bits); n blocks with n * l >= log2 p + 64.
    """
    if len(t) != algorithm.terminal_nonce_bytes:
        raise ChipError(f"IM nonce t of {len(t)} bytes, expected {algorithm.terminal_nonce_bytes}")
    if not s or len(s) % algorithm.block or len(s) < algorithm.key_bytes:
        raise ChipError(f"IM nonce s of {len(s)} bytes does not fit {algorithm.cipher}")
    c0, c1 = (IM_C0_128, IM_C1_128) if algorithm.key_bytes == 16 else (IM_C0_256, IM_C1_256)
    size = algorithm.key_bytes
    key = _block_encrypt(algorithm, t, s)[:size]
    blocks = -(-(p.bit_length() + 64) // (8 * len(c1)))
    out = b""
    for _ in range(blocks):
        out += _block_encrypt(algorithm, key, c1)
        key = _block_encrypt(algorithm, key, c0)[:size]
    return out


def point_encoding(curve: ec_curves.Curve, t: int) -> PointJacobi:
    """f_G(t): the simplified SWU encoding of BCIMRT2010 (ICAO 9303-11 Appendix B.2),
    for p = 3 mod 4, multiplied by the cofactor."""
    fp = curve.curve
    p, a, b = int(fp.p()), int(fp.a()), int(fp.b())
    if p % 4 != 3 or a % p == 0:
        raise ChipError(f"the IM point encoding does not apply to {curve.name}")
    alpha = -t * t % p
    denominator = a * (alpha + alpha * alpha) % p
    if denominator == 0:
        raise ChipError("IM point encoding met a degenerate value")
    x2 = -b * (1 + alpha + alpha * alpha) * pow(denominator, p - 2, p) % p
    x3 = alpha * x2 % p
    h2 = (pow(x2, 3, p) + a * x2 + b) % p
    u = pow(t, 3, p) * h2 % p
    root = pow(h2, p - 1 - (p + 1) // 4, p)
    if root * root * h2 % p == 1:
        x, y = x2, root * h2 % p
    else:
        x, y = x3, root * u % p
    point = PointJacobi(fp, x, y, 1, curve.order)
    cofactor = int(fp.cofactor() or 1)
    if cofactor != 1:
        point = point * cofactor
    if point == INFINITY or not fp.contains_point(int(point.x()), int(point.y())):
        raise ChipError("IM point encoding produced no usable generator")
    return point


def cam_iv(ks_enc: bytes) -> bytes:
    """IV = E(KS_enc, -1) for the encrypted chip authentication data (4.4.3.5.4)."""
    return aes_ecb(ks_enc, b"\xff" * 16)


def encrypt_cam_data(ks_enc: bytes, ca_ic: bytes) -> bytes:
    """A_IC = E(KS_enc, CA_IC), padded with ISO/IEC 9797-1 method 2."""
    return aes_cbc(ks_enc, pad(ca_ic, 16), iv=cam_iv(ks_enc))


def decrypt_cam_data(ks_enc: bytes, a_ic: bytes) -> bytes:
    if not a_ic or len(a_ic) % 16:
        raise ChipError(f"encrypted chip authentication data of {len(a_ic)} bytes")
    return unpad(aes_cbc(ks_enc, a_ic, decrypt=True, iv=cam_iv(ks_enc)))


def cam_data(curve: ec_curves.Curve, sk_ic: int, sk_map_ic: int) -> bytes:
    """Chip side: CA_IC = SK_IC^-1 * SK_Map,IC mod n, as FE2OS of the order's length."""
    n = int(curve.order)
    value = pow(sk_ic, -1, n) * sk_map_ic % n
    return value.to_bytes((n.bit_length() + 7) // 8, "big")


@dataclass(frozen=True)
class CamEvidence:
    """What PACE-CAM leaves to check once DG14 is read (4.4.3.5.2)."""

    curve: ec_curves.Curve
    pk_map_ic: bytes  # the chip's mapping public key
    ca_ic: int  # the decrypted chip authentication data

    def verify(self, chip_public_key: bytes) -> bool:
        """PK_Map,IC == CA_IC * PK_IC for the chip's static key from DG14."""
        if not 0 < self.ca_ic < int(self.curve.order):
            return False
        try:
            pk_ic = decode_point(chip_public_key, self.curve)
            expected = decode_point(self.pk_map_ic, self.curve)
        except ChipError:
            return False
        return bool(pk_ic * self.ca_ic == expected)


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

    def integrated(self, algorithm: PaceAlgorithm, s: bytes, t: bytes) -> PaceGroup:
        """The IM generator f(R_p(s, t)) (ICAO 9303-11 4.4.3.3.2)."""
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

    def integrated(self, algorithm: PaceAlgorithm, s: bytes, t: bytes) -> PaceGroup:
        x = pseudo_random(algorithm, s, t, int(self.curve.curve.p()))
        return EcPaceGroup(self.curve, point_encoding(self.curve, x))

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

    def integrated(self, algorithm: PaceAlgorithm, s: bytes, t: bytes) -> PaceGroup:
        """f_g(x) = x^a mod p with the cofactor a = (p - 1) / q; must not be 1."""
        p, q = self.group.p, self.group.q
        mapped = pow(pseudo_random(algorithm, s, t, p), (p - 1) // q, p)
        if mapped <= 1:
            raise ChipError("PACE integrated mapping produced a degenerate generator")
        return DhPaceGroup(self.group, mapped)

    def secret(self, element: GroupElement) -> bytes:
        if not isinstance(element, int) or element <= 1:
            raise ChipError("DH key agreement produced a degenerate value")
        return int(element).to_bytes(self.size, "big")


def pace_group(
    algorithm: PaceAlgorithm, parameter_id: int | None, domain: bytes | None = None
) -> PaceGroup:
    """The group named by a standardized parameter id, or given explicitly as the DER
    AlgorithmIdentifier of a PACEDomainParameterInfo (TR-03110-3 A.1.1, A.2.1)."""
    if domain is not None:
        return _explicit_group(algorithm.agreement, domain)
    if algorithm.agreement == "ECDH" and parameter_id in DOMAIN_PARAMETERS:
        return EcPaceGroup(DOMAIN_PARAMETERS[parameter_id])
    if algorithm.agreement == "DH" and parameter_id in DH_GROUPS:
        return DhPaceGroup(DH_GROUPS[parameter_id])
    raise ChipError(f"PACE domain parameters {parameter_id} are not supported")


@lru_cache(maxsize=32)  # validation runs primality tests; a chip is read several times
def _explicit_group(agreement: Literal["ECDH", "DH"], domain: bytes) -> PaceGroup:
    try:
        parts = parse_single(domain, 0x30).children()
        if not parts or parts[0].tag != 0x06:
            raise ChipError("PACE domain parameters lack their algorithm")
        oid = decode_oid(parts[0], "PACE domain parameter algorithm")
        if len(parts) != 2:
            raise ChipError("PACE domain parameters must hold exactly one parameter set")
        params = parts[1]
        if oid == STANDARDIZED_DOMAIN_PARAMETERS:
            parameter_id = decode_integer(params, what="parameter id")
            if agreement == "ECDH" and parameter_id in DOMAIN_PARAMETERS:
                return EcPaceGroup(DOMAIN_PARAMETERS[parameter_id])
            if agreement == "DH" and parameter_id in DH_GROUPS:
                return DhPaceGroup(DH_GROUPS[parameter_id])
            raise ChipError(f"PACE domain parameters {parameter_id} are not supported")
        if oid == EC_PUBLIC_KEY and agreement == "ECDH":
            if params.tag != 0x30:
                raise ChipError("explicit PACE EC parameters must be ECParameters")
            curve = explicit_curve(params)
            if int(curve.curve.cofactor() or 1) != 1:
                # ECKA would need compatible cofactor multiplication against small subgroups
                raise ChipError("explicit PACE curves with a cofactor are not supported")
            return EcPaceGroup(curve)
        if oid == DH_PUBLIC_NUMBER and agreement == "DH":
            return DhPaceGroup(_explicit_dh(params))
    except LdsError as exc:
        raise ChipError(f"PACE domain parameters are malformed: {exc}") from exc
    raise ChipError(f"PACE domain parameters {oid} do not fit {agreement}")


def _explicit_dh(params: Tlv) -> DhGroup:
    """X9.42 DomainParameters {p, g, q, j?, validationParms?}, validated (RFC 2631 2.2)."""
    fields = params.children() if params.tag == 0x30 else []
    if len(fields) < 3:
        raise ChipError("explicit DH domain parameters need p, g and q")
    p, g, q = (decode_integer(f, what=name) for f, name in zip(fields, "pgq", strict=False))
    if not MIN_DH_BITS <= p.bit_length() <= MAX_DH_BITS or not (
        MIN_DH_ORDER_BITS <= q.bit_length() < p.bit_length()
    ):
        raise ChipError(f"DH group of {p.bit_length()}/{q.bit_length()} bits is too small")
    if not (is_prime(p) and is_prime(q)) or (p - 1) % q:
        raise ChipError("explicit DH parameters are not a prime-order subgroup")
    if not 1 < g < p - 1 or pow(g, q, p) != 1:
        raise ChipError("explicit DH generator is not of order q")
    return DhGroup(p, g, q)


def oid_value(oid: str) -> bytes:
    """The content octets of an OID (what tag 80 of MSE:Set AT carries)."""
    return parse_single(encode_oid(oid), 0x06).value


def _ga_data(tag: int, value: bytes) -> bytes:
    return encode_tlv(0x7C, encode_tlv(tag, value) if tag else value)


def _ga_objects(raw: bytes, step: str) -> dict[int, bytes]:
    """The data objects inside 7C of a GENERAL AUTHENTICATE answer (status checked)."""
    resp = ResponseApdu.decode(raw)
    if resp.sw != 0x9000:
        if step == "mutual authentication" or resp.sw >> 8 == 0x63:
            raise AccessDeniedError(
                f"PACE refused at {step} (status {resp.sw:04X}): wrong password?"
            )
        raise ChipError(f"PACE GENERAL AUTHENTICATE ({step}) failed: status {resp.sw:04X}")
    try:
        children = parse_single(resp.data, 0x7C).children()
    except TlvError as exc:
        raise ChipError(f"PACE {step}: malformed response: {exc}") from exc
    objects: dict[int, bytes] = {}
    for child in children:
        if child.tag in objects:
            raise ChipError(f"PACE {step}: duplicate tag {child.tag:X}")
        objects[child.tag] = child.value
    return objects


def _ga_response(raw: bytes, expected_tag: int, step: str, *, optional: bool = False) -> bytes:
    value = _ga_objects(raw, step).get(expected_tag)
    if value is None:
        if optional:
            return b""
        raise ChipError(f"PACE {step}: response lacks tag {expected_tag:X}")
    return value


@dataclass(frozen=True)
class PaceSession:
    """The outcome of PACE: the secure-messaging session and, after PACE-CAM, the
    chip authentication data still to be checked against DG14."""

    sm: SecureMessaging
    algorithm: PaceAlgorithm
    cam: CamEvidence | None = None


def perform_pace(
    transport: Transport,
    password: PacePassword,
    info: PACEInfo,
    *,
    include_parameter_id: bool = True,
    scalars: tuple[int, int] | None = None,
) -> SecureMessaging:
    """Run PACE (terminal side) and return the new secure-messaging session."""
    return establish_pace(
        transport, password, info, include_parameter_id=include_parameter_id, scalars=scalars
    ).sm


def establish_pace(
    transport: Transport,
    password: PacePassword,
    info: PACEInfo,
    *,
    include_parameter_id: bool = True,
    scalars: tuple[int, int] | None = None,
    terminal_nonce: bytes | None = None,
) -> PaceSession:
    """Run PACE (terminal side) with the mapping the PACEInfo names.

    `scalars` fixes the terminal's mapping and ephemeral private keys and
    `terminal_nonce` the IM nonce t (worked examples).
    """
    algorithm = pace_algorithm(info)
    group = pace_group(algorithm, info.parameter_id, info.domain)
    mse = encode_tlv(0x80, oid_value(info.protocol))
    mse += encode_tlv(0x83, bytes([PASSWORD_REFERENCE[password.kind]]))
    with_id = mse
    if info.parameter_id is not None:
        size = max(1, (info.parameter_id.bit_length() + 7) // 8)
        with_id += encode_tlv(0x84, info.parameter_id.to_bytes(size, "big"))
    send_id = include_parameter_id and with_id != mse
    resp = ResponseApdu.decode(
        transport.transmit(
            CommandApdu(0x00, 0x22, 0xC1, 0xA4, with_id if send_id else mse).encode()
        )
    )
    if resp.sw != 0x9000 and send_id:
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

    pk_map_ic = b""
    if algorithm.mapping == "IM":
        t = terminal_nonce or secrets.token_bytes(algorithm.terminal_nonce_bytes)
        answer = _ga_response(ga(0x81, t), 0x82, "mapping", optional=True)
        if answer:
            raise ChipError("PACE-IM: the chip's mapping data must be empty")
        mapped = group.integrated(algorithm, nonce, t)
    else:
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
    final = _ga_objects(ga(0x85, token, last=True), "mutual authentication")
    token_ic = final.get(0x86)
    if token_ic is None:
        raise ChipError("PACE mutual authentication: response lacks tag 86")
    if not hmac.compare_digest(token_ic, authentication_token(algorithm, ks_mac, pk_eph)):
        raise AccessDeniedError("PACE: the chip's authentication token does not verify")
    cam: CamEvidence | None = None
    if algorithm.mapping == "CAM":
        a_ic = final.get(0x8A)
        if a_ic is None:
            raise ChipError("PACE-CAM: the chip sent no encrypted chip authentication data")
        if not isinstance(group, EcPaceGroup):
            raise ChipError("PACE-CAM needs an elliptic curve")
        ca_ic = int.from_bytes(decrypt_cam_data(ks_enc, a_ic), "big")
        cam = CamEvidence(group.curve, pk_map_ic, ca_ic)
    elif 0x8A in final:
        raise ChipError("PACE: encrypted chip authentication data outside PACE-CAM")
    return PaceSession(SecureMessaging(algorithm.cipher, ks_enc, ks_mac, 0), algorithm, cam)
