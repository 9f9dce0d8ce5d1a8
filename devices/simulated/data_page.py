"""Rendered passport data pages: the MRZ in OCR-B on a cluttered page, then the
degradations a document camera adds (blur, noise, rotation, perspective, glare).

The layout follows ICAO 9303-3/-4: the MRZ sits at the bottom of the page with a
character pitch of 2.54 mm (10 characters per inch). Used by the MRZ reader's tests
and benchmark, and by the simulated document camera.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from devices.mrz.ocr_b import render_mrz_strip

_TEXT_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

# Document sizes in mm (ICAO 9303-4 TD3, -5 TD1, -6 TD2).
_PAGE_MM = {30: (85.6, 54.0), 36: (105.0, 74.0), 44: (125.0, 88.0)}


@dataclass(frozen=True)
class Degradation:
    blur_px: float = 0.0  # Gaussian sigma
    noise: float = 0.0  # pixel noise standard deviation (0-255 scale)
    rotation_deg: float = 0.0
    perspective: float = 0.0  # fraction of the width the top edge is pulled in
    glare: float = 0.0  # peak brightness added by a specular spot (0-1)
    jpeg_quality: int | None = None


def _font(path: Path, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if path.exists():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default()


def render_data_page(
    mrz_lines: Sequence[str],
    *,
    px_per_mm: float = 8.0,
    seed: int = 0,
    degradation: Degradation | None = None,
    margin_mm: float = 12.0,
) -> npt.NDArray[np.uint8]:
    """A BGR image of a data page carrying `mrz_lines`, on a darker background."""
    rng = np.random.default_rng(seed)
    width_chars = len(mrz_lines[0])
    page_w_mm, page_h_mm = _PAGE_MM.get(width_chars, (125.0, 88.0))
    pw, ph = int(page_w_mm * px_per_mm), int(page_h_mm * px_per_mm)
    page = _page_background(pw, ph, rng)
    draw = ImageDraw.Draw(page)
    pitch = 2.54 * px_per_mm
    line_gap = 4.2 * px_per_mm  # ICAO: about 4 mm between MRZ baselines
    bottom = ph - 4.0 * px_per_mm
    # The visual zone stays clear of the MRZ's area (ICAO 9303-3 clear area).
    _clutter(draw, pw, int(bottom - len(mrz_lines) * line_gap - 2 * px_per_mm), px_per_mm, rng)
    for i, line in enumerate(reversed(list(mrz_lines))):
        strip = render_mrz_strip(line, pitch, height_px=int(line_gap))
        y = int(bottom - (i + 1) * line_gap)
        x = int((pw - strip.width) / 2)
        mask = Image.eval(strip, lambda v: 255 - v)
        page.paste((25, 25, 30), (x, y), mask)
    rgb = np.asarray(page, dtype=np.uint8)
    canvas = _on_background(rgb, int(margin_mm * px_per_mm), rng)
    bgr = np.asarray(cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR), dtype=np.uint8)
    return degrade(bgr, degradation or Degradation(), rng)


def _page_background(w: int, h: int, rng: np.random.Generator) -> Image.Image:
    base = np.empty((h, w, 3), dtype=np.float32)
    base[:] = (236, 232, 220)
    yy, xx = np.mgrid[0:h, 0:w]
    # Guilloche-like security print: faint interfering sine bands.
    for _ in range(3):
        fx, fy, phase = rng.uniform(0.01, 0.05), rng.uniform(0.01, 0.05), rng.uniform(0, 6.3)
        band = np.sin(xx * fx + np.sin(yy * fy) * 3 + phase)
        base -= (band > 0.97)[..., None] * np.array([30, 20, 5], dtype=np.float32)
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))


def _clutter(
    draw: ImageDraw.ImageDraw, w: int, bottom: int, mm: float, rng: np.random.Generator
) -> None:
    """Photo box, heading and visual-zone fields above `bottom`: text the locator must skip."""
    top = int(4 * mm)
    row = max(int(2.6 * mm), (bottom - top - int(12 * mm)) // 5)
    draw.rectangle((int(6 * mm), top + int(10 * mm), int(30 * mm), bottom), fill=(150, 140, 130))
    small = _font(_TEXT_FONT, max(8, min(int(2.6 * mm), row // 2)))
    big = _font(_TEXT_FONT, max(10, int(4.5 * mm)))
    draw.text((int(6 * mm), top), "PASSPORT  PASSEPORT  PASAPORTE", font=big, fill=(60, 40, 90))
    labels = ("Surname / Nom", "Given names", "Nationality", "Date of birth", "Date of expiry")
    for i, label in enumerate(labels):
        y = top + int(10 * mm) + i * row
        if y + row > bottom:
            break
        draw.text((int(34 * mm), y), label, font=small, fill=(90, 80, 110))
        value = "".join(chr(int(c)) for c in rng.integers(65, 91, size=int(rng.integers(5, 12))))
        draw.text((int(34 * mm), y + row // 2), value, font=small, fill=(20, 20, 20))


def _on_background(
    page: npt.NDArray[np.uint8], margin: int, rng: np.random.Generator
) -> npt.NDArray[np.uint8]:
    h, w = page.shape[:2]
    canvas = np.empty((h + 2 * margin, w + 2 * margin, 3), dtype=np.uint8)
    canvas[:] = rng.integers(40, 90, size=3, dtype=np.uint8)
    canvas[margin : margin + h, margin : margin + w] = page
    return canvas


def degrade(
    image: npt.NDArray[np.uint8], d: Degradation, rng: np.random.Generator
) -> npt.NDArray[np.uint8]:
    """Apply a document camera's defects in the order the optics add them."""
    h, w = image.shape[:2]
    out: Any = image  # OpenCV's stubs type every result loosely
    if d.perspective:
        inset = d.perspective * w
        src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
        dst = np.array([[inset, 0], [w - inset, 0], [w, h], [0, h]], dtype=np.float32)
        matrix = cv2.getPerspectiveTransform(src, dst)
        out = cv2.warpPerspective(out, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
    if d.rotation_deg:
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), d.rotation_deg, 1.0)
        out = cv2.warpAffine(out, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
    if d.glare:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.5, 0.9) * h
        spot = np.exp(-(((xx - cx) ** 2) + ((yy - cy) ** 2)) / (2 * (0.18 * w) ** 2))
        out = np.clip(out.astype(np.float32) + (d.glare * 255 * spot)[..., None], 0, 255)
        out = out.astype(np.uint8)
    if d.blur_px:
        out = cv2.GaussianBlur(out, (0, 0), d.blur_px)
    if d.noise:
        noisy = out.astype(np.float32) + rng.normal(0, d.noise, out.shape).astype(np.float32)
        out = np.clip(noisy, 0, 255).astype(np.uint8)
    if d.jpeg_quality:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, d.jpeg_quality])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return np.ascontiguousarray(out, dtype=np.uint8)
