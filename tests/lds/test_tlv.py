"""BER-TLV codec (ISO/IEC 7816-4 5.2, ICAO 9303-10 4.1)."""

from __future__ import annotations

import pytest

from devices.icao9303.lds import LdsError
from devices.icao9303.tlv import (
    Tlv,
    TlvError,
    encode_length,
    encode_tlv,
    is_constructed,
    parse_all,
    parse_single,
    read_length,
    read_tag,
)


@pytest.mark.parametrize(
    ("length", "encoded"),
    [
        (0, "00"),
        (0x7F, "7f"),
        (0x80, "8180"),
        (0xFF, "81ff"),
        (0x100, "820100"),
        (0xFFFF, "82ffff"),
        (0x10000, "83010000"),
    ],
)
def test_length_forms(length: int, encoded: str) -> None:
    assert encode_length(length).hex() == encoded
    assert read_length(bytes.fromhex(encoded), 0) == (length, len(encoded) // 2)


def test_multi_byte_tags_round_trip() -> None:
    for tag in (0x5F1F, 0x7F61, 0x7F2E, 0x5F2E, 0x9F8101):
        blob = encode_tlv(tag, b"xyz")
        item = parse_single(blob, tag)
        assert item == Tlv(tag, b"xyz")
        assert item.encode() == blob


def test_constructed_children_and_lookup() -> None:
    inner = encode_tlv(0x5F1F, b"MRZ") + encode_tlv(0x02, b"\x01")
    outer = parse_single(encode_tlv(0x61, inner), 0x61)
    assert outer.constructed and is_constructed(0x7F61) and not is_constructed(0x5F1F)
    assert [c.tag for c in outer.children()] == [0x5F1F, 0x02]
    assert outer.require(0x5F1F).value == b"MRZ"
    assert outer.find(0x04) is None
    with pytest.raises(TlvError, match=r"tag 4 .*missing"):
        outer.require(0x04)
    with pytest.raises(TlvError, match="primitive"):
        outer.require(0x5F1F).children()


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        ("", "empty"),
        ("61", "length expected"),
        ("6180", "indefinite"),
        ("6185" + "00" * 5, "5 bytes"),
        ("6105" + "0102", "declares 5 bytes, only 2 remain"),
        ("5f", "truncated"),
        ("5f818181810100", "longer than 4 bytes"),
        ("618201", "truncated"),
    ],
)
def test_malformed_input_raises_tlv_error(blob: str, message: str) -> None:
    with pytest.raises(TlvError, match=message):
        parse_single(bytes.fromhex(blob))


def test_tlv_error_is_an_lds_error() -> None:
    with pytest.raises(LdsError):
        parse_all(b"\x30\x05\x01")


def test_wrong_tag_and_trailing_bytes() -> None:
    blob = encode_tlv(0x61, b"") + b"\x00\x00"
    with pytest.raises(TlvError, match="2 unexpected bytes"):
        parse_single(blob, 0x61)
    assert parse_single(blob, 0x61, allow_trailing=True).value == b""
    with pytest.raises(TlvError, match="tag 61 found where tag 75"):
        parse_single(blob, 0x75, allow_trailing=True)


def test_padding_between_objects_only_when_allowed() -> None:
    blob = encode_tlv(0x80, b"\x01") + b"\x00\xff" + encode_tlv(0x81, b"\x02")
    assert [t.tag for t in parse_all(blob, allow_padding=True)] == [0x80, 0x81]
    with pytest.raises(TlvError):
        parse_all(blob)


def test_read_tag_positions() -> None:
    assert read_tag(bytes.fromhex("7f6100"), 0) == (0x7F61, 2)
    assert read_tag(bytes.fromhex("0030"), 1) == (0x30, 2)
