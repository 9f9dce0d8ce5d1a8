"""Explicit PACE domain parameters (PACEDomainParameterInfo) and explicit EC parameters
in public keys, matched on every number including the base point and the cofactor."""

from __future__ import annotations

import dataclasses

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from ecdsa import curves
from ecdsa.ellipticcurve import PointJacobi

from devices.errors import ChipError
from devices.icao9303.lds import LdsError
from devices.icao9303.lds.der import encode_integer, encode_oid, sequence
from devices.icao9303.lds.security_infos import (
    ID_PACE_DH_GM,
    ID_PACE_ECDH_GM,
    ID_PACE_ECDH_IM,
    PACEDomainParameterInfo,
    PACEInfo,
    SecurityInfos,
)
from devices.icao9303.lds.spki import PublicKeyInfo, explicit_curve
from devices.icao9303.pace import (
    DH_GROUPS,
    DhPaceGroup,
    EcPaceGroup,
    encode_point,
    pace_algorithm,
    pace_group,
    pace_infos,
    pace_supported,
)
from devices.icao9303.tlv import encode_tlv, parse_single
from devices.simulated.virtual_passport import VirtualPassport

from .test_reader_emulator import read

P256 = curves.NIST256p
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
PRIME_FIELD = "1.2.840.10045.1.1"


def ec_parameters(
    curve: curves.Curve,
    generator: PointJacobi | None = None,
    cofactor: int | None = 1,
    order: int | None = None,
) -> bytes:
    """RFC 3279 ECParameters with every number spelled out."""
    fp = curve.curve
    size = (int(fp.p()).bit_length() + 7) // 8
    g = generator if generator is not None else curve.generator
    parts = [
        encode_integer(1),
        sequence(encode_oid(PRIME_FIELD), encode_integer(int(fp.p()))),
        sequence(
            encode_tlv(0x04, (int(fp.a()) % int(fp.p())).to_bytes(size, "big")),
            encode_tlv(0x04, int(fp.b()).to_bytes(size, "big")),
        ),
        encode_tlv(0x04, encode_point(g, curve)),
        encode_integer(int(curve.order) if order is None else order),
    ]
    if cofactor is not None:
        parts.append(encode_integer(cofactor))
    return sequence(*parts)


def spki_with(params: bytes) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    algorithm = sequence(encode_oid(EC_PUBLIC_KEY), params)
    return sequence(algorithm, encode_tlv(0x03, b"\x00" + point))


def test_explicit_key_parameters_match_on_base_point_and_cofactor() -> None:
    assert PublicKeyInfo.parse(spki_with(ec_parameters(P256))).curve_name == "secp256r1"
    assert PublicKeyInfo.parse(spki_with(ec_parameters(P256, cofactor=None))).curve_name == (
        "secp256r1"
    )
    # same field, equation and order, another base point: not P-256
    other_base = PublicKeyInfo.parse(spki_with(ec_parameters(P256, P256.generator * 2)))
    assert other_base.curve_name is None
    with pytest.raises(LdsError):
        other_base.to_cryptography()
    assert PublicKeyInfo.parse(spki_with(ec_parameters(P256, cofactor=4))).curve_name is None


def test_explicit_curve_builds_and_validates_unknown_curves() -> None:
    known = explicit_curve(parse_single(ec_parameters(curves.BRAINPOOLP256r1)))
    assert known is curves.BRAINPOOLP256r1
    custom = explicit_curve(parse_single(ec_parameters(P256, P256.generator * 2)))
    assert custom is not P256 and int(custom.order) == int(P256.order)
    assert (int(custom.generator.x()), int(custom.generator.y())) == (
        int((P256.generator * 2).x()),
        int((P256.generator * 2).y()),
    )
    with pytest.raises(LdsError, match="order and cofactor"):
        explicit_curve(parse_single(ec_parameters(P256, P256.generator * 2, cofactor=2)))
    off_curve = PointJacobi(P256.curve, 1, 2, 1)
    with pytest.raises(LdsError, match="not on the curve"):
        explicit_curve(parse_single(ec_parameters(P256, off_curve)))
    with pytest.raises(LdsError, match="large prime"):
        explicit_curve(parse_single(ec_parameters(P256, order=int(P256.order) + 2)))


def ec_domain(
    curve: curves.Curve, generator: PointJacobi | None = None, order: int | None = None
) -> bytes:
    return sequence(encode_oid(EC_PUBLIC_KEY), ec_parameters(curve, generator, order=order))


def dh_domain(p: int, g: int, q: int) -> bytes:
    params = sequence(encode_integer(p), encode_integer(g), encode_integer(q))
    return sequence(encode_oid("1.2.840.10046.2.1"), params)


def test_pace_groups_from_explicit_domain_parameters() -> None:
    gm = PACEInfo(ID_PACE_ECDH_GM + ".2", 2, 32, ec_domain(P256, P256.generator * 3))
    assert pace_supported(gm)
    group = pace_group(pace_algorithm(gm), 32, gm.domain)
    assert isinstance(group, EcPaceGroup)
    assert group.generator == P256.generator * 3
    standardized = sequence(encode_oid("0.4.0.127.0.7.1.2"), encode_integer(13))
    group = pace_group(pace_algorithm(gm), None, standardized)
    assert isinstance(group, EcPaceGroup) and group.curve is curves.BRAINPOOLP256r1
    rfc5114 = DH_GROUPS[1]
    dh = PACEInfo(ID_PACE_DH_GM + ".2", 2, 33, dh_domain(rfc5114.p, rfc5114.g, rfc5114.q))
    assert pace_supported(dh)
    dh_group = pace_group(pace_algorithm(dh), 33, dh.domain)
    assert isinstance(dh_group, DhPaceGroup) and dh_group.group == rfc5114
    # unusable explicit parameters are refused, never used
    small = DH_GROUPS[0]
    assert not pace_supported(PACEInfo(ID_PACE_DH_GM + ".2", 2, 34, dh_domain(small.p, 1, small.q)))
    assert not pace_supported(PACEInfo(ID_PACE_DH_GM + ".2", 2, 35, dh_domain(small.p, small.g, 7)))
    assert not pace_supported(PACEInfo(ID_PACE_DH_GM + ".2", 2, 36, ec_domain(P256)))  # EC for DH
    with pytest.raises(ChipError):
        pace_group(pace_algorithm(gm), 32, b"\x30\x03\x06\x01\x00")


def card_access(*infos: PACEInfo | PACEDomainParameterInfo) -> bytes:
    return SecurityInfos.of(list(infos)).encode()


def test_pace_infos_join_their_domain_parameter_info() -> None:
    domain = ec_domain(P256, P256.generator * 3)
    raw = card_access(
        PACEInfo(ID_PACE_ECDH_GM + ".2", 2, 32),
        PACEDomainParameterInfo(ID_PACE_ECDH_GM, domain, 32),
        PACEInfo(ID_PACE_ECDH_GM + ".2", 2, 12),
    )
    infos = {i.parameter_id: i for i in pace_infos(SecurityInfos.parse(raw))}
    assert infos[32].domain == domain
    assert infos[12].domain is None


@pytest.mark.parametrize("mapping", ["GM", "IM"])
def test_reader_runs_pace_on_explicit_ec_parameters(
    pace_passport: VirtualPassport, mapping: str
) -> None:
    family = ID_PACE_ECDH_GM if mapping == "GM" else ID_PACE_ECDH_IM
    domain = ec_domain(P256, P256.generator * 5)  # not a named curve: a new base point
    vp = dataclasses.replace(
        pace_passport,
        files={
            **pace_passport.files,
            "EF.CardAccess": card_access(
                PACEInfo(family + ".2", 2, 40), PACEDomainParameterInfo(family, domain, 40)
            ),
        },
    )
    result = read(vp)
    assert result.access_control == "PACE"
    assert result.chip_authentication == "passed"
    assert result.files["DG1"] == vp.files["DG1"]


def test_reader_runs_pace_on_explicit_dh_parameters(pace_passport: VirtualPassport) -> None:
    group = DH_GROUPS[0]
    vp = dataclasses.replace(
        pace_passport,
        files={
            **pace_passport.files,
            "EF.CardAccess": card_access(
                PACEInfo(ID_PACE_DH_GM + ".2", 2, 33),
                PACEDomainParameterInfo(ID_PACE_DH_GM, dh_domain(group.p, group.g, group.q), 33),
            ),
        },
    )
    result = read(vp)
    assert result.access_control == "PACE"
    assert result.files["DG2"] == vp.files["DG2"]


def test_unusable_explicit_parameters_fall_back_to_bac(pace_passport: VirtualPassport) -> None:
    bad = ec_domain(P256, P256.generator * 2, order=0)
    vp = dataclasses.replace(
        pace_passport,
        files={
            **pace_passport.files,
            "EF.CardAccess": card_access(
                PACEInfo(ID_PACE_ECDH_GM + ".2", 2, 41),
                PACEDomainParameterInfo(ID_PACE_ECDH_GM, bad, 41),
            ),
        },
    )
    result = read(vp)
    assert result.access_control == "BAC"
    assert any("PACE offered" in n for n in result.notes)


def test_keys_naming_a_standardized_parameter_id() -> None:
    key = ec.generate_private_key(ec.BrainpoolP256R1()).public_key()
    point = key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    def spki(parameter_id: int) -> bytes:
        algorithm = sequence(encode_oid("0.4.0.127.0.7.1.2"), encode_integer(parameter_id))
        return sequence(algorithm, encode_tlv(0x03, b"\x00" + point))

    parsed = PublicKeyInfo.parse(spki(13))
    assert (parsed.kind, parsed.curve_name) == ("ec", "brainpoolP256r1")
    assert parsed.to_cryptography() == key
    assert PublicKeyInfo.parse(spki(2)).kind == "dh"
    assert PublicKeyInfo.parse(spki(99)).kind == "unknown"
