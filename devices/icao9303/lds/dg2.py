"""EF.DG2: encoded face (ICAO 9303-10 4.7.2) in the CBEFF biometric template (ISO/IEC 7816-11).

    75 { 7F61 { 02 <count>, 7F60 { A1 <biometric header>, 5F2E|7F2E <biometric data> } ... } }

The biometric data block is an ISO/IEC 19794-5:2005 facial record ("FAC\\0" "010\\0"),
an ISO/IEC 39794-5 FaceImageDataBlock (DER), or, as some issuers store it, the bare
image. Images are JPEG, JPEG 2000 (JP2 file) or a raw JPEG 2000 codestream (FF4FFF51).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt

from devices.icao9303.lds import LdsError
from devices.icao9303.lds.der import decode_integer, encode_integer, encode_octet_string, sequence
from devices.icao9303.tlv import Tlv, TlvError, encode_tlv, parse_all, parse_single

ImageFormat = Literal["jpeg", "jpeg2000"]
RecordFormat = Literal["ISO19794-5", "ISO39794-5", "raw"]

BIT_GROUP_TAG = 0x7F61
BIT_TAG = 0x7F60
BHT_TAG = 0xA1
BDB_TAG = 0x5F2E
BDB_CONSTRUCTED_TAG = 0x7F2E
FORMAT_OWNER_JTC1_SC37 = 0x0101
FORMAT_TYPE_19794_5 = 0x0008
FORMAT_TYPE_39794_5 = 0x0040
BIOMETRIC_TYPE_FACE = 0x02
MAX_FACES = 16
MAX_DECODED_PIXELS = 4096 * 4096  # a portrait is far smaller; refuse bombs

_JPEG_MAGIC = b"\xff\xd8\xff"
_JP2_MAGIC = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
_J2K_MAGIC = b"\xff\x4f\xff\x51"
_FAC_HEADER = struct.Struct(">4s4sIH")  # format id, version, record length, face count
_FACIAL_INFO = struct.Struct(">IHBBB3sH3s3s")  # 20 bytes, ISO/IEC 19794-5:2005 5.5
_IMAGE_INFO = struct.Struct(">BBHHBBHH")  # 12 bytes, ISO/IEC 19794-5:2005 5.7
_FEATURE_POINT = struct.Struct(">BBHHH")  # 8 bytes: type, code, x, y, reserved
_39794_FORMAT_CODES: dict[int, ImageFormat] = {2: "jpeg", 3: "jpeg2000", 4: "jpeg2000"}


def detect_image_format(data: bytes) -> ImageFormat | None:
    if data.startswith(_JPEG_MAGIC):
        return "jpeg"
    if data.startswith(_JP2_MAGIC) or data.startswith(_J2K_MAGIC):
        return "jpeg2000"
    return None


def image_dimensions(data: bytes) -> tuple[int, int] | None:
    """(width, height) read from the image header, or None when it cannot be found."""
    if data.startswith(_JPEG_MAGIC):
        return _jpeg_dimensions(data)
    if data.startswith(_J2K_MAGIC):
        return _j2k_dimensions(data, 0)
    if data.startswith(_JP2_MAGIC):
        at = data.find(b"ihdr")
        if at >= 0 and at + 12 <= len(data):
            height, width = struct.unpack(">II", data[at + 4 : at + 12])
            return width, height
    return None


def _jpeg_dimensions(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if pos + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        if length < 2:
            return None
        pos += 2 + length
    return None


def _j2k_dimensions(data: bytes, start: int) -> tuple[int, int] | None:
    siz = start + 4  # after SOC and the SIZ marker: Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz
    if siz + 20 > len(data):
        return None
    xsiz, ysiz, xo, yo = struct.unpack(">IIII", data[siz + 4 : siz + 20])
    return xsiz - xo, ysiz - yo


@dataclass(frozen=True)
class FeaturePoint:
    """ISO/IEC 19794-5 5.6.3: an MPEG-4 feature point (major.minor) at (x, y)."""

    point_type: int
    code: int
    x: int
    y: int


@dataclass(frozen=True)
class BiometricHeader:
    """The biometric header template (ISO/IEC 7816-11 table 2, ICAO 9303-10 table 38)."""

    format_owner: int
    format_type: int
    icao_header_version: bytes | None = None
    biometric_type: int | None = None
    biometric_subtype: int | None = None
    creation_datetime: bytes | None = None
    validity_period: bytes | None = None
    creator: bytes | None = None

    def encode(self) -> bytes:
        parts = [
            encode_tlv(0x80, self.icao_header_version or b"\x01\x01"),
            encode_tlv(0x81, bytes([self.biometric_type or BIOMETRIC_TYPE_FACE])),
        ]
        if self.biometric_subtype is not None:
            parts.append(encode_tlv(0x82, bytes([self.biometric_subtype])))
        if self.creation_datetime is not None:
            parts.append(encode_tlv(0x83, self.creation_datetime))
        if self.validity_period is not None:
            parts.append(encode_tlv(0x85, self.validity_period))
        if self.creator is not None:
            parts.append(encode_tlv(0x86, self.creator))
        parts.append(encode_tlv(0x87, self.format_owner.to_bytes(2, "big")))
        parts.append(encode_tlv(0x88, self.format_type.to_bytes(2, "big")))
        return encode_tlv(BHT_TAG, b"".join(parts))

    @classmethod
    def parse(cls, bht: Tlv) -> BiometricHeader:
        values = {child.tag: child.value for child in bht.children()}
        owner, ftype = values.get(0x87), values.get(0x88)
        if owner is None or ftype is None:
            raise LdsError("DG2 biometric header lacks format owner (87) or format type (88)")
        if len(owner) != 2 or len(ftype) != 2:
            raise LdsError("DG2 biometric header format owner/type must be 2 bytes each")
        btype, subtype = values.get(0x81), values.get(0x82)
        return cls(
            format_owner=int.from_bytes(owner, "big"),
            format_type=int.from_bytes(ftype, "big"),
            icao_header_version=values.get(0x80),
            biometric_type=int.from_bytes(btype, "big") if btype else None,
            biometric_subtype=int.from_bytes(subtype, "big") if subtype else None,
            creation_datetime=values.get(0x83),
            validity_period=values.get(0x85),
            creator=values.get(0x86),
        )


@dataclass(frozen=True)
class FaceImage:
    """One face image with the ISO/IEC 19794-5 facial and image information."""

    image_bytes: bytes
    image_format: ImageFormat
    width: int
    height: int
    record_format: RecordFormat = "ISO19794-5"
    gender: int = 0  # 0 unspecified, 1 male, 2 female, 0xFF unknown
    eye_colour: int = 0
    hair_colour: int = 0
    feature_mask: int = 0
    expression: int = 0
    pose_angle: tuple[int, int, int] = (0, 0, 0)  # yaw, pitch, roll as coded
    pose_angle_uncertainty: tuple[int, int, int] = (0, 0, 0)
    feature_points: tuple[FeaturePoint, ...] = ()
    face_image_type: int = 1  # 0 basic, 1 full frontal, 2 token frontal
    image_data_type: int = 0  # 0 JPEG, 1 JPEG 2000
    colour_space: int = 1  # 1 = 24-bit RGB
    source_type: int = 2  # 2 = digital still camera
    device_type: int = 0
    quality: int = 0
    is_codestream: bool = field(default=False)  # JPEG 2000 without the JP2 wrapper

    def decode(self) -> npt.NDArray[np.uint8]:
        """The pixels as an RGB uint8 array; LdsError when the image does not decode."""
        from PIL import Image

        try:
            with Image.open(io.BytesIO(self.image_bytes)) as img:
                width, height = img.size
                if width * height > MAX_DECODED_PIXELS:
                    raise LdsError(f"DG2 image of {width}x{height} pixels is implausibly large")
                return np.asarray(img.convert("RGB"), dtype=np.uint8)
        except LdsError:
            raise
        except Exception as exc:  # the codec is third-party: any failure means "not an image"
            raise LdsError(f"DG2 {self.image_format} image does not decode: {exc}") from exc

    def to_json(self) -> dict[str, Any]:
        return {
            "record_format": self.record_format,
            "image_format": self.image_format,
            "codestream": self.is_codestream,
            "width": self.width,
            "height": self.height,
            "image_bytes": len(self.image_bytes),
            "gender": self.gender,
            "eye_colour": self.eye_colour,
            "hair_colour": self.hair_colour,
            "expression": self.expression,
            "pose_angle": list(self.pose_angle),
            "face_image_type": self.face_image_type,
            "colour_space": self.colour_space,
            "source_type": self.source_type,
            "feature_points": len(self.feature_points),
        }


def _checked_image(data: bytes, where: str) -> tuple[ImageFormat, bool]:
    fmt = detect_image_format(data)
    if fmt is None:
        raise LdsError(f"DG2 {where}: image data is neither JPEG nor JPEG 2000 ({data[:4].hex()})")
    return fmt, data.startswith(_J2K_MAGIC)


# -- ISO/IEC 19794-5:2005 -----------------------------------------------------------------
def parse_19794_5(bdb: bytes) -> list[FaceImage]:
    if len(bdb) < _FAC_HEADER.size:
        raise LdsError("ISO/IEC 19794-5 record shorter than its 14-byte header")
    fmt_id, version, record_length, count = _FAC_HEADER.unpack_from(bdb, 0)
    if fmt_id != b"FAC\x00":
        raise LdsError(f"ISO/IEC 19794-5 format identifier is {fmt_id!r}, not 'FAC\\0'")
    if version != b"010\x00":
        raise LdsError(f"ISO/IEC 19794-5 version {version!r} is not supported (only '010')")
    # Some issuers (NZ) write the record length minus 8; both are accepted.
    if record_length not in (len(bdb), len(bdb) - 8):
        raise LdsError(
            f"ISO/IEC 19794-5 record length {record_length} does not match the {len(bdb)} bytes"
        )
    if not 1 <= count <= MAX_FACES:
        raise LdsError(f"ISO/IEC 19794-5 record declares {count} faces (1..{MAX_FACES})")
    faces = []
    pos = _FAC_HEADER.size
    for index in range(count):
        face, pos = _parse_19794_face(bdb, pos, index)
        faces.append(face)
    if pos != len(bdb):
        raise LdsError(f"ISO/IEC 19794-5 record has {len(bdb) - pos} bytes after the last face")
    return faces


def _parse_19794_face(bdb: bytes, pos: int, index: int) -> tuple[FaceImage, int]:
    where = f"face {index + 1}"
    if pos + _FACIAL_INFO.size > len(bdb):
        raise LdsError(f"ISO/IEC 19794-5 {where}: facial information truncated")
    (block_length, n_points, gender, eyes, hair, mask, expression, pose, pose_unc) = (
        _FACIAL_INFO.unpack_from(bdb, pos)
    )
    fixed = _FACIAL_INFO.size + n_points * _FEATURE_POINT.size + _IMAGE_INFO.size
    if block_length < fixed or pos + block_length > len(bdb):
        raise LdsError(
            f"ISO/IEC 19794-5 {where}: block length {block_length} inconsistent "
            f"({fixed} header bytes, {len(bdb) - pos} available)"
        )
    cursor = pos + _FACIAL_INFO.size
    points = []
    for _ in range(n_points):
        ptype, code, x, y, _reserved = _FEATURE_POINT.unpack_from(bdb, cursor)
        points.append(FeaturePoint(ptype, code, x, y))
        cursor += _FEATURE_POINT.size
    (img_type, data_type, width, height, colour, source, device, quality) = _IMAGE_INFO.unpack_from(
        bdb, cursor
    )
    cursor += _IMAGE_INFO.size
    end = pos + block_length
    image = bytes(bdb[cursor:end])
    fmt, codestream = _checked_image(image, where)
    return (
        FaceImage(
            image_bytes=image,
            image_format=fmt,
            width=width,
            height=height,
            record_format="ISO19794-5",
            gender=gender,
            eye_colour=eyes,
            hair_colour=hair,
            feature_mask=int.from_bytes(mask, "big"),
            expression=expression,
            pose_angle=(pose[0], pose[1], pose[2]),
            pose_angle_uncertainty=(pose_unc[0], pose_unc[1], pose_unc[2]),
            feature_points=tuple(points),
            face_image_type=img_type,
            image_data_type=data_type,
            colour_space=colour,
            source_type=source,
            device_type=device,
            quality=quality,
            is_codestream=codestream,
        ),
        end,
    )


def encode_19794_5(faces: Sequence[FaceImage]) -> bytes:
    blocks = []
    for face in faces:
        points = b"".join(
            _FEATURE_POINT.pack(p.point_type, p.code, p.x, p.y, 0) for p in face.feature_points
        )
        image_info = _IMAGE_INFO.pack(
            face.face_image_type,
            0 if face.image_format == "jpeg" else 1,
            face.width,
            face.height,
            face.colour_space,
            face.source_type,
            face.device_type,
            face.quality,
        )
        length = _FACIAL_INFO.size + len(points) + len(image_info) + len(face.image_bytes)
        info = _FACIAL_INFO.pack(
            length,
            len(face.feature_points),
            face.gender,
            face.eye_colour,
            face.hair_colour,
            face.feature_mask.to_bytes(3, "big"),
            face.expression,
            bytes(face.pose_angle),
            bytes(face.pose_angle_uncertainty),
        )
        blocks.append(info + points + image_info + face.image_bytes)
    body = b"".join(blocks)
    header = _FAC_HEADER.pack(b"FAC\x00", b"010\x00", _FAC_HEADER.size + len(body), len(faces))
    return header + body


# -- ISO/IEC 39794-5 (DER, automatic implicit tags) ---------------------------------------
def _context(item: Tlv, number: int) -> Tlv | None:
    for tag in (0x80 | number, 0xA0 | number):
        found = item.find(tag)
        if found is not None:
            return found
    return None


def _need(item: Tlv | None, number: int, what: str) -> Tlv:
    found = _context(item, number) if item is not None else None
    if found is None:
        raise LdsError(f"ISO/IEC 39794-5: {what} [{number}] missing")
    return found


def parse_39794_5(bdb: bytes) -> list[FaceImage]:
    """FaceImageDataBlock ::= [APPLICATION 5] { versionBlock [0], representationBlocks [1] }."""
    top = parse_all(bdb)
    block = next((t for t in top if t.tag == 0x65), None)
    if block is None:  # wrapped as in the ICAO 39794-5 application profile: A1 { 65 ... }
        wrapper = next((t for t in top if t.tag == 0xA1), None)
        if wrapper is not None:
            block = wrapper.find(0x65)
    if block is None:
        raise LdsError("ISO/IEC 39794-5: FaceImageDataBlock (tag 65) not found")
    representations = _need(block, 1, "representationBlocks")
    faces = []
    for rep in representations.children():
        image_rep = _need(rep, 1, "imageRepresentation")
        base = _need(image_rep, 0, "imageRepresentation.base")
        block2d = _need(base, 0, "imageRepresentation2DBlock")
        data = _need(block2d, 0, "representationData2D").value
        info = _need(block2d, 1, "imageInformation2DBlock")
        fmt, codestream = _checked_image(data, "ISO/IEC 39794-5 representation")
        declared = _context(_need(info, 0, "imageDataFormat"), 0)
        if declared is not None:
            code = decode_integer(declared, declared.tag, "imageDataFormat")
            if _39794_FORMAT_CODES.get(code, fmt) != fmt:
                raise LdsError(f"ISO/IEC 39794-5: imageDataFormat {code} but the data is {fmt}")
        size = _context(info, 7)
        if size is not None:
            width = decode_integer(_need(size, 0, "width"), 0x80, "width")
            height = decode_integer(_need(size, 1, "height"), 0x81, "height")
        else:
            width, height = image_dimensions(data) or (0, 0)
        faces.append(
            FaceImage(
                image_bytes=data,
                image_format=fmt,
                width=width,
                height=height,
                record_format="ISO39794-5",
                image_data_type=0 if fmt == "jpeg" else 1,
                is_codestream=codestream,
            )
        )
    if not faces or len(faces) > MAX_FACES:
        raise LdsError(f"ISO/IEC 39794-5: {len(faces)} representations (1..{MAX_FACES})")
    return faces


def encode_39794_5(faces: Sequence[FaceImage]) -> bytes:
    """The FaceImageDataBlock inside the A1 wrapper of the ICAO application profile."""
    reps = []
    for index, face in enumerate(faces):
        code = 2 if face.image_format == "jpeg" else 3
        info = sequence(
            sequence(encode_integer(code, 0x80), tag=0xA0),
            sequence(encode_integer(face.width, 0x80), encode_integer(face.height, 0x81), tag=0xA7),
            tag=0xA1,
        )
        block2d = sequence(encode_octet_string(face.image_bytes, 0x80), info, tag=0xA0)
        reps.append(
            sequence(encode_integer(index, 0x80), sequence(sequence(block2d, tag=0xA0), tag=0xA1))
        )
    version = sequence(encode_integer(1, 0x80), encode_integer(2019, 0x81), tag=0xA0)
    body = sequence(version, sequence(*reps, tag=0xA1), tag=0x65)
    return encode_tlv(0xA1, body)


# -- the data group ------------------------------------------------------------------------
@dataclass(frozen=True)
class DataGroup2:
    """DG2: one or more face images with their biometric headers."""

    TAG: ClassVar[int] = 0x75

    faces: tuple[FaceImage, ...]
    headers: tuple[BiometricHeader, ...]
    raw: bytes

    @classmethod
    def parse(cls, raw: bytes) -> DataGroup2:
        outer = parse_single(raw, cls.TAG, allow_trailing=True)
        group = outer.require(BIT_GROUP_TAG, "biometric information group template")
        count_tlv = group.require(0x02, "number of instances")
        count = decode_integer(count_tlv, 0x02, "DG2 instance count")
        templates = group.find_all(BIT_TAG)
        if not 1 <= count <= MAX_FACES or count != len(templates):
            raise LdsError(f"DG2 declares {count} biometric templates and holds {len(templates)}")
        faces: list[FaceImage] = []
        headers: list[BiometricHeader] = []
        for bit in templates:
            header = BiometricHeader.parse(bit.require(BHT_TAG, "biometric header template"))
            bdb = bit.find(BDB_TAG) or bit.find(BDB_CONSTRUCTED_TAG)
            if bdb is None:
                raise LdsError("DG2 biometric template has no data block (5F2E or 7F2E)")
            faces.extend(_parse_bdb(bdb.value))
            headers.append(header)
        if len(faces) > MAX_FACES:
            raise LdsError(f"DG2 holds {len(faces)} faces (max {MAX_FACES})")
        return cls(tuple(faces), tuple(headers), bytes(raw))

    @classmethod
    def build(
        cls,
        image_bytes: bytes,
        image_format: ImageFormat,
        width: int,
        height: int,
        *,
        record_format: RecordFormat = "ISO19794-5",
        gender: int = 0,
        **face_fields: Any,
    ) -> DataGroup2:
        fmt, codestream = _checked_image(image_bytes, "build")
        if fmt != image_format:
            raise LdsError(f"image bytes are {fmt}, not {image_format}")
        face = FaceImage(
            image_bytes=image_bytes,
            image_format=image_format,
            width=width,
            height=height,
            record_format=record_format,
            gender=gender,
            image_data_type=0 if image_format == "jpeg" else 1,
            is_codestream=codestream,
            **face_fields,
        )
        return cls.build_faces([face], record_format=record_format)

    @classmethod
    def build_faces(
        cls, faces: Sequence[FaceImage], *, record_format: RecordFormat = "ISO19794-5"
    ) -> DataGroup2:
        if not 1 <= len(faces) <= MAX_FACES:
            raise LdsError(f"DG2 needs 1..{MAX_FACES} faces, got {len(faces)}")
        templates = []
        headers = []
        if record_format == "ISO19794-5":
            header = BiometricHeader(FORMAT_OWNER_JTC1_SC37, FORMAT_TYPE_19794_5)
            bdb = encode_tlv(BDB_TAG, encode_19794_5(faces))
            templates.append(encode_tlv(BIT_TAG, header.encode() + bdb))
            headers.append(header)
        elif record_format == "ISO39794-5":
            header = BiometricHeader(FORMAT_OWNER_JTC1_SC37, FORMAT_TYPE_39794_5)
            bdb = encode_tlv(BDB_CONSTRUCTED_TAG, encode_39794_5(faces))
            templates.append(encode_tlv(BIT_TAG, header.encode() + bdb))
            headers.append(header)
        else:  # one bare image per template
            for face in faces:
                header = BiometricHeader(FORMAT_OWNER_JTC1_SC37, FORMAT_TYPE_19794_5)
                bdb = encode_tlv(BDB_TAG, face.image_bytes)
                templates.append(encode_tlv(BIT_TAG, header.encode() + bdb))
                headers.append(header)
        group = encode_tlv(BIT_GROUP_TAG, encode_integer(len(templates)) + b"".join(templates))
        raw = encode_tlv(cls.TAG, group)
        return cls.parse(raw)

    def encode(self) -> bytes:
        return self.raw

    @property
    def face(self) -> FaceImage:
        """The first (usually the only) face."""
        return self.faces[0]

    def to_json(self) -> dict[str, Any]:
        return {"faces": [face.to_json() for face in self.faces]}


def _parse_bdb(value: bytes) -> list[FaceImage]:
    if value.startswith(b"FAC"):
        return parse_19794_5(value)
    fmt = detect_image_format(value)
    if fmt is not None:  # a bare image without a facial record header
        width, height = image_dimensions(value) or (0, 0)
        return [
            FaceImage(
                image_bytes=value,
                image_format=fmt,
                width=width,
                height=height,
                record_format="raw",
                image_data_type=0 if fmt == "jpeg" else 1,
                is_codestream=value.startswith(_J2K_MAGIC),
            )
        ]
    try:
        return parse_39794_5(value)
    except TlvError as exc:
        raise LdsError(f"DG2 biometric data block is not a face record: {exc}") from exc
