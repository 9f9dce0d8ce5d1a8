"""ICAO 9303-11 Appendix H (PACE integrated mapping, ECDH and DH) and Appendix I (PACE
chip authentication mapping), byte for byte: the pseudo-random function, the point
encoding, the keys, the tokens, the whole CAM transcript and the CAM check."""

from __future__ import annotations

import pytest
from ecdsa import curves

from devices.errors import ChipError
from devices.icao9303.lds.security_infos import (
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
    SecurityInfos,
)
from devices.icao9303.pace import (
    PACE_DH_IM_AES_128,
    PACE_ECDH_CAM_AES_128,
    PACE_ECDH_IM_AES_128,
    CamEvidence,
    DhPaceGroup,
    EcPaceGroup,
    PaceAlgorithm,
    PacePassword,
    authentication_token,
    cam_data,
    cam_iv,
    decode_point,
    decrypt_cam_data,
    encode_point,
    encrypt_cam_data,
    establish_pace,
    nonce_cipher,
    pace_group,
    pace_supported,
    point_encoding,
    pseudo_random,
    pseudo_random_bytes,
    session_keys,
)
from devices.icao9303.tlv import encode_tlv

from .test_appendix_d_bac import ScriptedCard, h

BP256 = curves.BRAINPOOLP256r1
K_PI_H = h("591468CDA83D65219CCCB8560233600F")
CAN_H = PacePassword.from_can("123456")  # the appendix gives K_pi only; this CAN yields it

# --- H.1: ECDH integrated mapping on brainpoolP256r1, AES-128 ----------------------------
H1 = PaceAlgorithm.from_oid(PACE_ECDH_IM_AES_128)
H1_Z = "143DC40C08C8E891FBED7DEDB92B64AD"
H1_S = "2923BE84E16CD6AE529049F1F1BBE9EB"
H1_T = "5DD4CBFC96F5453B130D890A1CDBAE32"
H1_R = (
    "E4447E2DFB3586BAC05DDB00156B57FBB2179A3949294C97254189800C517BAA"
    "8DA0FF397ED8C445D3E421E4FEB57322"
)
H1_RP = "A2F8FF2DF50E52C6599F386ADCB595D229F6A167ADE2BE5F2C3296ADD5B7430E"
H1_G = (
    "048E82D31559ED0FDE92A4D0498ADD3C23BABA94FB77691E31E90AEA77FB17D427"
    "4C1AE14BD0C3DBAC0C871B7F3608169364437CA30AC243A089D3F266C1E60FAD"
)
H1_SK_IC = int("107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A", 16)
H1_SK_IFD = int("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595", 16)
H1_PK_IC = (
    "0467F78E5F7F7686082B293E8D087E056916D0F74BC01A5F8957D0DE45691E51E8"
    "932B69A962B52A0985AD2C0A271EE6A13A8ADDDCD1A3A994B9DED257F4D22753"
)
H1_PK_IFD = (
    "0489CBA23FFE96AA18D824627C3E934E54A9FD0B87A95D1471DC1C0ABFDCD640D4"
    "6755DE9B7B778280B6BEBD57439ADFEB0E21FD4ED6DF42578C13418A59B34C37"
)
H1_K = "4F150FDE1D4F0E38E95017B891BAE17133A0DF45B0D3E18B60BA7BEAFDC2C713"
H1_KS = (h("0D3FEB33251A6370893D62AE8DAAF51B"), h("B01E89E3D9E8719E586B50B4A7506E0B"))
H1_T_IC = "75D4D96E8D5B0308"
H1_T_IFD = "450F02B86F6A0909"


def test_h1_nonce_pseudo_random_function_and_point_encoding() -> None:
    assert CAN_H.k_pi(H1) == K_PI_H
    assert nonce_cipher(H1, K_PI_H, h(H1_Z), decrypt=True) == h(H1_S)
    p = int(BP256.curve.p())
    assert pseudo_random_bytes(H1, h(H1_S), h(H1_T), p) == h(H1_R)
    assert pseudo_random(H1, h(H1_S), h(H1_T), p) == int(H1_RP, 16)
    assert encode_point(point_encoding(BP256, int(H1_RP, 16)), BP256) == h(H1_G)
    mapped = EcPaceGroup(BP256).integrated(H1, h(H1_S), h(H1_T))
    assert isinstance(mapped, EcPaceGroup)
    assert encode_point(mapped.generator, BP256) == h(H1_G)


def test_h1_key_agreement_and_tokens() -> None:
    mapped = EcPaceGroup(BP256, decode_point(h(H1_G), BP256))
    assert mapped.public(H1_SK_IC) == h(H1_PK_IC)
    assert mapped.public(H1_SK_IFD) == h(H1_PK_IFD)
    shared = mapped.secret(mapped.agree(H1_SK_IFD, h(H1_PK_IC)))
    assert shared == h(H1_K) == mapped.secret(mapped.agree(H1_SK_IC, h(H1_PK_IFD)))
    assert session_keys(H1, shared) == H1_KS
    assert authentication_token(H1, H1_KS[1], h(H1_PK_IFD)) == h(H1_T_IC)
    assert authentication_token(H1, H1_KS[1], h(H1_PK_IC)) == h(H1_T_IFD)


def test_h1_terminal_transcript() -> None:
    """The terminal's APDUs for the H.1 values (the appendix lists no APDUs for IM)."""
    card = ScriptedCard(
        [
            ("0022C1A40F800A04007F00070202040402830102", "9000"),
            ("10860000027C0000", "7C128010" + H1_Z + "9000"),
            ("10860000147C128110" + H1_T + "00", "7C0282009000"),
            ("10860000457C438341" + H1_PK_IFD + "00", "7C438441" + H1_PK_IC + "9000"),
            ("008600000C7C0A8508" + H1_T_IFD + "00", "7C0A8608" + H1_T_IC + "9000"),
        ]
    )
    session = establish_pace(
        card,
        CAN_H,
        PACEInfo(PACE_ECDH_IM_AES_128, 2, 13),
        include_parameter_id=False,
        scalars=(0, H1_SK_IFD),
        terminal_nonce=h(H1_T),
    )
    assert not card.steps
    assert (session.sm.ks_enc, session.sm.ks_mac) == H1_KS
    assert session.algorithm.mapping == "IM" and session.cam is None


def test_im_mapping_data_from_the_chip_must_be_empty() -> None:
    card = ScriptedCard(
        [
            ("0022C1A40F800A04007F00070202040402830102", "9000"),
            ("10860000027C0000", "7C128010" + H1_Z + "9000"),
            ("10860000147C128110" + H1_T + "00", "7C038201009000"),
        ]
    )
    with pytest.raises(ChipError, match="must be empty"):
        establish_pace(
            card,
            CAN_H,
            PACEInfo(PACE_ECDH_IM_AES_128, 2, 13),
            include_parameter_id=False,
            terminal_nonce=h(H1_T),
        )


def test_im_point_encoding_refuses_p_1_mod_4() -> None:
    assert not pace_supported(PACEInfo(PACE_ECDH_IM_AES_128, 2, 10))  # P-224
    assert pace_supported(PACEInfo(PACE_ECDH_IM_AES_128, 2, 12))
    with pytest.raises(ChipError):
        point_encoding(curves.NIST224p, 5)


# --- H.2: DH integrated mapping on the 1024-bit MODP group, AES-128 ---------------------
H2 = PaceAlgorithm.from_oid(PACE_DH_IM_AES_128)
H2_Z = "9ABB8864CA0FF1551E620D1EF4E13510"
H2_S = "FA5B7E3E49753A0DB9178B7B9BD898C8"
H2_T = "B3A6DB3C870C3E99245E0D1C06B747DE"
H2_R = (
    "EAB98D13E09052952AA729907C3C946184DEA0FE74AD2B3AF506F0A83018459C"
    "38099CD1F7FF4EA0A078DB1FAC1365505E3DC85500EF95E20B4EEF2E88489233"
    "BEE0546B472F994B618D168702406791DEEF3CB4810932EC278F3533FDB860EB"
    "4835C36FA4F1BF3FA0B828A718C96BDE88FBA38A3E6C35AAA10959251EB5FC71"
    "0FC187258995944C0F926E249373F485"
)
H2_RP = (
    "A0C7C50C002061A51CC87D254EF38068607417B6EE1B36473CFB800D2D2E5FA2"
    "B6980F01105D24FAB22ACD1BFA5C8A4C093ECDFAFE6D7125D42A843E33860383"
    "5CF19AFAFF75EFE21DC5F6AA1F9AE46C25087E7368166FB08C1E4627AFED7D93"
    "570417B790FF7F747E57F432B04E1236819E0DFEF5B6E77CA4999925328182D2"
)
H2_G = (
    "1D7D767F11E333BCD6DBAEF40E799E7A926B96973550656FF3C830726D118D61"
    "C276CDCC61D475CF03A98E0C0E79CAEBA5BE25578BD4551D0B10903236F0B0F9"
    "76852FA78EEA14EA0ACA87D1E91F688FE0DFF897BBE35A472621D343564B262F"
    "34223AE8FC59B664BFEDFA2BFE7516CA5510A6BBB633D517EC25D4E0BBAA16C2"
)
H2_SK_IC = int(
    "020F018C7284B047FA7721A337EFB7ACB1440BB30C5252BD41C97C30C994BB78"
    "E9F0C5B32744D84017D21FFA6878396A6469CA283EF5C000DAF7D261A39AB886"
    "0ED4610AB5343390897AAB5A7787E4FAEFA0649C6A94FDF82D991E8E3FC332F5"
    "142729E7040A3F7D5A4D3CD75CBEE1F043C1CAD2DD484FEB4ED22B597D36688E",
    16,
)
H2_PK_IC = (
    "928D9A0F9DBA450F13FC859C6F290D1D36E42431138A4378500BEB4E0401854C"
    "FF111F71CB6DC1D0335807A11388CC8EAA87B07907AAD9FBA6B169AF6D8C26AF"
    "8DDDC39ADC3AD2E3FF882B84D23E9768E95A80E4746FB07A9767679FE92133B4"
    "D379935C771BD7FBED6C7BB4B1708B275EA75679524CDC9C6A91370CC662A2F3"
)
H2_SK_IFD = int(
    "4BD0E54740F9A028E6A515BFDAF967848C4F5F5FFF65AA0915947FFD1A0DF2FA"
    "6981271BC905F3551457B7E03AC3B8066DE4AA406C1171FB43DD939C4BA16175"
    "103BA3DEE16419AA248118F90CC36A3D6F4C373652E0C3CCE7F0F1D0C5425B36"
    "00F0F0D6A67F004C8BBA33F2B4733C7252445C1DFC4F1107203F71D2EFB28161",
    16,
)
H2_PK_IFD = (
    "0F0CC62945A8029251FB7EF3C094E12EC68E4EF07F27CB9D9CD04C5C4250FAE0"
    "E4F8A951557E929AEB48E5C6DD47F2F5CD7C351A9BD2CD722C07EDE166770F08"
    "FFCB370262CF308DD7B07F2E0DA9CAAA1492344C852906919538C98A4BA4187E"
    "76CE9D87832386D319CE2E043C3343AEAE6EDBA1A9894DC5094D22F7FE1351D5"
)
H2_K = (
    "419410D6C0A17A4C07C54872CE1CBCEB0A2705C1A434C8A89A4CFE41F1D78124"
    "CA7EC52BDE7615E5345E48AB1ABB6E7D1D59A57F3174084D3CA4570397C1F622"
    "28BDFDB2DA191EA2239E2C060DBE3BBC23C2FCD0AF12E0F9E0B99FCF91FF1959"
    "011D5798B2FCBC1F14FCC24E441F4C8F9B08D977E9498560E63E7FFAB3134EA7"
)


def test_h2_dh_integrated_mapping() -> None:
    assert nonce_cipher(H2, K_PI_H, h(H2_Z), decrypt=True) == h(H2_S)
    group = pace_group(H2, 0)
    assert isinstance(group, DhPaceGroup)
    p = group.group.p
    assert pseudo_random_bytes(H2, h(H2_S), h(H2_T), p) == h(H2_R)
    assert pseudo_random(H2, h(H2_S), h(H2_T), p) == int(H2_RP, 16)
    mapped = group.integrated(H2, h(H2_S), h(H2_T))
    assert isinstance(mapped, DhPaceGroup)
    assert mapped.generator == int(H2_G, 16)
    assert mapped.public(H2_SK_IC) == h(H2_PK_IC)
    assert mapped.public(H2_SK_IFD) == h(H2_PK_IFD)
    shared = mapped.secret(mapped.agree(H2_SK_IFD, h(H2_PK_IC)))
    assert shared == h(H2_K)
    ks_enc, ks_mac = session_keys(H2, shared)
    assert ks_enc == h("01AFC10CF87BE36D8179E87370171F07")
    assert ks_mac == h("23F0FBD05FD6C7B8B88F4C8309669061")
    assert authentication_token(H2, ks_mac, h(H2_PK_IFD)) == h("C2F04230187E1525")
    assert authentication_token(H2, ks_mac, h(H2_PK_IC)) == h("55D61977CBF5307E")


# --- I.1: ECDH chip authentication mapping on brainpoolP256r1, AES-128 -------------------
I1 = PaceAlgorithm.from_oid(PACE_ECDH_CAM_AES_128)
I1_PACE_INFO = "3012060A04007F0007020204060202010202010D"
I1_Z = "CB60E8E0D85B76A9BD304747C2AD42E2"
I1_S = "658B860BC94DF6F044FCE6D5C82CF8E5"
I1_SK_MAP_IFD = int("5D8BB87BD74D985A4B7D4325B9F7B976FE835122773400798914AA22738135CC", 16)
I1_PK_MAP_IFD = (
    "047F1D410ADB7DDB3B84BF1030800981A9105D7457B4A3ADE002384F3086C67EDE"
    "1AB889104A27DB6D842B019020FBF3CEACB0DC627F7BDCAC29969E19D0E553C1"
)
I1_SK_MAP_IC = int("9E56A6B59C95D06ECE5CD10F983BB2F4F1943528E577F23881D89D8C3BBEE0AA", 16)
I1_PK_MAP_IC = (
    "04A234236AA9B9621E8EFB73B5245C0E09D2576E5277183C1208BDD55280CAE8B3"
    "04F365713A356E65A451E165ECC9AC0AC46E3771342C8FE5AEDD092685338E23"
)
I1_G = (
    "0489F0B5EABF3BE293C75903A3986131925C9F5B515CA95AF485DC7E886F03245D"
    "44BEFB2DD3A0DBD71CB5E618971CF4747F12B79E548379A40E45963BAAF3E829"
)
I1_SK_EPH_IFD = int("76ECFDAA9841C323A3F5FC5E88B88DB3EFF7E35EBF57A7E6946CB630006C2120", 16)
I1_PK_EPH_IFD = (
    "04446C934084D9DAB863944F219520076C29EE3F7AE6722B11FF319EC1C7728F95"
    "5483400BFF60BF0C5929270009277DC2A515E12575010AD9BA916CF1BF86FEFC"
)
I1_PK_EPH_IC = (
    "0402AD566F3C6EC7F9324509AD50A51FA52030782A4968FCFEDF737DAEA9933331"
    "11C3B9B4C2287789BD137E7F8AA882E2A3C633CCD6ECC2C63C57AD401A09C2E1"
)
I1_KS = (h("0A9DA4DB03BDDE39FC5202BC44B2E89E"), h("4B1C06491ED5140CA2B537D344C6C0B1"))
I1_T_IFD = "E86BD06018A1CD3B"
I1_T_IC = "8596CF055C67C1A3"
I1_A_IC = (
    "1EEA964DAAE372AC990E3EFDE6333353BFC89A6704D93DA8798CF77F5B7A54BD"
    "10CBA372B42BE0B9B5F28AA8DE2F4F92"
)
I1_CA_IC = "85DC3FA93D0952BFA82F5FD189EE75BD82F11D1F0B8ED4BF5319AC9B53C426B3"
I1_CA_KEY_INFO = (
    "3062060904007F0007020201023052300C060704007F0007010202010D0342000418727094"
    "94399E7470A6431BE25E83EEE24FEA568C2ED28DB48E05DB3A610DC884D256A40E35EFCB59BF67"
    "53D3A489D28C7A4D973C2DA138A6E7A4A08F68E16F02010D"
)
I1_PK_IC = (
    "041872709494399E7470A6431BE25E83EEE24FEA568C2ED28DB48E05DB3A610DC8"
    "84D256A40E35EFCB59BF6753D3A489D28C7A4D973C2DA138A6E7A4A08F68E16F"
)


def i1_password() -> PacePassword:
    return PacePassword.from_mrz("C11T002JM", "960812", "231031")


def test_i1_password_and_pace_info() -> None:
    password = i1_password()
    assert password.key == h("894D03F148C6265E89845B218856EA34D00EF8E8")
    assert password.k_pi(I1) == h("4E6F6FBF7BE748B932C7B74161BBA9DF")
    assert nonce_cipher(I1, password.k_pi(I1), h(I1_Z), decrypt=True) == h(I1_S)
    (info,) = SecurityInfos.parse(encode_tlv(0x31, h(I1_PACE_INFO))).pace_infos
    assert (info.protocol, info.version, info.parameter_id) == (PACE_ECDH_CAM_AES_128, 2, 13)
    assert info.mapping == "CAM"


def test_i1_mapping_keys_and_cam_data() -> None:
    group = EcPaceGroup(BP256)
    assert group.public(I1_SK_MAP_IFD) == h(I1_PK_MAP_IFD)
    assert group.public(I1_SK_MAP_IC) == h(I1_PK_MAP_IC)
    mapped = group.mapped(h(I1_S), group.agree(I1_SK_MAP_IFD, h(I1_PK_MAP_IC)))
    assert isinstance(mapped, EcPaceGroup)
    assert encode_point(mapped.generator, BP256) == h(I1_G)
    assert mapped.public(I1_SK_EPH_IFD) == h(I1_PK_EPH_IFD)
    shared = mapped.secret(mapped.agree(I1_SK_EPH_IFD, h(I1_PK_EPH_IC)))
    assert shared == h("67950559D0C06B4D4B86972D14460837461087F8419FDBC36AAF6CEAAC462832")
    assert session_keys(I1, shared) == I1_KS
    assert cam_iv(I1_KS[0]) == h("F6A3B75A1E933941DD7A13E2520779DF")
    assert decrypt_cam_data(I1_KS[0], h(I1_A_IC)) == h(I1_CA_IC)
    assert encrypt_cam_data(I1_KS[0], h(I1_CA_IC)) == h(I1_A_IC)  # the chip's side


def i1_transcript() -> ScriptedCard:
    return ScriptedCard(
        [
            ("0022C1A40F800A04007F00070202040602830101", "9000"),
            ("10860000027C0000", "7C128010" + I1_Z + "9000"),
            ("10860000457C438141" + I1_PK_MAP_IFD + "00", "7C438241" + I1_PK_MAP_IC + "9000"),
            ("10860000457C438341" + I1_PK_EPH_IFD + "00", "7C438441" + I1_PK_EPH_IC + "9000"),
            (
                "008600000C7C0A8508" + I1_T_IFD + "00",
                "7C3C8608" + I1_T_IC + "8A30" + I1_A_IC + "9000",
            ),
        ]
    )


def test_i1_terminal_transcript_and_cam_check() -> None:
    card = i1_transcript()
    session = establish_pace(
        card,
        i1_password(),
        PACEInfo(PACE_ECDH_CAM_AES_128, 2, 13),
        include_parameter_id=False,
        scalars=(I1_SK_MAP_IFD, I1_SK_EPH_IFD),
    )
    assert not card.steps
    assert (session.sm.ks_enc, session.sm.ks_mac) == I1_KS
    cam = session.cam
    assert cam is not None and cam.ca_ic == int(I1_CA_IC, 16)
    # PK_IC from the appendix's ChipAuthenticationPublicKeyInfo (standardized id 13)
    (key_info,) = SecurityInfos.parse(encode_tlv(0x31, h(I1_CA_KEY_INFO))).infos
    assert isinstance(key_info, ChipAuthenticationPublicKeyInfo)
    assert key_info.key_id == 13
    assert key_info.public_key.kind == "ec"
    assert key_info.public_key.curve_name == "brainpoolP256r1"
    assert key_info.public_key.key_bytes == h(I1_PK_IC)
    assert cam.verify(key_info.public_key.key_bytes)
    # another chip's key, or altered CA data, does not verify
    assert not cam.verify(h(I1_PK_MAP_IFD))
    assert not CamEvidence(BP256, h(I1_PK_MAP_IC), cam.ca_ic + 1).verify(h(I1_PK_IC))
    assert not CamEvidence(BP256, h(I1_PK_MAP_IC), 0).verify(h(I1_PK_IC))


def test_cam_data_of_the_chip_side_verifies() -> None:
    sk_ic, sk_map = 0x1234567890ABCDEF, I1_SK_MAP_IC
    pk_ic = EcPaceGroup(BP256).public(sk_ic)
    ca_ic = cam_data(BP256, sk_ic, sk_map)
    assert len(ca_ic) == 32
    evidence = CamEvidence(BP256, h(I1_PK_MAP_IC), int.from_bytes(ca_ic, "big"))
    assert evidence.verify(pk_ic)


def test_cam_without_encrypted_data_is_refused() -> None:
    card = i1_transcript()
    card.steps[-1] = (card.steps[-1][0], h("7C0A8608" + I1_T_IC + "9000"))
    with pytest.raises(ChipError, match="no encrypted chip authentication data"):
        establish_pace(
            card,
            i1_password(),
            PACEInfo(PACE_ECDH_CAM_AES_128, 2, 13),
            include_parameter_id=False,
            scalars=(I1_SK_MAP_IFD, I1_SK_EPH_IFD),
        )


def test_cam_needs_aes() -> None:
    with pytest.raises(ChipError):
        PaceAlgorithm.from_oid("0.4.0.127.0.7.2.2.4.6.1")
