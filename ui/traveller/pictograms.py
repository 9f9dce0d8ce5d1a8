"""Pictograms drawn with QPainter (no image assets): each step shown as a short
loop a traveller understands without reading. Animated only while visible."""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen, QShowEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

KINDS = (
    "passport", "take_passport", "passport_left", "reading", "keep_on_reader", "camera",
    "boarding_pass", "walk", "officer", "check", "error", "timeout", "hat_or_sunglasses",
    "try_again_passport", "try_again_clock",
)
# Where the referral screen's arrow points: the staffed desk as a traveller facing the
# kiosk sees it (config ui.officer_desk; "ahead" points up, as signs do).
DESK_DIRECTIONS = ("left", "right", "ahead")
PAGE = "#ffffff"  # the passport's inner pages
PAGE_INK = "#1b2b3a"  # the data page's photo and lines, on the white page in either mode
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
        self.direction = "ahead"  # the officer's desk (kind "officer")
        # What the pictogram is painted on: details cut out of a filled shape (the
        # officer's badge, the gap between cap and head) are drawn in it.
        self.backdrop = QColor("#f4f6f8")
        # keep_on_reader: (start, low, high, time constant s) of the progress bar.
        self._progress: tuple[float, float, float, float] | None = None
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

    def set_direction(self, direction: str) -> None:
        if direction not in DESK_DIRECTIONS:
            raise ValueError(f"no desk direction {direction!r}")
        self.direction = direction
        self.update()

    def set_progress(self, low: float, high: float, time_constant_s: float) -> None:
        """The bar (keep_on_reader) runs from `low` towards `high` and never reaches it:
        the chip's read has no count to show, only that it is under way, and a bar that
        stopped at 100 % while the reader still works would say "take it" too early."""
        self._progress = (time.monotonic(), low, high, time_constant_s)
        self.update()

    def progress(self) -> float | None:
        if self._progress is None:
            return None
        start, low, high, tau = self._progress
        return low + (high - low) * (1.0 - math.exp(-(time.monotonic() - start) / tau))

    def set_colours(self, ink: QColor, accent: QColor) -> None:
        self.ink, self.accent = ink, accent
        self.update()

    def colour_pairs(self, background: QColor) -> list[tuple[str, QColor, QColor]]:
        """(part, colour, the colour it is seen against) of every part of this kind
        that carries meaning (WCAG 1.4.11: 3:1). Fills outlined in ink (the passport
        cover, the boarding pass) are judged by their outline."""
        pairs = [(f"{self.kind} outline", self.ink, background),
                 (f"{self.kind} highlight", self.accent, background)]
        if self.kind in ("passport", "take_passport", "passport_left", "keep_on_reader",
                         "try_again_passport"):
            pairs.append((f"{self.kind} emblem", QColor(BOOKLET_GOLD), QColor(BOOKLET_COVER)))
        if self.kind == "passport":
            pairs.append(("data page photo and lines", QColor(PAGE_INK), QColor(PAGE)))
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

    def _spread(self, p: QPainter, cx: float, cy: float, squash: float) -> None:
        """The open passport, 56 x 34, seen from above; `squash` in -1..1 is its
        vertical scale while it turns over: > 0 the inside (the data page, photo and
        machine-readable lines, on the left), < 0 the outside (the cover)."""
        p.save()
        p.translate(cx, cy)
        p.scale(1.0, max(0.04, abs(squash)))
        p.setPen(self._pen(self.ink, 1.5))
        if squash > 0:
            p.setBrush(QColor(PAGE))
            p.drawRoundedRect(QRectF(-28, -17, 28, 34), 2, 2)
            p.drawRoundedRect(QRectF(0, -17, 28, 34), 2, 2)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(PAGE_INK))
            p.drawRoundedRect(QRectF(-25, -13, 10, 13), 1, 1)  # the photo
            p.setPen(self._pen(QColor(PAGE_INK), 1.4))
            for y in (-11.0, -7.0, -3.0):  # name, nationality, dates
                p.drawLine(QPointF(-12, y), QPointF(-4, y))
            for y in (6.0, 10.5):  # the two machine-readable lines
                p.drawLine(QPointF(-25, y), QPointF(-4, y))
        else:
            p.setBrush(QColor(BOOKLET_COVER))
            p.drawRoundedRect(QRectF(-28, -17, 56, 34), 2, 2)
            p.drawLine(QPointF(0, -17), QPointF(0, 17))  # the spine
            p.setPen(self._pen(QColor(BOOKLET_GOLD), 1.5))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(QPointF(14, -3), 6, 6)
        p.restore()

    def _turn_arrow(self, p: QPainter) -> None:
        """A curved arrow beside the passport: turn it over."""
        p.setPen(self._pen(self.accent, 3.0))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawArc(QRectF(80, 10, 14, 34), 90 * 16, -180 * 16)
        p.drawLine(QPointF(87, 44), QPointF(92, 40))
        p.drawLine(QPointF(87, 44), QPointF(92, 48))

    def _draw_passport(self, p: QPainter, t: float) -> None:
        # Open at the data page (photo up), turned over, laid face down on the reader.
        self._reader(p, 1.0 if t > 0.7 else 0.2)
        if t < 0.3:
            self._spread(p, 50, 26, 1.0)
        else:
            u = self._ease((t - 0.3) / 0.4)
            self._spread(p, 50, 26 + 27 * u, math.cos(math.pi * u))
        if t < 0.7:
            self._turn_arrow(p)

    def _draw_keep_on_reader(self, p: QPainter, t: float) -> None:
        # The passport face down on the glowing reader, an arrow holding it there, the
        # progress of the read below.
        self._reader(p, 0.6 + 0.4 * math.sin(2 * math.pi * t))
        self._spread(p, 50, 53, -1.0)
        p.setPen(self._pen(self.accent, 3.5))
        p.drawLine(QPointF(50, 6), QPointF(50, 28))
        p.drawLine(QPointF(50, 30), QPointF(44, 23))
        p.drawLine(QPointF(50, 30), QPointF(56, 23))
        p.drawLine(QPointF(38, 33), QPointF(62, 33))  # stays here
        done = self.progress()
        p.setPen(self._pen(self.ink, 1.5))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRoundedRect(QRectF(18, 92, 64, 6), 3, 3)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self.accent)
        if done is None:  # under way, amount unknown: a block sweeping along
            x = 18 + 48 * (0.5 - 0.5 * math.cos(2 * math.pi * t))
            p.drawRoundedRect(QRectF(x, 92, 16, 6), 3, 3)
        else:
            p.drawRoundedRect(QRectF(18, 92, max(6.0, 64 * min(1.0, done)), 6), 3, 3)

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
        # A uniformed officer (peaked cap, collar, badge) seated behind a desk, and an
        # arrow towards that desk (self.direction), moving the way to go. Filled in one
        # colour on the outcome screen, so the parts are told apart by gaps cut in the
        # backdrop's colour.
        gap = self._pen(self.backdrop, 2.5)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self.ink)
        body = QPainterPath()  # square shoulders of a uniform jacket
        body.moveTo(28, 66)
        body.lineTo(29, 46)
        body.quadTo(30, 39, 38, 39)
        body.lineTo(62, 39)
        body.quadTo(70, 39, 71, 46)
        body.lineTo(72, 66)
        body.closeSubpath()
        p.drawPath(body)
        p.setPen(gap)
        p.drawLine(QPointF(44, 40), QPointF(50, 48))  # the collar
        p.drawLine(QPointF(56, 40), QPointF(50, 48))
        p.drawLine(QPointF(50, 48), QPointF(50, 64))
        badge = QPainterPath()  # a shield on the chest, outlined in the backdrop
        badge.moveTo(56, 50)
        badge.lineTo(64, 50)
        badge.lineTo(64, 55)
        badge.lineTo(60, 59)
        badge.lineTo(56, 55)
        badge.closeSubpath()
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(badge)
        p.setPen(gap)
        p.setBrush(self.ink)
        p.drawEllipse(QPointF(50, 28), 8.5, 9.5)  # head
        cap = QPainterPath()
        cap.moveTo(38, 19)
        cap.lineTo(62, 19)
        cap.lineTo(59, 8)
        cap.lineTo(41, 8)
        cap.closeSubpath()
        p.setBrush(self.accent)
        p.drawPath(cap)
        p.drawRoundedRect(QRectF(35, 17, 30, 4), 2, 2)  # the peak
        p.setBrush(self.ink)
        p.drawRoundedRect(QRectF(16, 62, 68, 9), 2, 2)  # the desk, in front
        p.setPen(Qt.PenStyle.NoPen)
        p.drawRect(QRectF(20, 70, 6, 6))
        p.drawRect(QRectF(74, 70, 6, 6))
        shift = 4 * self._ease((t * 2) % 1.0)
        p.setPen(self._pen(self.accent, 5))
        p.setBrush(Qt.BrushStyle.NoBrush)
        if self.direction == "ahead":
            tip = QPointF(50, 80 - shift)
            p.drawLine(QPointF(50, 99 - shift), tip)
            p.drawLine(tip, QPointF(42, 88 - shift))
            p.drawLine(tip, QPointF(58, 88 - shift))
        else:
            d = -1.0 if self.direction == "left" else 1.0
            y = 89.0
            tail, head = 50 - d * 26 + d * shift, 50 + d * 26 + d * shift
            p.drawLine(QPointF(tail, y), QPointF(head, y))
            p.drawLine(QPointF(head, y), QPointF(head - d * 9, y - 8))
            p.drawLine(QPointF(head, y), QPointF(head - d * 9, y + 8))

    def _draw_hat_or_sunglasses(self, p: QPainter, t: float) -> None:
        # A head with a hat and sunglasses that come off: the hat rises, the glasses drop.
        lift = 12 * self._ease(t / 0.6)
        p.setPen(self._pen(self.ink, 3))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(QPointF(50, 52), 20, 24)  # the face, an outline
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self.ink)
        p.drawRoundedRect(QRectF(34, 18 - lift, 32, 16), 6, 6)  # the hat's crown
        p.drawRoundedRect(QRectF(24, 31 - lift, 52, 5), 2.5, 2.5)  # and brim
        drop = 10 * self._ease(t / 0.6)
        p.drawRoundedRect(QRectF(33, 46 + drop, 14, 9), 4, 4)  # the glasses
        p.drawRoundedRect(QRectF(53, 46 + drop, 14, 9), 4, 4)
        p.drawRect(QRectF(46, 48 + drop, 8, 2))
        p.setPen(self._pen(self.accent, 3.5))
        p.drawLine(QPointF(86, 36), QPointF(86, 12))
        p.drawLine(QPointF(86, 12), QPointF(80, 18))
        p.drawLine(QPointF(86, 12), QPointF(92, 18))

    def _try_again_ring(self, p: QPainter, t: float) -> None:
        """A circular arrow, turning slowly: calm, do it once more."""
        p.save()
        p.translate(50, 50)
        p.rotate(-90 * t)  # turns the way the arrow points (anticlockwise)
        p.setPen(self._pen(self.accent, 5))
        p.setBrush(Qt.BrushStyle.NoBrush)
        r, start, span = 42.0, 100.0, 290.0
        p.drawArc(QRectF(-r, -r, 2 * r, 2 * r), int(start * 16), int(span * 16))
        a = math.radians(start + span)
        tip = QPointF(r * math.cos(a), -r * math.sin(a))
        ahead = (-math.sin(a), -math.cos(a))  # the way the arc runs, at its end
        for turn in (math.radians(150), math.radians(-150)):
            dx = ahead[0] * math.cos(turn) - ahead[1] * math.sin(turn)
            dy = ahead[0] * math.sin(turn) + ahead[1] * math.cos(turn)
            p.drawLine(tip, tip + QPointF(12 * dx, 12 * dy))
        p.restore()

    def _draw_try_again_passport(self, p: QPainter, t: float) -> None:
        # Removed too early: the passport goes back onto the reader, once more.
        self._try_again_ring(p, t)
        p.save()
        p.translate(50, 52)
        p.scale(0.5, 0.5)
        p.translate(-50, -50)
        down = self._ease(t / 0.6)
        self._reader(p, 1.0 if t > 0.6 else 0.3)
        self._spread(p, 50, 26 + 27 * down, -1.0)
        p.restore()

    def _draw_try_again_clock(self, p: QPainter, t: float) -> None:
        # The time ran out: a clock inside the circular arrow.
        self._try_again_ring(p, t)
        p.setPen(self._pen(self.ink, 4))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(QPointF(50, 50), 22, 22)
        p.drawLine(QPointF(50, 50), QPointF(50, 36))
        p.drawLine(QPointF(50, 50), QPointF(60, 56))

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
