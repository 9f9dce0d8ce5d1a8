"""OCR-B (ISO 1073-2), the MRZ typeface: lines rendered at the MRZ pitch.

The reader renders its templates with this; the simulated data pages use it to print
their MRZ, so both sides agree on the cell geometry.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OCR_B_FONT = Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf")  # Debian fonts-ocr-b

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def ocr_b_available() -> bool:
    return OCR_B_FONT.exists()


def render_mrz_strip(text: str, pitch_px: float, height_px: int | None = None) -> Image.Image:
    """One line of OCR-B at the given pitch on white (also the reader's templates)."""
    font = _fit_font(pitch_px)
    width = round(pitch_px * (len(text) + 2))
    height = height_px or round(pitch_px * 1.8)
    strip = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(strip)
    top = (height - _cap_height(font)) // 2 - _cap_top(font)
    for i, ch in enumerate(text):
        # Monospaced by construction: each glyph centred in its own 2.54 mm cell.
        cell_x = pitch_px * (i + 1)
        glyph_w = draw.textlength(ch, font=font)
        draw.text((cell_x + (pitch_px - glyph_w) / 2, top), ch, font=font, fill=0)
    return strip


def _fit_font(pitch_px: float) -> Font:
    # Measure the advance rather than assume it: the glyph fills about 95% of its cell.
    probe = ImageFont.truetype(str(OCR_B_FONT), 100)
    advance = ImageDraw.Draw(Image.new("L", (1, 1))).textlength("0", font=probe) or 60.0
    return ImageFont.truetype(str(OCR_B_FONT), max(6, round(100 * pitch_px * 0.95 / advance)))


def _cap_top(font: Font) -> int:
    return int(font.getbbox("H")[1])


def _cap_height(font: Font) -> int:
    box = font.getbbox("H")
    return int(box[3] - box[1])
