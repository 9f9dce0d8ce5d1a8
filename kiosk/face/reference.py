"""Decoding and preparing the reference face: the DG2 photo (ISO/IEC 19794-5).

DG2 carries the portrait as JPEG or JPEG 2000 (ISO/IEC 19794-5 image data
types 0 and 1), often small (around 240x320) and low in contrast. Bytes may be
the bare image or a whole facial record block; in the latter case the image
is located by its signature. Small photos are upscaled so the HOG detector
(minimum face about 80 px) and the ResNet chip (150 px) get enough pixels.
"""

from __future__ import annotations

import io
import os
import warnings

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from kiosk.face.detection import RgbImage
from kiosk.face.errors import UnreadableImageError
from kiosk.safe_files import IMAGE_MAX_BYTES, UnsafeFileError, read_input

_JPEG_SOI = b"\xff\xd8\xff"
_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
_J2K_CODESTREAM = b"\xff\x4f\xff\x51"
_SIGNATURES = (_JP2_SIGNATURE, _J2K_CODESTREAM, _JPEG_SOI)
_MAX_PIXELS = 40_000_000  # refuse decompression bombs with a typed error

# A portrait whose shorter side is below this is upscaled before detection.
MIN_REFERENCE_SIDE = 480


def _embedded_start(data: bytes) -> int | None:
    """Offset of a JPEG or JPEG 2000 image inside a larger record, if any."""
    found = [i for i in (data.find(sig) for sig in _SIGNATURES) if i > 0]
    return min(found) if found else None


def _decode(payload: bytes) -> RgbImage:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(payload)) as opened:
            if opened.width * opened.height > _MAX_PIXELS:
                raise UnreadableImageError(f"image too large ({opened.width}x{opened.height})")
            im: Image.Image = ImageOps.exif_transpose(opened)
            transparent = im.mode == "P" and "transparency" in im.info
            if im.mode in ("RGBA", "LA", "PA") or transparent:
                rgba = im.convert("RGBA")
                background = Image.new("RGB", im.size, (255, 255, 255))
                background.paste(rgba, mask=rgba.split()[3])
                im = background
            elif im.mode in ("I;16", "I;16B", "I;16L", "I"):
                arr = np.asarray(im, dtype=np.float64)
                span = max(1.0, float(arr.max() - arr.min()))
                im = Image.fromarray(((arr - arr.min()) * 255.0 / span).astype(np.uint8))
            return np.asarray(im.convert("RGB"), dtype=np.uint8)


_DECODE_ERRORS = (UnidentifiedImageError, OSError, ValueError, SyntaxError, Warning)


def decode_image(data: bytes) -> RgbImage:
    """RGB uint8 pixels of an encoded image (JPEG, JPEG 2000, PNG ...).

    Bytes that are not an image themselves are searched for an embedded JPEG
    or JPEG 2000 image (a DG2 biometric data block around the portrait).
    """
    if not data:
        raise UnreadableImageError("empty image data")
    try:
        rgb = _decode(data)
    except UnreadableImageError:
        raise
    except _DECODE_ERRORS as exc:
        start = _embedded_start(data)
        if start is None:
            raise UnreadableImageError(f"cannot decode image: {exc}") from exc
        try:
            rgb = _decode(data[start:])
        except UnreadableImageError:
            raise
        except _DECODE_ERRORS as inner:
            raise UnreadableImageError(f"cannot decode embedded image: {inner}") from inner
    if rgb.ndim != 3 or rgb.shape[0] < 8 or rgb.shape[1] < 8:
        raise UnreadableImageError(f"image too small ({rgb.shape[1]}x{rgb.shape[0]})")
    return np.ascontiguousarray(rgb)


def load_image_file(path: str | os.PathLike[str]) -> RgbImage:
    try:
        data = read_input(path, IMAGE_MAX_BYTES)
    except UnsafeFileError as exc:
        raise UnreadableImageError(str(exc)) from exc
    try:
        return decode_image(data)
    except UnreadableImageError as exc:
        raise UnreadableImageError(f"{path}: {exc.message}") from exc


def prepare_reference(rgb: RgbImage, min_side: int = MIN_REFERENCE_SIDE) -> RgbImage:
    """Upscale a small portrait (Lanczos) and stretch a washed-out one.

    Contrast is stretched only when the luminance spread is narrow (a faded
    laser-engraved or over-compressed photo); normal photos pass unchanged.
    """
    h, w = rgb.shape[:2]
    out = rgb
    if min(h, w) < min_side:
        f = min_side / float(min(h, w))
        out = np.asarray(
            cv2.resize(rgb, (round(w * f), round(h * f)), interpolation=cv2.INTER_LANCZOS4),
            dtype=np.uint8,
        )
    luma = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY)
    lo, hi = np.percentile(luma, (1.0, 99.0))
    if hi - lo < 100.0:
        gain = 220.0 / max(1.0, float(hi - lo))
        out = np.clip((out.astype(np.float64) - lo) * gain + 18.0, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out)
