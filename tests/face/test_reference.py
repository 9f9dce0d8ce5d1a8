"""DG2 portrait decoding (JPEG, JPEG 2000, embedded in a record) and preparation."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from kiosk.face.errors import UnreadableImageError
from kiosk.face.reference import decode_image, load_image_file, prepare_reference


def encode(rgb: np.ndarray, fmt: str, mode: str = "RGB", **kw: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).convert(mode).save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_decodes_jpeg_and_jpeg2000(astronaut: np.ndarray) -> None:
    small = np.asarray(Image.fromarray(astronaut).resize((240, 240)))
    for fmt in ("JPEG", "JPEG2000"):
        rgb = decode_image(encode(small, fmt))
        assert rgb.shape == (240, 240, 3) and rgb.dtype == np.uint8
        assert np.abs(rgb.astype(int) - small.astype(int)).mean() < 12


def test_decodes_raw_j2k_codestream(astronaut: np.ndarray) -> None:
    small = np.asarray(Image.fromarray(astronaut).resize((120, 120)))
    data = encode(small, "JPEG2000", no_jp2=True)
    assert data[:4] == b"\xff\x4f\xff\x51"
    assert decode_image(data).shape == (120, 120, 3)


def test_finds_the_image_inside_a_facial_record(astronaut: np.ndarray) -> None:
    jpeg = encode(astronaut, "JPEG")
    record = b"FAC\x00010\x00" + bytes(range(40)) + jpeg  # ISO/IEC 19794-5 header + image
    assert decode_image(record).shape == astronaut.shape


def test_an_image_containing_a_jpeg_signature_is_decoded_as_itself(
    astronaut: np.ndarray,
) -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("note", "\xff\xd8\xff")  # a JPEG start-of-image inside a PNG chunk
    buf = io.BytesIO()
    Image.fromarray(astronaut).save(buf, format="PNG", pnginfo=info)
    assert b"\xff\xd8\xff" in buf.getvalue()
    assert np.array_equal(decode_image(buf.getvalue()), astronaut)


def test_greyscale_and_transparent_images_become_rgb(astronaut: np.ndarray) -> None:
    grey = decode_image(encode(astronaut, "PNG", mode="L"))
    assert grey.shape == astronaut.shape
    assert np.array_equal(grey[..., 0], grey[..., 2])
    rgba = np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)])
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
    assert decode_image(buf.getvalue()).shape == astronaut.shape


def test_cmyk_and_16_bit_images_become_rgb(astronaut: np.ndarray) -> None:
    cmyk = decode_image(encode(astronaut, "JPEG", mode="CMYK"))
    assert cmyk.shape == astronaut.shape
    assert np.abs(cmyk.astype(int) - astronaut.astype(int)).mean() < 20
    grey16 = (astronaut[..., 1].astype(np.uint16) * 64).astype(np.uint16)
    buf = io.BytesIO()
    Image.fromarray(grey16).save(buf, format="PNG")
    rgb = decode_image(buf.getvalue())
    assert rgb.shape == astronaut.shape and rgb.dtype == np.uint8
    assert rgb.max() == 255


@pytest.mark.parametrize(
    "data", [b"", b"hello", b"\xff\xd8\xff\xe0" + b"\x00" * 20, b"\x00\x00\x00\x0cjP  \r\n\x87\n"]
)
def test_garbage_is_a_typed_error(data: bytes) -> None:
    with pytest.raises(UnreadableImageError):
        decode_image(data)


def test_missing_file_is_a_typed_error(tmp_path: object) -> None:
    with pytest.raises(UnreadableImageError, match=r"cannot (open|read)"):
        load_image_file("/nonexistent/photo.jpg")


def test_prepare_upscales_small_and_stretches_faded_photos(astronaut: np.ndarray) -> None:
    small = np.asarray(Image.fromarray(astronaut).resize((180, 240)))
    prepared = prepare_reference(small)
    assert min(prepared.shape[:2]) == 480
    faded = (small.astype(np.float64) * 0.3 + 100).astype(np.uint8)  # spread about 76 levels
    stretched = prepare_reference(faded)
    assert np.percentile(stretched, 99) - np.percentile(stretched, 1) > 150
    normal = prepare_reference(astronaut)
    assert normal.shape == astronaut.shape  # large, contrasty photo passes unchanged
    assert np.array_equal(normal, astronaut)
