"""SecurityInfos (ICAO 9303-11 9.2, BSI TR-03110-3 A.1): EF.CardAccess and DG14 content.

    SecurityInfos ::= SET OF SecurityInfo
    SecurityInfo  ::= SEQUENCE { protocol OBJECT IDENTIFIER, requiredData ANY,
                                 optionalData ANY OPTIONAL }

Recognised: PACEInfo, PACEDomainParameterInfo, ChipAuthenticationInfo,
ChipAuthenticationPublicKeyInfo, ActiveAuthenticationInfo. Anything else (e.g.
TerminalAuthenticationInfo) is kept as UnknownSecurityInfo so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from devices.icao9303.lds import LdsError
from devices.icao9303.lds.der import (
    INTEGER,
    OID,
    SEQUENCE,
    SET,
    decode_integer,
    decode_oid,
    encode_integer,
    encode_oid,
    sequence,
)
from devices.icao9303.lds.spki import PublicKeyInfo
from devices.icao9303.tlv import Tlv, encode_tlv, parse_single

BSI_DE = "0.4.0.127.0.7"
ID_PK = BSI_DE + ".2.2.1"
ID_PK_DH = ID_PK + ".1"
ID_PK_ECDH = ID_PK + ".2"
ID_TA = BSI_DE + ".2.2.2"
ID_CA = BSI_DE + ".2.2.3"
ID_CA_DH = ID_CA + ".1"
ID_CA_ECDH = ID_CA + ".2"
ID_PACE = BSI_DE + ".2.2.4"
ID_PACE_DH_GM = ID_PACE + ".1"
ID_PACE_ECDH_GM = ID_PACE + ".2"
ID_PACE_DH_IM = ID_PACE + ".3"
ID_PACE_ECDH_IM = ID_PACE + ".4"
ID_PACE_ECDH_CAM = ID_PACE + ".6"
ID_AA = "2.23.136.1.1.5"
ECDSA_PLAIN = BSI_DE + ".1.1.4.1"
ECDSA_PLAIN_SHA1 = ECDSA_PLAIN + ".1"
ECDSA_PLAIN_SHA224 = ECDSA_PLAIN + ".2"
ECDSA_PLAIN_SHA256 = ECDSA_PLAIN + ".3"
ECDSA_PLAIN_SHA384 = ECDSA_PLAIN + ".4"
ECDSA_PLAIN_SHA512 = ECDSA_PLAIN + ".5"
# BSI TR-03111 ecdsa-plain-signatures (r || s), by the digest (asn1crypto name) each names.
ECDSA_PLAIN_DIGESTS: dict[str, str] = {
    ECDSA_PLAIN_SHA1: "sha1",
    ECDSA_PLAIN_SHA224: "sha224",
    ECDSA_PLAIN_SHA256: "sha256",
    ECDSA_PLAIN_SHA384: "sha384",
    ECDSA_PLAIN_SHA512: "sha512",
}

KeyAgreement = Literal["ECDH", "DH"]
PaceMapping = Literal["GM", "IM", "CAM"]
SuiteCipher = Literal["3DES", "AES"]
# Cipher suffix of PACE and CA protocol OIDs: (cipher, key length in bits).
CIPHER_SUITES: dict[int, tuple[SuiteCipher, int]] = {
    1: ("3DES", 112),
    2: ("AES", 128),
    3: ("AES", 192),
    4: ("AES", 256),
}
PACE_MAPPINGS: dict[str, tuple[KeyAgreement, PaceMapping]] = {
    ID_PACE_DH_GM: ("DH", "GM"),
    ID_PACE_ECDH_GM: ("ECDH", "GM"),
    ID_PACE_DH_IM: ("DH", "IM"),
    ID_PACE_ECDH_IM: ("ECDH", "IM"),
    ID_PACE_ECDH_CAM: ("ECDH", "CAM"),
}
PACE_ECDH_GM_AES_CBC_CMAC_128 = ID_PACE_ECDH_GM + ".2"
PACE_ECDH_GM_AES_CBC_CMAC_192 = ID_PACE_ECDH_GM + ".3"
PACE_ECDH_GM_AES_CBC_CMAC_256 = ID_PACE_ECDH_GM + ".4"
CA_ECDH_AES_CBC_CMAC_128 = ID_CA_ECDH + ".2"
CA_ECDH_3DES_CBC_CBC = ID_CA_ECDH + ".1"

# Standardized domain parameters (BSI TR-03110-3 A.2.1.1, ICAO 9303-11 9.5.1).
STANDARDIZED_DOMAIN_PARAMETERS: dict[int, str] = {
    0: "modp1024_160",
    1: "modp2048_224",
    2: "modp2048_256",
    8: "secp192r1",
    9: "brainpoolP192r1",
    10: "secp224r1",
    11: "brainpoolP224r1",
    12: "secp256r1",
    13: "brainpoolP256r1",
    14: "brainpoolP320r1",
    15: "secp384r1",
    16: "brainpoolP384r1",
    17: "brainpoolP512r1",
    18: "secp521r1",
}
MAX_SECURITY_INFOS = 64


def cipher_key(protocol: str) -> tuple[SuiteCipher, int] | None:
    """The secure-messaging cipher and key size in bytes that the last arc of a PACE or
    CA protocol OID names (two-key 3DES: 112 bits in 16 bytes); None when unknown."""
    arc = protocol.rpartition(".")[2]
    suite = CIPHER_SUITES.get(int(arc)) if arc.isascii() and arc.isdigit() else None
    if suite is None:
        return None
    cipher, bits = suite
    return cipher, 16 if cipher == "3DES" else bits // 8


def _suffix(protocol: str, family: str) -> int | None:
    """The cipher-suite arc that follows `family` in `protocol`, if that is its shape."""
    if not protocol.startswith(family + "."):
        return None
    rest = protocol[len(family) + 1 :]
    return int(rest) if rest.isdigit() else None


@dataclass(frozen=True)
class PACEInfo:
    """PACEInfo (ICAO 9303-11 9.2.1). `domain` is not encoded: it is the DER
    AlgorithmIdentifier of the PACEDomainParameterInfo this PACEInfo references when
    its domain parameters are explicit (joined by devices.icao9303.pace.pace_infos)."""

    protocol: str
    version: int = 2
    parameter_id: int | None = None
    domain: bytes | None = None

    @property
    def key_agreement(self) -> KeyAgreement:
        return PACE_MAPPINGS[self.protocol.rsplit(".", 1)[0]][0]

    @property
    def mapping(self) -> PaceMapping:
        return PACE_MAPPINGS[self.protocol.rsplit(".", 1)[0]][1]

    @property
    def cipher(self) -> str:
        return CIPHER_SUITES[int(self.protocol.rsplit(".", 1)[1])][0]

    @property
    def key_length(self) -> int:
        return CIPHER_SUITES[int(self.protocol.rsplit(".", 1)[1])][1]

    @property
    def domain_parameters(self) -> str | None:
        if self.parameter_id is None:
            return None
        return STANDARDIZED_DOMAIN_PARAMETERS.get(self.parameter_id)

    def encode(self) -> bytes:
        parts = [encode_oid(self.protocol), encode_integer(self.version)]
        if self.parameter_id is not None:
            parts.append(encode_integer(self.parameter_id))
        return sequence(*parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "PACEInfo",
            "protocol": self.protocol,
            "version": self.version,
            "parameter_id": self.parameter_id,
            "key_agreement": self.key_agreement,
            "mapping": self.mapping,
            "cipher": self.cipher,
            "key_length": self.key_length,
            "domain_parameters": self.domain_parameters,
        }


@dataclass(frozen=True)
class PACEDomainParameterInfo:
    protocol: str
    domain_parameter: bytes  # DER AlgorithmIdentifier
    parameter_id: int | None = None

    def encode(self) -> bytes:
        parts = [encode_oid(self.protocol), self.domain_parameter]
        if self.parameter_id is not None:
            parts.append(encode_integer(self.parameter_id))
        return sequence(*parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "PACEDomainParameterInfo",
            "protocol": self.protocol,
            "parameter_id": self.parameter_id,
        }


@dataclass(frozen=True)
class ChipAuthenticationInfo:
    protocol: str
    version: int = 1
    key_id: int | None = None

    @property
    def key_agreement(self) -> str:
        return "ECDH" if self.protocol.startswith(ID_CA_ECDH + ".") else "DH"

    @property
    def cipher(self) -> str:
        return CIPHER_SUITES[int(self.protocol.rsplit(".", 1)[1])][0]

    @property
    def key_length(self) -> int:
        return CIPHER_SUITES[int(self.protocol.rsplit(".", 1)[1])][1]

    def encode(self) -> bytes:
        parts = [encode_oid(self.protocol), encode_integer(self.version)]
        if self.key_id is not None:
            parts.append(encode_integer(self.key_id))
        return sequence(*parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "ChipAuthenticationInfo",
            "protocol": self.protocol,
            "version": self.version,
            "key_id": self.key_id,
            "key_agreement": self.key_agreement,
            "cipher": self.cipher,
            "key_length": self.key_length,
        }


@dataclass(frozen=True)
class ChipAuthenticationPublicKeyInfo:
    protocol: str  # id-PK-DH or id-PK-ECDH
    public_key: PublicKeyInfo
    key_id: int | None = None

    def encode(self) -> bytes:
        parts = [encode_oid(self.protocol), self.public_key.raw]
        if self.key_id is not None:
            parts.append(encode_integer(self.key_id))
        return sequence(*parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "ChipAuthenticationPublicKeyInfo",
            "protocol": self.protocol,
            "key_id": self.key_id,
            "public_key": self.public_key.to_json(),
        }


@dataclass(frozen=True)
class ActiveAuthenticationInfo:
    signature_algorithm: str
    version: int = 1
    protocol: str = ID_AA

    def encode(self) -> bytes:
        return sequence(
            encode_oid(self.protocol),
            encode_integer(self.version),
            encode_oid(self.signature_algorithm),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "ActiveAuthenticationInfo",
            "version": self.version,
            "signature_algorithm": self.signature_algorithm,
        }


@dataclass(frozen=True)
class UnknownSecurityInfo:
    protocol: str
    raw: bytes  # the whole SecurityInfo SEQUENCE

    def encode(self) -> bytes:
        return self.raw

    def to_json(self) -> dict[str, Any]:
        return {"type": "SecurityInfo", "protocol": self.protocol}


SecurityInfo = (
    PACEInfo
    | PACEDomainParameterInfo
    | ChipAuthenticationInfo
    | ChipAuthenticationPublicKeyInfo
    | ActiveAuthenticationInfo
    | UnknownSecurityInfo
)


def _optional_int(parts: list[Tlv], index: int, what: str) -> int | None:
    if len(parts) <= index:
        return None
    return decode_integer(parts[index], INTEGER, what)


def parse_security_info(item: Tlv) -> SecurityInfo:
    if item.tag != SEQUENCE:
        raise LdsError(f"SecurityInfo must be a SEQUENCE, found tag {item.tag:X}")
    parts = item.children()
    if len(parts) < 2:
        raise LdsError("SecurityInfo needs a protocol and its required data")
    if len(parts) > 3:
        raise LdsError(f"SecurityInfo has {len(parts)} elements (at most 3)")
    protocol = decode_oid(parts[0], "SecurityInfo protocol")
    base = protocol.rsplit(".", 1)[0]
    if base in PACE_MAPPINGS and _suffix(protocol, base) in CIPHER_SUITES:
        return PACEInfo(
            protocol,
            decode_integer(parts[1], INTEGER, "PACEInfo version"),
            _optional_int(parts, 2, "PACEInfo parameterId"),
        )
    if protocol in PACE_MAPPINGS:
        if parts[1].tag != SEQUENCE:
            raise LdsError("PACEDomainParameterInfo domainParameter must be a SEQUENCE")
        return PACEDomainParameterInfo(
            protocol, parts[1].encode(), _optional_int(parts, 2, "PACEDomainParameterInfo id")
        )
    if base in (ID_CA_DH, ID_CA_ECDH) and _suffix(protocol, base) in CIPHER_SUITES:
        return ChipAuthenticationInfo(
            protocol,
            decode_integer(parts[1], INTEGER, "ChipAuthenticationInfo version"),
            _optional_int(parts, 2, "ChipAuthenticationInfo keyId"),
        )
    if protocol in (ID_PK_DH, ID_PK_ECDH):
        return ChipAuthenticationPublicKeyInfo(
            protocol,
            PublicKeyInfo.parse(parts[1].encode()),
            _optional_int(parts, 2, "ChipAuthenticationPublicKeyInfo keyId"),
        )
    if protocol == ID_AA:
        if len(parts) != 3 or parts[2].tag != OID:
            raise LdsError("ActiveAuthenticationInfo needs a version and a signatureAlgorithm")
        return ActiveAuthenticationInfo(
            decode_oid(parts[2], "ActiveAuthenticationInfo signatureAlgorithm"),
            decode_integer(parts[1], INTEGER, "ActiveAuthenticationInfo version"),
        )
    return UnknownSecurityInfo(protocol, item.encode())


@dataclass(frozen=True)
class SecurityInfos:
    infos: tuple[SecurityInfo, ...]

    @classmethod
    def parse(cls, der: bytes) -> SecurityInfos:
        """SecurityInfos DER, e.g. the whole of EF.CardAccess (trailing padding ignored)."""
        outer = parse_single(der, SET, allow_trailing=True)
        items = outer.children()
        if not items:
            raise LdsError("SecurityInfos is empty")
        if len(items) > MAX_SECURITY_INFOS:
            raise LdsError(f"SecurityInfos holds {len(items)} entries (max {MAX_SECURITY_INFOS})")
        return cls(tuple(parse_security_info(item) for item in items))

    @classmethod
    def of(cls, infos: Iterable[SecurityInfo]) -> SecurityInfos:
        """New SecurityInfos in DER SET OF order (sorted by encoding, X.690 11.6)."""
        return cls(tuple(sorted(infos, key=lambda info: info.encode())))

    def encode(self) -> bytes:
        """The SET in the stored order, so a parsed file re-encodes byte for byte."""
        return encode_tlv(SET, b"".join(info.encode() for info in self.infos))

    @property
    def pace_infos(self) -> list[PACEInfo]:
        return [i for i in self.infos if isinstance(i, PACEInfo)]

    @property
    def chip_authentication_infos(self) -> list[ChipAuthenticationInfo]:
        return [i for i in self.infos if isinstance(i, ChipAuthenticationInfo)]

    @property
    def chip_authentication_public_keys(self) -> list[ChipAuthenticationPublicKeyInfo]:
        return [i for i in self.infos if isinstance(i, ChipAuthenticationPublicKeyInfo)]

    @property
    def active_authentication_info(self) -> ActiveAuthenticationInfo | None:
        return next((i for i in self.infos if isinstance(i, ActiveAuthenticationInfo)), None)

    def to_json(self) -> list[dict[str, Any]]:
        return [info.to_json() for info in self.infos]
