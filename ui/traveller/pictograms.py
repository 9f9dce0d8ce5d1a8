"""Pictograms drawn with QPainter (no image assets): each step shown as a short
loop a traveller understands without reading. Animated only while visible."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen, QShowEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

KINDS = (
    "passport", "take_passport", "passport_left", "reading", "camera", "boarding_pass",
    "walk", "officer", "check", "error", "timeout",
)
PERIOD_MS = 2400  # one loop of every animation
BOOKLET_COVER = "#7a1f2b"
BOOKLET_GOLD = "#e0b84c"
BADGE = "#c62828"
BARCODE = "#000000"  # a boarding pass is black on white, in either mode


class Pictogram(QWidget):
    """A square pictogram of `kind`, painted in a 100 x 100 design space."""

    def __init__(self, kind: str = "passport", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.setAccessibleName(kind.replace("_", " "))
        self.phase = 0.0  # 0..1 through the loop
        self.ink = QColor("#1b2b3a")
        self.accent = QColor("#0a66c2")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(48, 48)
        self._elapsed = 0
        self._timer = QTimer(self)
        self._timer.setInterval(40)  # 25 frames a second is smooth for these shapes
        self._timer.timeout.connect(self._tick)

    def set_kind(self, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"no pictogram {kind!r}")
        self.kind = kind
        self.setAccessibleName(kind.replace("_", " "))
        self.update()

    def set_colours(self, ink: QColor, accent: QColor) -> None:
        self.ink, self.accent = ink, accent
        self.update()

    def colour_pairs(self, background: QColor) -> list[tuple[str, QColor, QColor]]:
        """(part, colour, the colour it is seen against) of every part of this kind
        that carries meaning (WCAG 1.4.11: 3:1). Fills outlined in ink (the passport
        cover, the boarding pass) are judged by their outline."""
        pairs = [(f"{self.kind} outline", self.ink, background),
                 (f"{self.kind} highlight", self.accent, background)]
        if self.kind in ("passport", "take_passport", "passport_left"):
            pairs.append((f"{self.kind} emblem", QColor(BOOKLET_GOLD), QColor(BOOKLET_COVER)))
        if self.kind == "passport_left":
            pairs += [("badge", QColor(BADGE), background),
                      ("badge mark", QColor("white"), QColor(BADGE))]
        if self.kind == "walk":
            pairs.append(("gate flaps", self.accent, background))
        if self.kind == "boarding_pass":
            pairs.append(("barcode", QColor(BARCODE), QColor("white")))
        return pairs

    def showEvent(self, event: QShowEvent) -> None:
        self._timer.start()
        super().showEvent(event)

    def hideEvent(self, event: object) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        self._elapsed = (self._elapsed + self._timer.interval()) % PERIOD_MS
        self.phase = self._elapsed / PERIOD_MS
        self.update()

    # -- painting --------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        side = min(self.width(), self.height())
        if side <= 0:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.translate((self.width() - side) / 2, (self.height() - side) / 2)
        p.scale(side / 100.0, side / 100.0)
        getattr(self, f"_draw_{self.kind}")(p, self.phase)
        p.end()

    def _pen(self, colour: QColor, width: float = 3.0) -> QPen:
        pen = QPen(colour, width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        return pen

    @staticmethod
    def _ease(t: float) -> float:
        return 0.5 - 0.5 * math.cos(math.pi * max(0.0, min(1.0, t)))

    def _reader(self, p: QPainter, glow: float) -> None:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self.ink)
        p.drawRoundedRect(QRectF(18, 74, 64, 14), 3, 3)
        light = QColor(self.accent)
        light.setAlphaF(0.35 + 0.65 * glow)
        p.setBrush(light)
        p.drawRoundedRect(QRectF(26, 70, 48, 6), 2, 2)

    def _booklet(self, p: QPainter, x: float, y: float, w: float = 34, h: float = 46) -> None:
        cover = QColor(BOOKLET_COVER)
        p.setPen(self._pen(self.ink, 1.5))
        p.setBrush(cover)
        p.drawRoundedRect(QRectF(x, y, w, h), 3, 3)
        gold = QColor(BOOKLET_GOLD)
        p.setPen(self._pen(gold, 1.5))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(QPointF(x + w / 2, y + h * 0.42), w * 0.22, w * 0.22)
        p.drawLine(QPointF(x + w * 0.25, y + h * 0.78), QPointF(x + w * 0.75, y + h * 0.78))

    def _arrow(self, p: QPainter, x: float, y0: float, y1: float) -> None:
        p.setPen(self._pen(self.accent, 3.5))
        p.drawLine(QPointF(x, y0), QPointF(x, y1))
        d = 5 if y1 > y0 else -5
        p.drawLine(QPointF(x, y1), QPointF(x - 5, y1 - d))
        p.drawLine(QPointF(x, y1), QPointF(x + 5, y1 - d))

    def _draw_passport(self, p: QPainter, t: float) -> None:
        # The open passport, photo page down, comes down onto the reader.
        down = self._ease(t / 0.6)
        self._reader(p, 1.0 if t > 0.6 else 0.2)
        self._booklet(p, 33, 6 + 20 * down, 34, 44)
        if t < 0.6:
            self._arrow(p, 84, 20, 44)

    def _draw_take_passport(self, p: QPainter, t: float) -> None:
        up = self._ease(t / 0.7)
        self._reader(p, 0.2)
        self._booklet(p, 33, 26 - 22 * up, 34, 44)
        self._arrow(p, 84, 44, 18)

    def _draw_passport_left(self, p: QPainter, t: float) -> None:
        self._reader(p, 0.5 + 0.5 * math.sin(2 * math.pi * t))
        self._booklet(p, 33, 26, 34, 44)
        self._badge(p, 78, 22, "!")

    def _badge(self, p: QPainter, x: float, y: float, mark: str) -> None:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(BADGE))
        p.drawEllipse(QPointF(x, y), 11, 11)
        p.setPen(self._pen(QColor("white"), 3.5))
        if mark == "!":
            p.drawLine(QPointF(x, y - 6), QPointF(x, y + 2))
            p.drawPoint(QPointF(x, y + 6))

    def _draw_reading(self, p: QPainter, t: float) -> None:
        # Eight dots chasing round: working, please wait.
        for i in range(8):
            angle = 2 * math.pi * i / 8
            lit = (t * 8 - i) % 8
            c = QColor(self.accent)
            c.setAlphaF(max(0.15, 1.0 - lit / 8))
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(c)
            p.drawEllipse(QPointF(50 + 30 * math.cos(angle), 50 + 30 * math.sin(angle)), 7, 7)

    def _head(self, p: QPainter, x: float, y: float, scale: float = 1.0) -> None:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self.ink)
        p.drawEllipse(QPointF(x, y), 11 * scale, 13 * scale)
        body = QPainterPath()
        body.moveTo(x - 24 * scale, y + 42 * scale)
        body.cubicTo(x - 22 * scale, y + 16 * scale, x + 22 * scale, y + 16 * scale,
                     x + 24 * scale, y + 42 * scale)
        body.closeSubpath()
        p.drawPath(body)

    def _draw_camera(self, p: QPainter, t: float) -> None:
        # A camera above, the traveller's head below, the look between them pulsing.
        p.setPen(self._pen(self.ink, 2))
        p.setBrush(self.ink)
        p.drawRoundedRect(QRectF(36, 6, 28, 16), 3, 3)
        p.setBrush(self.accent)
        p.drawEllipse(QPointF(50, 14), 5, 5)
        self._head(p, 50, 58)
        pulse = (t * 2) % 1.0
        c = QColor(self.accent)
        c.setAlphaF(1.0 - pulse)
        p.setPen(self._pen(c, 2.5))
        p.setBrush(Qt.BrushStyle.NoBrush)
        r = 6 + 10 * pulse
        p.drawArc(QRectF(50 - r, 30 - r / 2, 2 * r, r), 0, 180 * 16)

    def _draw_boarding_pass(self, p: QPainter, t: float) -> None:
        # A large pass (it fills most of the square: the figure, not the camera band,
        # is the instruction) slides under the camera, which then sees its barcode.
        p.setPen(self._pen(self.ink, 2))
        p.setBrush(self.ink)
        p.drawRoundedRect(QRectF(70, 4, 26, 16), 3, 3)
        p.setBrush(self.accent)
        p.drawEllipse(QPointF(83, 12), 4.5, 4.5)
        x = 2 + 14 * self._ease(t / 0.6)
        p.setPen(self._pen(self.ink, 2))
        p.setBrush(QColor("white"))
        p.drawRoundedRect(QRectF(x, 38, 72, 50), 4, 4)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(BARCODE))
        for i, w in enumerate((2.2, 1.4, 3.6, 1.4, 2.2, 4.4, 1.4, 3, 1.4, 2.2, 3.6, 1.4)):
            p.drawRect(QRectF(x + 7 + i * 5.0, 48, w, 30))
        if t > 0.6:  # the camera sees the barcode
            c = QColor(self.accent)
            c.setAlphaF(0.5)
            p.setBrush(c)
            path = QPainterPath(QPointF(83, 20))
            path.lineTo(QPointF(x + 70, 44))
            path.lineTo(QPointF(x + 46, 84))
            path.closeSubpath()
            p.drawPath(path)

    def _draw_walk(self, p: QPainter, t: float) -> None:
        # Gate flaps open, a figure walks through left to right.
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self.ink)
        p.drawRect(QRectF(36, 40, 6, 50))
        p.drawRect(QRectF(58, 40, 6, 50))
        flap = self.accent  # the open flaps: seen on the outcome's green as on black
        p.setBrush(flap)
        p.drawRect(QRectF(42, 58, 3, 16))
        p.drawRect(QRectF(55, 58, 3, 16))
        x = 10 + 78 * t
        swing = math.sin(2 * math.pi * t * 3) * 7
        p.setPen(self._pen(self.ink, 4.5))
        p.drawEllipse(QPointF(x, 34), 5, 5)
        p.drawLine(QPointF(x, 40), QPointF(x, 62))
        p.drawLine(QPointF(x, 62), QPointF(x + swing, 84))
        p.drawLine(QPointF(x, 62), QPointF(x - swing, 84))
        p.drawLine(QPointF(x, 46), QPointF(x + swing, 58))
        p.drawLine(QPointF(x, 46), QPointF(x - swing, 58))
        p.setPen(self._pen(flap, 3.5))
        p.drawLine(QPointF(20, 12), QPointF(80, 12))
        p.drawLine(QPointF(80, 12), QPointF(74, 7))
        p.drawLine(QPointF(80, 12), QPointF(74, 17))

    def _draw_officer(self, p: QPainter, t: float) -> None:
        # An officer (peaked cap) behind a counter, a hand raised in welcome.
        self._head(p, 50, 40, 0.9)
        p.setBrush(self.accent)
        p.setPen(Qt.PenStyle.NoPen)
        cap = QPainterPath()
        cap.moveTo(36, 30)
        cap.lineTo(64, 30)
        cap.lineTo(60, 20)
        cap.lineTo(40, 20)
        cap.closeSubpath()
        p.drawPath(cap)
        p.drawRect(QRectF(34, 29, 32, 4))
        p.setBrush(self.ink)
        p.drawRoundedRect(QRectF(14, 76, 72, 12), 2, 2)
        wave = math.sin(2 * math.pi * t * 2) * 5
        p.setPen(self._pen(self.ink, 4))
        p.drawLine(QPointF(70, 64), QPointF(78 + wave, 44))

    def _draw_check(self, p: QPainter, t: float) -> None:
        p.setPen(self._pen(self.ink, 6))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(QPointF(50, 50), 40, 40)
        path = QPainterPath(QPointF(30, 52))
        path.lineTo(QPointF(44, 66))
        path.lineTo(QPointF(72, 36))
        p.drawPath(path)

    def _draw_error(self, p: QPainter, t: float) -> None:
        p.setPen(self._pen(self.ink, 6))
        p.setBrush(Qt.BrushStyle.NoBrush)
        tri = QPainterPath(QPointF(50, 10))
        tri.lineTo(QPointF(92, 86))
        tri.lineTo(QPointF(8, 86))
        tri.closeSubpath()
        p.drawPath(tri)
        p.drawLine(QPointF(50, 38), QPointF(50, 62))
        p.drawPoint(QPointF(50, 74))

    def _draw_timeout(self, p: QPainter, t: float) -> None:
        p.setPen(self._pen(self.ink, 6))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(QPointF(50, 50), 40, 40)
        angle = 2 * math.pi * t - math.pi / 2
        p.drawLine(QPointF(50, 50), QPointF(50 + 28 * math.cos(angle), 50 + 28 * math.sin(angle)))
        p.drawLine(QPointF(50, 50), QPointF(50, 30))
