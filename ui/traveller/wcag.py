"""WCAG 2.2 contrast (success criteria 1.4.3 and 1.4.11): the relative luminance of an
sRGB colour and the contrast ratio of two, with the AA minimums."""

from __future__ import annotations

from PySide6.QtGui import QColor

TEXT_MIN = 4.5  # 1.4.3 AA, text (every text is held to this, large or not)
GRAPHIC_MIN = 3.0  # 1.4.11 AA, graphical objects and the parts of controls


def relative_luminance(colour: QColor | str) -> float:
    """WCAG's relative luminance (0 black .. 1 white) of an opaque sRGB colour."""
    c = QColor(colour)

    def linear(v: int) -> float:
        s = v / 255
        # 0.04045 is the sRGB standard's threshold; WCAG 2.x's 0.03928 differs from it
        # only for values that no 8-bit channel takes.
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(c.red()) + 0.7152 * linear(c.green()) + 0.0722 * linear(c.blue())


def contrast_ratio(a: QColor | str, b: QColor | str) -> float:
    """(L1 + 0.05) / (L2 + 0.05), L1 the lighter: 1 (none) .. 21 (black on white)."""
    la, lb = relative_luminance(a), relative_luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)
