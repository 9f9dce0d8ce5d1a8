"""Hostile input: every LDS parser raises LdsError, never another exception, never hangs."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from devices.icao9303.lds import LdsError
from devices.icao9303.lds.dg1 import DataGroup1
from devices.icao9303.lds.dg2 import DataGroup2
from devices.icao9303.lds.dg11 import DataGroup11
from devices.icao9303.lds.dg12 import DataGroup12
from devices.icao9303.lds.dg14 import DataGroup14
from devices.icao9303.lds.dg15 import DataGroup15
from devices.icao9303.lds.ef_com import EfCom
from devices.icao9303.lds.security_infos import (
    CA_ECDH_AES_CBC_CMAC_128,
    ID_PK_ECDH,
    PACE_ECDH_GM_AES_CBC_CMAC_128,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
    SecurityInfos,
)
from devices.icao9303.lds.spki import PublicKeyInfo
from devices.icao9303.mrz import Mrz
from devices.icao9303.tlv import encode_tlv, parse_all

TODAY = date(2026, 11, 26)
FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def _tiny_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(out, "JPEG")
    return out.getvalue()


def _seeds() -> dict[str, bytes]:
    from cryptography.hazmat.primitives.asymmetric import rsa

    jpeg = _tiny_jpeg()
    ca = ec.generate_private_key(ec.SECP256R1()).public_key()
    from cryptography.hazmat.primitives import serialization

    spki = ca.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    infos = SecurityInfos.of(
        [
            PACEInfo(PACE_ECDH_GM_AES_CBC_CMAC_128, 2, 12),
            ChipAuthenticationInfo(CA_ECDH_AES_CBC_CMAC_128, 1),
            ChipAuthenticationPublicKeyInfo(ID_PK_ECDH, PublicKeyInfo.parse(spki)),
        ]
    )
    aa = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    mrz = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10"
    return {
        "DG1": DataGroup1.encode_text(mrz),
        "DG2": DataGroup2.build(jpeg, "jpeg", 8, 8).raw,
        "DG2-39794": DataGroup2.build(jpeg, "jpeg", 8, 8, record_format="ISO39794-5").raw,
        "DG11": DataGroup11.build(full_name="A<<B", other_names=["C"]).raw,
        "DG12": DataGroup12.build(issuing_authority="X", other_persons=["Y"]).raw,
        "DG14": DataGroup14.build(infos).raw,
        "DG15": DataGroup15.build(aa).raw,
        "EF.COM": EfCom.build([1, 2, 14]).raw,
    }


SEEDS = _seeds()


def _dg2_parse_and_decode(raw: bytes) -> None:
    for face in DataGroup2.parse(raw).faces:
        face.decode()


PARSERS: dict[str, Callable[[bytes], Any]] = {
    "TLV": lambda raw: [t.children() for t in parse_all(raw) if t.constructed],
    "DG1": lambda raw: DataGroup1.parse(raw, today=TODAY),
    "DG2": _dg2_parse_and_decode,
    "DG2-39794": _dg2_parse_and_decode,
    "DG11": DataGroup11.parse,
    "DG12": DataGroup12.parse,
    "DG14": DataGroup14.parse,
    "DG15": lambda raw: DataGroup15.parse(raw).public_key(),
    "EF.COM": EfCom.parse,
    "CardAccess": SecurityInfos.parse,
}


def _accepts_or_lds_error(parse: Callable[[bytes], Any], raw: bytes) -> None:
    with contextlib.suppress(LdsError):
        parse(raw)


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """The seed with a few bytes changed, cut, or inserted (keeps most structure valid)."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        choice = draw(st.integers(0, 3))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if choice == 0 and data:
            data[pos] = draw(st.integers(0, 255))
        elif choice == 1:
            data = data[: draw(st.integers(0, len(data)))]
        elif choice == 2:
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif data:
            data[pos] ^= 0x80
    return bytes(data)


@pytest.mark.parametrize("name", sorted(PARSERS))
@FUZZ
@given(raw=st.binary(max_size=512))
def test_random_bytes(name: str, raw: bytes) -> None:
    _accepts_or_lds_error(PARSERS[name], raw)


@pytest.mark.parametrize("name", sorted(SEEDS))
@FUZZ
@given(data=st.data())
def test_mutated_valid_files(name: str, data: st.DataObject) -> None:
    raw = data.draw(mutated(SEEDS[name]))
    _accepts_or_lds_error(PARSERS[name], raw)


@FUZZ
@given(raw=st.binary(max_size=64))
def test_wrapped_random_content(raw: bytes) -> None:
    """Right outer tag, hostile inside: the path most chip data takes."""
    for tag, name in ((0x61, "DG1"), (0x75, "DG2"), (0x6E, "DG14"), (0x6F, "DG15")):
        _accepts_or_lds_error(PARSERS[name], encode_tlv(tag, raw))


@FUZZ
@given(text=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<\n", max_size=100))
def test_mrz_text(text: str) -> None:
    _accepts_or_lds_error(lambda _: Mrz.parse(text, today=TODAY), b"")


@pytest.mark.parametrize("name", sorted(set(PARSERS) - {"TLV"}))  # valid TLV, wrong content
def test_deep_nesting_is_refused_without_recursion(name: str) -> None:
    raw = b""
    for _ in range(3000):
        raw = b"\xa1\x84" + len(raw).to_bytes(4, "big") + raw
    for tag in (0x61, 0x75, 0x6E, 0x6F, 0x31, 0x60, 0x6B, 0x6C):
        with pytest.raises(LdsError):
            PARSERS[name](encode_tlv(tag, raw))


def test_decompression_bomb_header_is_refused() -> None:
    from devices.icao9303.lds.dg2 import FaceImage

    out = io.BytesIO()
    Image.new("L", (8, 8)).save(out, "JPEG2000", no_jp2=True)
    codestream = bytearray(out.getvalue())
    codestream[8:16] = (60000).to_bytes(4, "big") + (60000).to_bytes(4, "big")  # SIZ Xsiz/Ysiz
    with pytest.raises(LdsError, match=r"implausibly large|does not decode"):
        FaceImage(bytes(codestream), "jpeg2000", 60000, 60000).decode()


_NAME = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ ", min_size=1, max_size=20).filter(
    lambda s: s.strip() != ""
)


@FUZZ
@given(
    fmt=st.sampled_from(["TD1", "TD2", "TD3"]),
    surname=_NAME,
    given=_NAME,
    number=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=9),
    birth=st.dates(min_value=date(1927, 1, 1), max_value=TODAY),
    expiry=st.dates(min_value=date(1990, 1, 1), max_value=date(2070, 12, 31)),
    sex=st.sampled_from(["M", "F", "X"]),
    optional=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", max_size=7),
)
def test_mrz_round_trip_property(
    fmt: str, surname: str, given: str, number: str, birth: date, expiry: date, sex: str,
    optional: str,
) -> None:  # fmt: skip
    mrz = Mrz.create(
        document_code="P" if fmt == "TD3" else "I", issuing_state="UTO", surname=surname,
        given_names=given, document_number=number, nationality="UTO", birth_date=birth,
        sex=sex, expiry_date=expiry, optional_data=optional, format=fmt,  # type: ignore[arg-type]
    )  # fmt: skip
    parsed = Mrz.parse(mrz.lines(), today=TODAY)
    assert parsed == mrz
    assert (parsed.birth_date, parsed.expiry_date) == (birth, expiry)
    assert DataGroup1.parse(DataGroup1.build(mrz).raw, today=TODAY).mrz == mrz
