"""SecurityInfos (EF.CardAccess, DG14), DG15, EF.COM, DG11 and DG12."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from devices.icao9303.lds import LdsError
from devices.icao9303.lds.der import decode_oid, encode_oid, sequence
from devices.icao9303.lds.dg11 import DataGroup11
from devices.icao9303.lds.dg12 import DataGroup12
from devices.icao9303.lds.dg14 import DataGroup14
from devices.icao9303.lds.dg15 import DataGroup15
from devices.icao9303.lds.ef_com import EfCom
from devices.icao9303.lds.security_infos import (
    CA_ECDH_AES_CBC_CMAC_128,
    ECDSA_PLAIN_SHA256,
    ID_PK_ECDH,
    ID_TA,
    PACE_ECDH_GM_AES_CBC_CMAC_128,
    PACE_ECDH_GM_AES_CBC_CMAC_256,
    ActiveAuthenticationInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
    SecurityInfos,
    UnknownSecurityInfo,
)
from devices.icao9303.lds.spki import PublicKeyInfo
from devices.icao9303.tlv import encode_tlv, parse_single

# EF.CardAccess of a PACE chip: PACEInfo id-PACE-ECDH-GM-AES-CBC-CMAC-128, version 2,
# parameter 13 (brainpoolP256r1), as in BSI TR-03110 worked example and ICAO 9303-11 G.1.
CARD_ACCESS_BRAINPOOL = bytes.fromhex("31143012060a04007f0007020204020202010202010d")


def test_oid_codec() -> None:
    for oid in ("0.4.0.127.0.7.2.2.4.2.2", "2.23.136.1.1.5", "1.2.840.113549.1.1.1", "2.999.3"):
        assert decode_oid(parse_single(encode_oid(oid))) == oid
    assert encode_oid("0.4.0.127.0.7.2.2.4.2.2").hex() == "060a04007f00070202040202"


def test_card_access_worked_example() -> None:
    infos = SecurityInfos.parse(CARD_ACCESS_BRAINPOOL)
    (pace,) = infos.pace_infos
    assert pace == PACEInfo(PACE_ECDH_GM_AES_CBC_CMAC_128, 2, 13)
    assert (pace.key_agreement, pace.mapping, pace.cipher, pace.key_length) == (
        "ECDH", "GM", "AES", 128,
    )  # fmt: skip
    assert pace.domain_parameters == "brainpoolP256r1"
    assert infos.encode() == CARD_ACCESS_BRAINPOOL


def test_p384_pace_info_uses_aes_256() -> None:
    info = PACEInfo(PACE_ECDH_GM_AES_CBC_CMAC_256, 2, 15)
    assert (info.key_length, info.domain_parameters) == (256, "secp384r1")


def test_security_infos_round_trip_all_kinds() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    unknown = sequence(encode_oid(ID_TA), encode_tlv(0x02, b"\x02"))
    infos = SecurityInfos.of(
        [
            PACEInfo(PACE_ECDH_GM_AES_CBC_CMAC_128, 2, 12),
            ChipAuthenticationInfo(CA_ECDH_AES_CBC_CMAC_128, 1, 7),
            ChipAuthenticationPublicKeyInfo(ID_PK_ECDH, PublicKeyInfo.parse(spki), 7),
            ActiveAuthenticationInfo(ECDSA_PLAIN_SHA256),
            UnknownSecurityInfo(ID_TA, unknown),
        ]
    )
    dg14 = DataGroup14.build(infos)
    parsed = DataGroup14.parse(dg14.encode()).security_infos
    assert parsed == infos
    (ca,) = parsed.chip_authentication_infos
    assert (ca.key_agreement, ca.cipher, ca.key_length, ca.key_id) == ("ECDH", "AES", 128, 7)
    (pk,) = parsed.chip_authentication_public_keys
    assert pk.public_key.curve_name == "secp256r1"
    assert pk.public_key.to_cryptography().public_numbers() == key.public_numbers()
    assert parsed.active_authentication_info == ActiveAuthenticationInfo(ECDSA_PLAIN_SHA256)
    assert [i["type"] for i in parsed.to_json()].count("PACEInfo") == 1


@pytest.mark.shared
@pytest.mark.parametrize("folder", ["bsi", "etsi"])
def test_reference_dg14_explicit_brainpool(pa_vectors: Path, folder: str) -> None:
    raw = (pa_vectors / folder / "DG14.bin").read_bytes()
    dg14 = DataGroup14.parse(raw)
    (pk,) = dg14.security_infos.chip_authentication_public_keys
    assert pk.protocol == ID_PK_ECDH
    assert pk.public_key.curve_name == "brainpoolP224r1"  # from explicit parameters
    (ca,) = dg14.security_infos.chip_authentication_infos
    assert (ca.cipher, ca.key_length) == ("3DES", 112)
    assert any(isinstance(i, UnknownSecurityInfo) for i in dg14.security_infos.infos)
    assert DataGroup14.build(dg14.security_infos).encode() == raw  # order preserved


@pytest.mark.shared
def test_reference_dg15_rsa(pa_vectors: Path) -> None:
    dg15 = DataGroup15.parse((pa_vectors / "etsi" / "DG15.bin").read_bytes())
    key = dg15.public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 1024
    assert dg15.to_json()["public_key"] == {
        "algorithm": "rsa", "oid": "1.2.840.113549.1.1.1", "bits": 1024,
    }  # fmt: skip


@pytest.mark.parametrize("make", [
    lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key(),
    lambda: ec.generate_private_key(ec.BrainpoolP256R1()).public_key(),
])  # fmt: skip
def test_dg15_round_trip(make: object) -> None:
    key = make()  # type: ignore[operator]
    dg15 = DataGroup15.parse(DataGroup15.build(key).encode())
    assert dg15.public_key().public_numbers() == key.public_numbers()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\x31\x00", "empty"),
        (b"\x30\x00", "tag 30 found where tag 31"),
        (encode_tlv(0x31, sequence(encode_oid(ID_TA))), "required data"),
        (encode_tlv(0x31, encode_tlv(0x02, b"\x01")), "must be a SEQUENCE"),
        (
            encode_tlv(0x31, sequence(encode_oid(PACE_ECDH_GM_AES_CBC_CMAC_128), b"\x04\x00")),
            "PACEInfo version",
        ),
        (
            encode_tlv(0x31, sequence(encode_oid(ID_PK_ECDH), sequence(b"\x05\x00"))),
            "SubjectPublicKeyInfo",
        ),
        (encode_tlv(0x31, sequence(b"\x06\x01\x81", b"\x02\x01\x01")), "truncated OBJECT"),
    ],
)
def test_malformed_security_infos(raw: bytes, message: str) -> None:
    with pytest.raises(LdsError, match=message):
        SecurityInfos.parse(raw)


def test_ef_com() -> None:
    com = EfCom.build([2, 1, 15, 14, 11, 12])
    assert com.encode().hex() == "60185f0104303130375f36063034303030305c0661756b6c6e6f"
    parsed = EfCom.parse(com.encode())
    assert parsed.data_groups == [1, 2, 11, 12, 14, 15]
    assert parsed.to_json()["lds_version"] == "1.7"
    with pytest.raises(LdsError, match="does not exist"):
        EfCom.build([17])
    with pytest.raises(LdsError, match="LDS version"):
        EfCom.parse(encode_tlv(0x60, encode_tlv(0x5C, b"\x61")))


def test_dg11_round_trip() -> None:
    dg11 = DataGroup11.build(
        full_name="ERIKSSON<<ANNA MARIA",
        other_names=["ANNA SVENSSON", "ANNIE"],
        personal_number="ZE184226B",
        full_date_of_birth=date(1974, 8, 12),
        place_of_birth="ZENITH<UTOPIA",
        permanent_address="1 MAIN ST<ZENITH<UTOPIA",
        telephone="+1 555 0100",
        profession="ASTRONAUT",
        proof_of_citizenship=b"\xff\xd8\xff",
    )
    parsed = DataGroup11.parse(dg11.encode())
    assert parsed == dg11
    assert parsed.other_names == ("ANNA SVENSSON", "ANNIE")
    assert parsed.birth_date() == date(1974, 8, 12)
    assert parsed.to_json()["proof_of_citizenship"] == "3 bytes"
    tag_list = parse_single(parsed.raw).children()[0]
    assert tag_list.value.startswith(bytes.fromhex("5f0e5f0f5f10"))
    with pytest.raises(LdsError, match="no field"):
        DataGroup11.build(nickname="x")


def test_dg12_round_trip() -> None:
    dg12 = DataGroup12.build(
        issuing_authority="UTOPIA PASSPORT AUTHORITY",
        date_of_issue=date(2021, 11, 26),
        other_persons=["CHILD ONE"],
        personalization_time=datetime(2021, 11, 20, 9, 30, 0),
    )
    parsed = DataGroup12.parse(dg12.encode())
    assert parsed.issue_date() == date(2021, 11, 26)
    assert parsed.personalization_time == "20211120093000"
    assert parsed.other_persons == ("CHILD ONE",)


def test_dg11_rejects_broken_structure() -> None:
    with pytest.raises(LdsError, match="tag list"):
        DataGroup11.parse(encode_tlv(0x6B, encode_tlv(0x5F0E, b"X")))
    bad_count = encode_tlv(0xA0, b"\x02\x01\x03" + encode_tlv(0x5F0F, b"A"))
    with pytest.raises(LdsError, match="declares 3 other names"):
        DataGroup11.parse(encode_tlv(0x6B, encode_tlv(0x5C, b"\x5f\x0f") + bad_count))
    with pytest.raises(LdsError, match="UTF-8"):
        DataGroup11.parse(encode_tlv(0x6B, encode_tlv(0x5C, b"") + encode_tlv(0x5F0E, b"\xff")))
