"""Every traveller screen in every language, from made-up snapshots (no lane, no
devices): `egate screenshots` and the layout test both use this catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QRect, QSize
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from devices.protocols import Frame
from kiosk.lane.snapshot import LaneSnapshot
from kiosk.lane.states import LaneState
from ui.traveller.window import TravellerWindow

S = LaneState
LANGUAGES = ("zh_CN", "en", "ja", "ko", "ru")
SIZES = ((1920, 1080), (1080, 1920))  # docs/screens/ and `egate screenshots` by default
# The layout test also covers the smallest screen in service on older lanes (4:3),
# where five referral reasons once pushed the detail text over the title.
LAYOUT_SIZES = (*SIZES, (1024, 768))


def _snap(state: LaneState, message: str, **kw: object) -> LaneSnapshot:
    return LaneSnapshot(state, "screenshot" if state is not S.IDLE else None, "en", message,
                        **kw)  # type: ignore[arg-type]


# name -> the snapshots that lead to it (the last one is the screen).
SCREENS: dict[str, tuple[LaneSnapshot, ...]] = {
    "welcome": (_snap(S.IDLE, "welcome"),),
    "place_passport": (_snap(S.WAITING_FOR_DOCUMENT, "place_passport", deadline_s=60.0),),
    "reading_chip": (_snap(S.READING_CHIP, "reading_chip", document_on_reader=True),),
    "deciding": (_snap(S.DECIDING, "deciding", document_on_reader=True),),
    "face": (_snap(S.CAPTURING_FACE, "look_at_camera", guidance="too_far",
                   document_on_reader=True, offered_language="ja", deadline_s=10.0),),
    # The hat-and-sunglasses pictogram appears only with this guidance.
    "face_hat": (_snap(S.CAPTURING_FACE, "look_at_camera", guidance="hat_or_sunglasses",
                       document_on_reader=True, deadline_s=10.0),),
    "boarding_pass": (_snap(S.SCANNING_BOARDING_PASS, "show_boarding_pass",
                            document_on_reader=True, deadline_s=15.0),),
    "take_passport": (_snap(S.RETURNING_DOCUMENT, "take_passport", document_on_reader=True,
                            deadline_s=30.0),),
    "admitted": (_snap(S.ADMITTED, "admitted", deadline_s=20.0),),
    "admitted_exit": (_snap(S.ADMITTED, "admitted", direction="exit", deadline_s=20.0),),
    "referred": (_snap(S.REFERRED, "see_officer", document_on_reader=True,
                       traveller_reasons=("face_mismatch",)),),
    "error_timeout": (_snap(S.ERROR, "error_timeout", deadline_s=8.0),),
    "error_card_removed": (_snap(S.ERROR, "error_card_removed", deadline_s=8.0),),
    "error_device_fault": (_snap(S.ERROR, "error_device_fault", document_on_reader=True),),
    "passport_left": (_snap(S.DOCUMENT_LEFT, "passport_left", document_on_reader=True),),
}
# The small set kept in docs/screens/.
DOC_SCREENS = ("welcome", "place_passport", "reading_chip", "face", "take_passport",
               "admitted", "referred", "error_timeout")


class StillCamera:
    """A camera showing one made-up portrait (the face screen's preview)."""

    fault = None

    def __init__(self) -> None:
        from devices.simulated.scenes import live_scene

        self._frame = Frame(np.ascontiguousarray(live_scene("collins", frames=1)[0]), 0.0, 1)

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def latest(self) -> Frame:
        return self._frame

    def wait_frame(self, after_index: int, timeout: float) -> Frame | None:
        return self._frame if after_index < 1 else None


@dataclass
class Rendered:
    language: str
    size: tuple[int, int]
    screen: str
    window: TravellerWindow


def render(
    languages: tuple[str, ...] = LANGUAGES,
    sizes: tuple[tuple[int, int], ...] = SIZES,
    screens: tuple[str, ...] = tuple(SCREENS),
    high_contrast: bool = False,
    camera: object | None = None,
) -> Iterator[Rendered]:
    """Show each screen at each size in each language in one offscreen window."""
    _app = QApplication.instance() or QApplication([])
    for w, h in sizes:
        # One window per size, as on a kiosk: its screen never changes shape.
        window = TravellerWindow(LANGUAGES, camera, high_contrast=high_contrast)  # type: ignore[arg-type]
        window.fit_to(w, h)
        window.show()
        try:
            for lang in languages:
                for name in screens:
                    for snap in SCREENS[name]:
                        window.show_snapshot(snap)
                    window.choose_language(lang)
                    if name == "face":
                        window.face.preview._refresh()
                    QCoreApplication.processEvents()
                    yield Rendered(lang, (w, h), name, window)
        finally:
            window.close()
            window.deleteLater()
            QCoreApplication.processEvents()


def save(out: Path, rendered: Rendered, optimise: bool = True) -> Path:
    """`{lang}-{screen}-{W}x{H}.png` (`...-high-contrast.png` in high contrast, so the
    two modes never overwrite each other); optimised PNGs are palette images (small)."""
    w, h = rendered.size
    mode = "-high-contrast" if rendered.window.high_contrast else ""
    path = out / f"{rendered.language}-{rendered.screen}-{w}x{h}{mode}.png"
    image = rendered.window.grab().toImage()
    if not optimise:
        image.save(str(path))
        return path
    from PIL import Image

    buffer = image.convertToFormat(image.Format.Format_RGB888)
    pil = Image.frombuffer("RGB", (buffer.width(), buffer.height()), bytes(buffer.constBits()),
                           "raw", "RGB", buffer.bytesPerLine())
    pil.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        path, optimize=True)
    return path


def layout_problems(window: TravellerWindow, size: tuple[int, int]) -> list[str]:
    """Text that is cut, overflows, breaks mid-word or overlaps other text, as
    Qt lays it out now (fontMetrics and QTextLayout against each widget's geometry)."""
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QAbstractButton, QWidget

    from ui.i18n import break_allowed
    from ui.traveller.text import FitLabel, text_lines

    problems: list[str] = []
    if (window.width(), window.height()) != size:
        problems.append(f"window is {window.width()}x{window.height()}, not {size[0]}x{size[1]}: "
                        "something is too wide or too tall")
    bounds = window.rect()
    boxes: list[tuple[str, QRect]] = []

    def where(w: QWidget) -> QRect:
        return QRect(w.mapTo(window, w.rect().topLeft()), w.size())

    for label in window.findChildren(FitLabel):
        if not label.isVisibleTo(window) or not label.text():
            continue
        name = f"{label.role} {label.raw!r}"
        width = label.contentsRect().width()
        lines = text_lines(label.text(), label.font(), width)
        for start, _length, natural in lines:
            if natural > width + 1:
                problems.append(f"{name}: a line is {natural:.0f}px in a {width}px label")
            if start > 0 and not break_allowed(label.text(), start):
                problems.append(f"{name}: breaks mid-word at {start}")
        needed = len(lines) * label.fontMetrics().lineSpacing()
        if needed > label.contentsRect().height() + 2:
            problems.append(f"{name}: needs {needed}px height, has {label.height()}px (cut)")
        if len(lines) > label.max_lines:
            problems.append(f"{name}: {len(lines)} lines, at most {label.max_lines}")
        boxes.append((name, where(label)))
    for button in window.findChildren(QAbstractButton):
        if not button.isVisibleTo(window) or not button.text():
            continue
        name = f"button {button.text()!r}"
        need = button.fontMetrics().horizontalAdvance(button.text())
        if need > button.contentsRect().width():
            problems.append(f"{name}: text {need}px in a {button.contentsRect().width()}px button")
        if not button.accessibleName():
            problems.append(f"{name}: no accessible name")
        boxes.append((name, where(button)))
    for name, box in boxes:
        if not bounds.contains(box):
            problems.append(f"{name}: outside the window ({box.getRect()})")
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1:]:
            if box_a.intersects(box_b):
                problems.append(f"{a} overlaps {b}")
    return problems


def _pixels(window: TravellerWindow) -> np.ndarray:
    """The window as rendered now: an (h, w, 3) RGB array."""
    image = window.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    buf = np.frombuffer(image.constBits(), np.uint8, image.bytesPerLine() * image.height())
    rows = buf.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3]
    return rows.reshape(image.height(), image.width(), 3).copy()


def text_contrast(pixels: np.ndarray, box: QRect) -> tuple[float, str, str] | None:
    """The contrast of the text in `box`: its background is the box's commonest colour,
    the text's colour the pixel that differs most from it (a glyph's solid core; the
    anti-aliased edges lie between the two). None for a box without any ink."""
    from ui.traveller.wcag import contrast_ratio, relative_luminance

    h, w = pixels.shape[:2]
    x0, y0 = max(0, box.left()), max(0, box.top())
    x1, y1 = min(w, box.right() + 1), min(h, box.bottom() + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    region = pixels[y0:y1, x0:x1].reshape(-1, 3).astype(np.uint32)
    packed = (region[:, 0] << 16) | (region[:, 1] << 8) | region[:, 2]
    colours, counts = np.unique(packed, return_counts=True)
    if len(colours) < 2:
        return None
    bg = f"#{int(colours[np.argmax(counts)]):06x}"
    lb = relative_luminance(bg)
    # Only the extremes of luminance can be the farthest from bg.
    lum = np.array([relative_luminance(f"#{int(c):06x}") for c in colours])
    far = colours[np.argmax(np.abs(lum - lb))]
    fg = f"#{int(far):06x}"
    return contrast_ratio(fg, bg), fg, bg


def text_boxes(window: TravellerWindow) -> list[tuple[str, QRect]]:
    """Every text the traveller sees now, each with the box its glyphs are drawn in."""
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QAbstractButton

    from ui.traveller.text import FitLabel

    out: list[tuple[str, QRect]] = []
    for label in window.findChildren(FitLabel):
        if label.isVisibleTo(window) and label.text():
            r = label.contentsRect()
            out.append((f"text {label.raw!r}", QRect(label.mapTo(window, r.topLeft()), r.size())))
    for button in window.findChildren(QAbstractButton):
        if not button.isVisibleTo(window) or not button.text():
            continue
        fm = button.fontMetrics()
        tw = min(fm.horizontalAdvance(button.text()), button.width() - 8)
        th = min(fm.height(), button.height() - 8)
        centre = button.mapTo(window, button.rect().center())
        out.append((f"button {button.text()!r}",
                    QRect(centre - QPoint(tw // 2, th // 2), QSize(tw, th))))
    if window.steps.isVisibleTo(window):
        for name, box in window.steps.text_boxes():
            out.append((name, box.translated(window.steps.mapTo(window, QPoint(0, 0)))))
    return out


def contrast_problems(window: TravellerWindow) -> list[str]:
    """Every text and graphic below WCAG 2.2 AA against its background (4.5:1 text,
    3:1 graphics), measured on the rendered pixels (texts) and on the colours the
    painted parts declare they use (graphics)."""
    from ui.traveller.wcag import GRAPHIC_MIN, TEXT_MIN, contrast_ratio

    pixels = _pixels(window)
    problems: list[str] = []
    for name, box in text_boxes(window):
        measured = text_contrast(pixels, box)
        if measured is None:
            problems.append(f"{name}: no text drawn in {box.getRect()}")
            continue
        ratio, fg, bg = measured
        if ratio < TEXT_MIN:
            problems.append(f"{name}: {fg} on {bg} is {ratio:.2f}:1 (text needs {TEXT_MIN}:1)")
    for name, fg, bg in window.graphic_colours():
        ratio = contrast_ratio(fg, bg)
        if ratio < GRAPHIC_MIN:
            problems.append(f"{name}: {fg} on {bg} is {ratio:.2f}:1 "
                            f"(a graphic needs {GRAPHIC_MIN}:1)")
    return problems
