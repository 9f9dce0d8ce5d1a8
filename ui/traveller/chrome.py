"""What every screen carries: the language bar (switch at any step, the passport's
language offered first), high contrast and mute, and the step indicator."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QPushButton, QSizePolicy, QWidget

from ui.i18n import LANGUAGE_NAMES, keep_words
from ui.traveller import strings as T
from ui.traveller.strings import tr


class TopBar(QWidget):
    language_chosen = Signal(str)
    contrast_toggled = Signal(bool)
    mute_toggled = Signal(bool)

    def __init__(self, languages: tuple[str, ...]) -> None:
        super().__init__()
        self.setObjectName("topbar")
        self.languages = languages
        # Languages and the two switches side by side, or in two rows (portrait).
        self.outer = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self.outer.setContentsMargins(16, 8, 16, 8)
        self.outer.setSpacing(10)
        self.row = QHBoxLayout()
        self.row.setSpacing(10)
        self.switches = QHBoxLayout()
        self.switches.setSpacing(10)
        self.outer.addLayout(self.row)
        self.outer.addLayout(self.switches)
        self.buttons: dict[str, QPushButton] = {}
        for lang in languages:
            b = QPushButton(LANGUAGE_NAMES.get(lang, lang))
            b.setObjectName(f"lang_{lang}")
            b.setCheckable(True)
            b.setAccessibleName(f"{T.LANGUAGE}: {LANGUAGE_NAMES.get(lang, lang)}")
            b.clicked.connect(lambda _=False, lang=lang: self.language_chosen.emit(lang))
            self.buttons[lang] = b
        self.contrast = QPushButton()
        self.contrast.setObjectName("high_contrast")
        self.contrast.setCheckable(True)
        self.contrast.toggled.connect(self.contrast_toggled)
        self.mute = QPushButton()
        self.mute.setObjectName("mute")
        self.mute.setCheckable(True)
        self.mute.toggled.connect(self._muted)
        self.offered: str | None = None
        self._arrange()

    def _arrange(self) -> None:
        while self.row.count():
            self.row.takeAt(0)
        order = list(self.languages)
        if self.offered in order:  # the passport's language first
            order.remove(self.offered)
            order.insert(0, self.offered)
        for lang in order:
            self.row.addWidget(self.buttons[lang])
        self.row.addStretch(1)
        while self.switches.count():
            self.switches.takeAt(0)
        self.switches.addStretch(1)
        self.switches.addWidget(self.contrast)
        self.switches.addWidget(self.mute)

    def fits_in_one_row(self, width: int, unit: float) -> bool:
        """Would languages and switches fit side by side at `width` (type scale `unit`)?"""
        # Text widths at the current font, scaled to the unit's font size.
        need = 0.0
        for b in [*self.buttons.values(), self.contrast, self.mute]:
            text_px = b.fontMetrics().horizontalAdvance(b.text())
            scale = (26 * unit) / max(1, b.font().pixelSize() if b.font().pixelSize() > 0 else 13)
            need += text_px * scale + 2 * 16 * unit + 6 * unit + 10
        return need + 80 <= width

    def set_portrait(self, portrait: bool) -> None:
        self.outer.setDirection(
            QBoxLayout.Direction.TopToBottom if portrait else QBoxLayout.Direction.LeftToRight
        )

    def offer(self, language: str | None) -> None:
        if language != self.offered:
            self.offered = language  # first in the row; highlighted only once active
            self._arrange()

    def set_current(self, language: str) -> None:
        for lang, b in self.buttons.items():
            b.setChecked(lang == language)

    def set_languages_visible(self, visible: bool) -> None:
        for b in self.buttons.values():
            b.setVisible(visible)

    def _muted(self, muted: bool) -> None:
        self.retranslate(self._language)
        self.mute_toggled.emit(muted)

    _language = "en"

    def retranslate(self, language: str) -> None:
        self._language = language
        self.contrast.setText(keep_words(tr(T.HIGH_CONTRAST), language))
        self.contrast.setAccessibleName(tr(T.HIGH_CONTRAST))
        label = T.UNMUTE if self.mute.isChecked() else T.MUTE
        self.mute.setText(keep_words(tr(label), language))
        self.mute.setAccessibleName(tr(label))


class StepIndicator(QWidget):
    """Passport - face - (boarding pass) - gate: where the traveller is."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("steps")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(90)
        self.current = 0  # 0 = none, 1.. = the step under way
        self.with_boarding_pass = False
        self.language = "en"
        self.ink = QColor("#1b2b3a")
        self.accent = QColor("#0a66c2")
        self.done = QColor("#2e7d32")
        self.on_accent = QColor("white")
        self.on_done = QColor("white")

    def steps(self) -> list[str]:
        names = [T.STEP_PASSPORT, T.STEP_FACE]
        if self.with_boarding_pass:
            names.append(T.STEP_BOARDING_PASS)
        return [*names, T.STEP_GATE]

    def set_step(self, current: int, with_boarding_pass: bool) -> None:
        self.current = current
        self.with_boarding_pass = with_boarding_pass
        self.setAccessibleName(" > ".join(tr(s) for s in self.steps()))
        self.setAccessibleDescription(
            f"{current}/{len(self.steps())}: {tr(self.steps()[current - 1])}" if current else ""
        )
        self.update()

    def retranslate(self, language: str) -> None:
        self.language = language
        self.set_step(self.current, self.with_boarding_pass)

    def _geometry(self) -> tuple[float, float, float, float]:
        """(slot width, circle radius, circle centre y, height) of the painting."""
        h = self.height()
        r = h * 0.2
        return self.width() / max(1, len(self.steps())), r, r + 6, h

    def text_boxes(self) -> list[tuple[str, QRect]]:
        """Where each number and name is painted (the contrast check measures there)."""
        slot, r, cy, h = self._geometry()
        out: list[tuple[str, QRect]] = []
        for i, name in enumerate(self.steps()):
            cx = slot * (i + 0.5)
            inner = r * 0.7  # inside the circle: its fill and the number only
            out.append((f"step {i + 1} number",
                        QRectF(cx - inner, cy - inner, 2 * inner, 2 * inner).toRect()))
            out.append((f"step {i + 1} name {tr(name)!r}",
                        QRectF(cx - slot / 2 + 2, cy + r + 3, slot - 4, h - cy - r - 4).toRect()))
        return out

    def colours(self, step: int) -> tuple[QColor, QColor]:
        """(circle, line and name colour; number colour) of `step` now."""
        if step < self.current:
            return self.done, self.on_done
        if step == self.current:
            return self.accent, self.on_accent
        return self.ink, self.ink

    def paintEvent(self, event: QPaintEvent) -> None:
        names = self.steps()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        n = len(names)
        slot, r, cy, h = self._geometry()
        font = QFont(self.font())
        font.setPixelSize(max(10, int(h * 0.24)))
        p.setFont(font)
        for i, name in enumerate(names):
            cx = slot * (i + 0.5)
            step = i + 1
            colour, number = self.colours(step)
            if i < n - 1:
                p.setPen(QPen(self.done if step < self.current else self.ink, 3))
                p.drawLine(QPointF(cx + r + 4, cy), QPointF(cx + slot - r - 4, cy))
            p.setPen(QPen(colour, 3))
            p.setBrush(colour if step <= self.current else Qt.BrushStyle.NoBrush)
            p.drawEllipse(QPointF(cx, cy), r, r)
            p.setPen(QPen(number))
            p.drawText(QRectF(cx - r, cy - r, 2 * r, 2 * r), Qt.AlignmentFlag.AlignCenter,
                       "✓" if step < self.current else str(step))
            p.setPen(QPen(colour))
            p.drawText(QRectF(cx - slot / 2, cy + r + 2, slot, h - cy - r - 2),
                       Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, tr(name))
        p.end()
