"""EF.DG2 face containers: ISO/IEC 19794-5, ISO/IEC 39794-5, bare images; JPEG and JPEG 2000."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from devices.icao9303.lds import LdsError
from devices.icao9303.lds.dg2 import (
    DataGroup2,
    FaceImage,
    FeaturePoint,
    detect_image_format,
    encode_19794_5,
    image_dimensions,
    parse_19794_5,
)
from devices.icao9303.tlv import encode_tlv


def _image(fmt: str, size: tuple[int, int] = (64, 80), **options: object) -> bytes:
    gradient = np.zeros((size[1], size[0], 3), dtype=np.uint8)
    gradient[..., 0] = np.linspace(0, 255, size[0], dtype=np.uint8)[None, :]
    gradient[..., 1] = 128
    out = io.BytesIO()
    Image.fromarray(gradient).save(out, fmt, **options)
    return out.getvalue()


JPEG = _image("JPEG", quality=80)
JP2 = _image("JPEG2000")
J2K = _image("JPEG2000", no_jp2=True)


def test_image_sniffing() -> None:
    assert detect_image_format(JPEG) == "jpeg"
    assert detect_image_format(JP2) == "jpeg2000"
    assert J2K[:4].hex() == "ff4fff51" and detect_image_format(J2K) == "jpeg2000"
    assert detect_image_format(b"GIF89a") is None
    for data in (JPEG, JP2, J2K):
        assert image_dimensions(data) == (64, 80)


@pytest.mark.parametrize(("data", "fmt"), [(JPEG, "jpeg"), (JP2, "jpeg2000"), (J2K, "jpeg2000")])
def test_19794_5_round_trip_and_decode(data: bytes, fmt: str) -> None:
    dg2 = DataGroup2.build(data, fmt, 64, 80, gender=2)  # type: ignore[arg-type]
    parsed = DataGroup2.parse(dg2.encode())
    face = parsed.face
    assert face.image_bytes == data
    assert (face.image_format, face.width, face.height) == (fmt, 64, 80)
    assert face.record_format == "ISO19794-5"
    assert face.gender == 2 and face.face_image_type == 1
    assert face.image_data_type == (0 if fmt == "jpeg" else 1)
    assert face.is_codestream == (data is J2K)
    header = parsed.headers[0]
    assert (header.format_owner, header.format_type) == (0x0101, 0x0008)
    pixels = face.decode()
    assert pixels.shape == (80, 64, 3)
    assert abs(int(pixels[40, 60, 0]) - 240) < 20  # the red gradient survived


def test_dg2_byte_layout() -> None:
    raw = DataGroup2.build(JPEG, "jpeg", 64, 80).encode()
    assert raw[0] == 0x75
    assert b"\x7f\x61" in raw[:6] and b"\x02\x01\x01\x7f\x60" in raw
    bdb = raw.index(b"FAC\x00")
    assert raw[bdb - 5 : bdb - 3] == b"\x5f\x2e"  # 5F2E with a two-byte length
    assert raw[bdb + 4 : bdb + 8] == b"010\x00"
    record_length, faces = struct.unpack(">IH", raw[bdb + 8 : bdb + 14])
    assert record_length == len(raw) - bdb and faces == 1


def test_feature_points_and_multiple_faces() -> None:
    points = (FeaturePoint(1, 0x31, 20, 30), FeaturePoint(1, 0x32, 44, 30))
    face = FaceImage(JPEG, "jpeg", 64, 80, feature_points=points, pose_angle=(91, 91, 91))
    record = encode_19794_5([face, face])
    parsed = parse_19794_5(record)
    assert len(parsed) == 2
    assert parsed[1].feature_points == points and parsed[1].pose_angle == (91, 91, 91)


def test_39794_5_round_trip() -> None:
    dg2 = DataGroup2.build(J2K, "jpeg2000", 64, 80, record_format="ISO39794-5")
    assert b"\x7f\x2e" in dg2.raw and b"FAC\x00" not in dg2.raw
    face = DataGroup2.parse(dg2.raw).face
    assert face.record_format == "ISO39794-5"
    assert (face.image_bytes, face.width, face.height) == (J2K, 64, 80)
    assert face.decode().shape == (80, 64, 3)


def test_bare_image_in_data_block() -> None:
    dg2 = DataGroup2.build(J2K, "jpeg2000", 64, 80, record_format="raw")
    face = DataGroup2.parse(dg2.raw).face
    assert face.record_format == "raw" and face.is_codestream
    assert (face.width, face.height) == (64, 80)


def test_record_length_minus_eight_is_tolerated() -> None:
    record = bytearray(encode_19794_5([FaceImage(JPEG, "jpeg", 64, 80)]))
    struct.pack_into(">I", record, 8, len(record) - 8)
    assert parse_19794_5(bytes(record))[0].image_bytes == JPEG


def _with_record(record: bytes) -> bytes:
    bht = encode_tlv(0xA1, encode_tlv(0x87, b"\x01\x01") + encode_tlv(0x88, b"\x00\x08"))
    bit = encode_tlv(0x7F60, bht + encode_tlv(0x5F2E, record))
    return encode_tlv(0x75, encode_tlv(0x7F61, b"\x02\x01\x01" + bit))


def _record(**changes: tuple[int, bytes]) -> bytes:
    record = bytearray(encode_19794_5([FaceImage(JPEG, "jpeg", 64, 80)]))
    for offset, value in changes.values():
        record[offset : offset + len(value)] = value
    return bytes(record)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (_with_record(_record(fid=(0, b"FAC\x01"))), "format identifier"),
        (_with_record(_record(ver=(4, b"030\x00"))), "version"),
        (_with_record(_record(len=(8, b"\x00\x00\x00\x10"))), "record length"),
        (_with_record(_record(count=(12, b"\x00\x00"))), "0 faces"),
        (_with_record(_record(block=(14, b"\x00\x00\x00\x05"))), "block length"),
        (_with_record(_record(img=(46, b"GIF8"))), "neither JPEG nor JPEG 2000"),
        (_with_record(b"FAC\x00010"), "shorter than"),
        (_with_record(b"not a face at all"), "not a face record|39794"),
        (encode_tlv(0x75, encode_tlv(0x7F61, b"\x02\x01\x02")), "declares 2"),
        (encode_tlv(0x75, b""), "7F61"),
    ],
)
def test_malformed_dg2(raw: bytes, message: str) -> None:
    with pytest.raises(LdsError, match=message):
        DataGroup2.parse(raw)


def test_undecodable_image_is_an_lds_error() -> None:
    broken = JPEG[:40]
    face = FaceImage(broken, "jpeg", 64, 80)
    with pytest.raises(LdsError, match="does not decode"):
        face.decode()


def test_build_rejects_mismatched_format() -> None:
    with pytest.raises(LdsError, match="not jpeg2000"):
        DataGroup2.build(JPEG, "jpeg2000", 64, 80)
