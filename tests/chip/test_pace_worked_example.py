"""ICAO 9303-11 Appendix G.1 (= BSI TR-03110 worked example): PACE ECDH GM, brainpoolP256r1."""

from __future__ import annotations

import pytest
from ecdsa import curves

from devices.errors import AccessDeniedError, ChipError
from devices.icao9303.apdu import CommandApdu
from devices.icao9303.lds.security_infos import PACEInfo
from devices.icao9303.pace import (
    DH_GROUPS,
    PACE_ECDH_GM_AES_128,
    DhPaceGroup,
    PaceAlgorithm,
    PacePassword,
    authentication_token,
    decode_point,
    encode_point,
    map_generator,
    nonce_cipher,
    pace_group,
    perform_pace,
    session_keys,
)

from .test_appendix_d_bac import ScriptedCard, h

BP256 = curves.BRAINPOOLP256r1
ALG = PaceAlgorithm.from_oid(PACE_ECDH_GM_AES_128)
SK_MAP_IFD = int("7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99", 16)
SK_MAP_IC = int("498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560", 16)
SK_EPH_IFD = int("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595", 16)
SK_EPH_IC = int("107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A", 16)
PK_MAP_IFD = (
    "047ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E"
    "544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D"
)
PK_MAP_IC = (
    "04824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"
    "30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54"
)
H_POINT = (
    "0460332EF2450B5D247EF6D3868397D398852ED6E8CAF6FFEEF6BF85CA57057FD5"
    "0840CA7415BAF3E43BD414D35AA4608B93A2CAF3A4E3EA4E82C9C13D03EB7181"
)
G_MAPPED = (
    "048CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2"
    "8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522"
)
PK_EPH_IFD = (
    "042DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C"
    "3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462"
)
PK_EPH_IC = (
    "049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"
    "7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094"
)
NONCE_Z = "95A3A016522EE98D01E76CB6B98B42C3"
NONCE_S = "3F00C4D39D153F2B2A214A078D899B22"
KS_ENC = h("F5F0E35C0D7161EE6724EE513A0D9A7F")
KS_MAC = h("FE251C7858B356B24514B3BD5F4297D1")
T_IFD = "C2B0BD78D94BA866"
T_IC = "3ABB9674BCE93C08"


def test_password_key() -> None:
    password = PacePassword.from_mrz("T22000129", "640812", "101031")
    assert password.key == h("7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD")
    assert password.k_pi(ALG) == h("89DED1B26624EC1E634C1989302849DD")
    assert nonce_cipher(ALG, password.k_pi(ALG), h(NONCE_Z), decrypt=True) == h(NONCE_S)


def test_mapping_and_key_agreement() -> None:
    g = BP256.generator
    assert encode_point(g * SK_MAP_IFD, BP256) == h(PK_MAP_IFD)
    assert encode_point(g * SK_MAP_IC, BP256) == h(PK_MAP_IC)
    shared = decode_point(h(PK_MAP_IC), BP256) * SK_MAP_IFD
    assert encode_point(shared, BP256) == h(H_POINT)
    # both sides reach the same H
    assert encode_point(decode_point(h(PK_MAP_IFD), BP256) * SK_MAP_IC, BP256) == h(H_POINT)
    mapped = map_generator(BP256, h(NONCE_S), shared)
    assert encode_point(mapped, BP256) == h(G_MAPPED)
    assert encode_point(mapped * SK_EPH_IFD, BP256) == h(PK_EPH_IFD)
    assert encode_point(mapped * SK_EPH_IC, BP256) == h(PK_EPH_IC)
    k = decode_point(h(PK_EPH_IC), BP256) * SK_EPH_IFD
    shared_x = int(k.x()).to_bytes(32, "big")
    assert shared_x == h("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")
    assert session_keys(ALG, shared_x) == (KS_ENC, KS_MAC)
    assert authentication_token(ALG, KS_MAC, h(PK_EPH_IC)) == h(T_IFD)
    assert authentication_token(ALG, KS_MAC, h(PK_EPH_IFD)) == h(T_IC)


def transcript(mse: str, token_response: str = "7C0A8608" + T_IC + "9000") -> ScriptedCard:
    return ScriptedCard(
        [
            (mse, "9000"),
            ("10860000027C0000", "7C128010" + NONCE_Z + "9000"),
            ("10860000457C438141" + PK_MAP_IFD + "00", "7C438241" + PK_MAP_IC + "9000"),
            ("10860000457C438341" + PK_EPH_IFD + "00", "7C438441" + PK_EPH_IC + "9000"),
            ("008600000C7C0A8508" + T_IFD + "00", token_response),
        ]
    )


@pytest.mark.parametrize(
    ("with_id", "mse"),
    [
        (False, "0022C1A40F800A04007F00070202040202830101"),
        (True, "0022C1A412800A04007F0007020204020283010184010D"),
    ],
)
def test_terminal_transcript_byte_for_byte(with_id: bool, mse: str) -> None:
    card = transcript(mse)
    sm = perform_pace(
        card,
        PacePassword.from_mrz("T22000129", "640812", "101031"),
        PACEInfo(PACE_ECDH_GM_AES_128, 2, 13),
        include_parameter_id=with_id,
        scalars=(SK_MAP_IFD, SK_EPH_IFD),
    )
    assert not card.steps
    assert (sm.ks_enc, sm.ks_mac, sm.ssc, sm.cipher) == (KS_ENC, KS_MAC, 0, "AES")
    # First AES-protected command under the G.1 keys: SELECT of the eMRTD application.
    select = sm.protect(CommandApdu(0x00, 0xA4, 0x04, 0x0C, h("A0000002471001")))
    assert select.encode() == h(
        "0CA4040C1D871101752F676B09FAC86A87D632749A49C7CC8E08C18BA1FCE707BD9F00"
    )
    assert sm.unprotect(h("990290008E08BEA7B381C494A0799000")).sw == 0x9000


def test_wrong_token_is_access_denied() -> None:
    card = transcript(
        "0022C1A40F800A04007F00070202040202830101", "7C0A86080000000000000000" + "9000"
    )
    with pytest.raises(AccessDeniedError):
        perform_pace(
            card,
            PacePassword.from_mrz("T22000129", "640812", "101031"),
            PACEInfo(PACE_ECDH_GM_AES_128, 2, 13),
            include_parameter_id=False,
            scalars=(SK_MAP_IFD, SK_EPH_IFD),
        )


# ICAO 9303-11 Appendix G.2: PACE DH generic mapping, 1024-bit MODP group (parameter ID 0).
DH_OID = "0.4.0.127.0.7.2.2.4.1.2"  # id-PACE-DH-GM-AES-CBC-CMAC-128
DH_NONCE_Z = "854D8DF5827FA6852D1A4FA701CDDDCA"
DH_NONCE_S = "FA5B7E3E49753A0DB9178B7B9BD898C8"
DH_SK_MAP_IFD = int("5265030F751F4AD18B08AC565FC7AC952E41618D", 16)
DH_PK_MAP_IFD = (
    "23FB3749EA030D2A25B278D2A562047ADE3F01B74F17A15402CB7352CA7D2B3EB71C343DB13D1DEB"
    "CE9A3666DBCFC920B49174A602CB47965CAA73DC702489A44D41DB914DE9613DC5E98C94160551C0"
    "DF86274B9359BC0490D01B03AD54022DCB4F57FAD6322497D7A1E28D46710F461AFE710FBBBC5F8B"
    "A166F4311975EC6C"
)
DH_PK_MAP_IC = (
    "78879F57225AA8080D52ED0FC890A4B25336F699AA89A2D3A189654AF70729E623EA5738B26381E4"
    "DA19E004706FACE7B235C2DBF2F38748312F3C98C2DD4882A41947B324AA1259AC22579DB93F7085"
    "655AF30889DBB845D9E6783FE42C9F2449400306254C8AE8EE9DD812A804C0B66E8CAFC14F84D825"
    "8950A91B44126EE6"
)
DH_G_MAPPED = (
    "7C9CBFE98F9FBDDA8D143506FA7D9306F4CB17E3C71707AFF5E1C1A12370249684D64EE37AF44B8D"
    "BD9D45BF6023919CBAA027AB97ACC771666C8E98FF483301BFA4872DEDE9034EDFACB70814166B7F"
    "360676829B826BEA57291B5AD69FBC84EF1E779032A305803F74341793E869742D401325B37EE856"
    "5FFCDEE618342DC5"
)
DH_SK_EPH_IFD = int("89CCD99B0E8D3B1F11E1296DCA68EC53411CF2CA", 16)
DH_PK_EPH_IFD = (
    "907D89E2D425A178AA81AF4A7774EC8E388C115CAE67031E85EECE520BD911551B9AE4D04369F29A"
    "02626C86FBC6747CC7BC352645B6161A2A42D44EDA80A08FA8D61B76D3A154AD8A5A51786B0BC071"
    "47057871A922212C5F67F43173172236B7747D1671E6D692A3C7D40A0C3C5CE397545D015C175EB5"
    "130551EDBC2EE5D4"
)
DH_PK_EPH_IC = (
    "075693D9AE941877573E634B6E644F8E60AF17A0076B8B123D9201074D36152BD8B3A213F53820C4"
    "2ADC79AB5D0AEEC3AEFB91394DA476BD97B9B14D0A65C1FC71A0E019CB08AF55E1F729005FBA7E3F"
    "A5DC41899238A250767A6D46DB974064386CD456743585F8E5D90CC8B4004B1F6D866C79CE0584E4"
    "9687FF61BC29AEA1"
)


def test_dh_groups_are_consistent() -> None:
    for group in DH_GROUPS.values():
        assert (group.p - 1) % group.q == 0
        assert pow(group.g, group.q, group.p) == 1 and group.g > 1


def test_dh_generic_mapping_worked_example() -> None:
    alg = PaceAlgorithm.from_oid(DH_OID)
    assert alg.agreement == "DH"
    password = PacePassword.from_mrz("T22000129", "640812", "101031")
    assert nonce_cipher(alg, password.k_pi(alg), h(DH_NONCE_Z), decrypt=True) == h(DH_NONCE_S)
    group = pace_group(alg, 0)
    assert group.public(DH_SK_MAP_IFD) == h(DH_PK_MAP_IFD)
    mapped = group.mapped(h(DH_NONCE_S), group.agree(DH_SK_MAP_IFD, h(DH_PK_MAP_IC)))
    assert isinstance(mapped, DhPaceGroup)
    assert mapped.generator == int(DH_G_MAPPED, 16)
    assert mapped.public(DH_SK_EPH_IFD) == h(DH_PK_EPH_IFD)
    assert isinstance(group, DhPaceGroup)
    with pytest.raises(ChipError):
        group.agree(DH_SK_MAP_IFD, (group.group.p - 1).to_bytes(128, "big"))

    card = ScriptedCard(
        [
            ("0022C1A40F800A04007F00070202040102830101", "9000"),
            ("10860000027C0000", "7C128010" + DH_NONCE_Z + "9000"),
            (
                "10860000867C8183818180" + DH_PK_MAP_IFD + "00",
                "7C8183828180" + DH_PK_MAP_IC + "9000",
            ),
            (
                "10860000867C8183838180" + DH_PK_EPH_IFD + "00",
                "7C8183848180" + DH_PK_EPH_IC + "9000",
            ),
            ("008600000C7C0A8508B46DD9BD4D98381F00", "7C0A8608917F37B5C0E6D8D19000"),
        ]
    )
    sm = perform_pace(
        card,
        password,
        PACEInfo(DH_OID, 2, 0),
        include_parameter_id=False,
        scalars=(DH_SK_MAP_IFD, DH_SK_EPH_IFD),
    )
    assert not card.steps
    assert sm.ks_enc == h("2F7F46ADCC9E7E521B45D192FAFA9126")
    assert sm.ks_mac == h("805A1D27D45A5116F73C54469462B7D8")


def test_mse_without_parameter_id_after_a_refusal() -> None:
    card = transcript("0022C1A40F800A04007F00070202040202830101")
    card.steps.insert(0, (h("0022C1A412800A04007F0007020204020283010184010D"), h("6A80")))
    perform_pace(
        card,
        PacePassword.from_mrz("T22000129", "640812", "101031"),
        PACEInfo(PACE_ECDH_GM_AES_128, 2, 13),
        scalars=(SK_MAP_IFD, SK_EPH_IFD),
    )
    assert not card.steps
