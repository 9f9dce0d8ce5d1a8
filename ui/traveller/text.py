"""Labels whose type scales with the window and shrinks to fit, never cut."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QResizeEvent, QTextLayout, QTextOption
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from ui.i18n import keep_words


def text_lines(text: str, font: QFont, width: float) -> list[tuple[int, int, float]]:
    """How Qt breaks `text` at `width`: (start, length, natural width) per line."""
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WordWrap)
    layout.setTextOption(option)
    out: list[tuple[int, int, float]] = []
    layout.beginLayout()
    for paragraph_guard in range(1000):
        line = layout.createLine()
        if not line.isValid() or paragraph_guard > 200:
            break
        line.setLineWidth(width)
        out.append((line.textStart(), line.textLength(), line.naturalTextWidth()))
    layout.endLayout()
    return out


class FitLabel(QLabel):
    """A centred, wrapping label: its font is `base_px` (set from the window size)
    reduced step by step until the text fits its width in at most `max_lines`."""

    MIN_SCALE = 0.5

    def __init__(self, role: str, max_lines: int = 3, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(role)
        self.role = role
        self.max_lines = max_lines
        self.base_px = 40
        self.language = "en"
        self.raw = ""
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self._fitted: tuple[str, int, int] | None = None  # (text, base px, width) last fitted

    def set_content(self, text: str, language: str) -> None:
        self.raw = text
        self.language = language
        self.setText(keep_words(text, language))
        self.setAccessibleName(text)
        if self.isHidden() == bool(text):
            self.setVisible(bool(text))
        self._fit()

    def set_base_px(self, px: int) -> None:
        if px != self.base_px:
            self.base_px = px
            self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit()

    def _fit(self) -> None:
        width = self.contentsRect().width()
        key = (self.text(), self.base_px, width)
        if key == self._fitted:
            return
        self._fitted = key
        font = QFont(self.font())
        px = float(self.base_px)
        lines: list[tuple[int, int, float]] = []
        while True:
            font.setPixelSize(max(8, round(px)))
            lines = text_lines(self.text(), font, width) if width > 0 else []
            fits = len(lines) <= self.max_lines and all(w <= width + 0.5 for *_, w in lines)
            if fits or px <= self.base_px * self.MIN_SCALE:
                break
            px *= 0.92
        if font.pixelSize() != self.font().pixelSize():
            self.setFont(font)
        height = int(self.fontMetrics().lineSpacing() * max(1, len(lines))) + 4
        if self.minimumHeight() != height:
            self.setMinimumHeight(height)
