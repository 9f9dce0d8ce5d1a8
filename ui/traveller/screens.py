"""The traveller's screens: a pictogram, a big instruction and the way forward.

Every screen shows its text through FitLabel (type that scales with the window)
and rebuilds it in `retranslate(language)`; none holds traveller data after
`clear()`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QGridLayout,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.lane.snapshot import LaneSnapshot
from kiosk.lane.states import LaneState
from policy.messages import referral_message
from ui.i18n import LANGUAGE_NAMES, keep_words
from ui.traveller import strings as T
from ui.traveller.palette import NORMAL, palette
from ui.traveller.pictograms import DESK_DIRECTIONS, Pictogram
from ui.traveller.preview import CameraPreview
from ui.traveller.strings import tr
from ui.traveller.text import FitLabel

S = LaneState

# Kept for callers of the old name: the colours now live in ui.traveller.palette.
OUTCOME_COLOURS = NORMAL.outcome


class Screen(QWidget):
    """A vertical stack of pictogram and labels, centred."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.name = name
        self.language = "en"
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(48, 24, 48, 24)
        self.layout_.setSpacing(18)
        self.labels: list[FitLabel] = []

    def text(self, role: str, max_lines: int = 3) -> FitLabel:
        label = FitLabel(role, max_lines)
        self.layout_.addWidget(label)
        self.labels.append(label)
        return label

    def retranslate(self, language: str) -> None:
        self.language = language

    def clear(self) -> None:
        pass

    def prompt(self) -> str:
        """What is spoken when the screen appears: its visible instructions."""
        return " ".join(lbl.raw for lbl in self.labels if lbl.raw and lbl.role != "countdown")


def big_button(name: str) -> QPushButton:
    button = QPushButton()
    button.setObjectName(name)
    button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
    return button


class WelcomeScreen(Screen):
    language_chosen = Signal(str)

    def __init__(self, languages: tuple[str, ...]) -> None:
        super().__init__("welcome")
        self.title = self.text("title", 2)
        self.subtitle = self.text("body", 2)
        self.pictogram = Pictogram("passport")
        self.layout_.addWidget(self.pictogram, 3)
        self.hint = self.text("body", 3)
        self.grid = QGridLayout()
        self.grid.setSpacing(16)
        self.buttons: dict[str, QPushButton] = {}
        for lang in languages:
            button = big_button(f"start_{lang}")
            button.setText(LANGUAGE_NAMES.get(lang, lang))
            button.setAccessibleName(f"{LANGUAGE_NAMES.get(lang, lang)}: {T.START_IN}")
            button.clicked.connect(lambda _=False, lang=lang: self.language_chosen.emit(lang))
            self.buttons[lang] = button
        self.layout_.addLayout(self.grid)
        self.columns = 0
        self.set_columns(len(languages))
        self.direction = "entry"

    def set_columns(self, columns: int) -> None:
        """Language buttons in rows of `columns` (fewer on a portrait screen)."""
        columns = max(1, min(columns, len(self.buttons)))
        if columns == self.columns:
            return
        self.columns = columns
        for button in self.buttons.values():
            self.grid.removeWidget(button)
        for i, button in enumerate(self.buttons.values()):
            self.grid.addWidget(button, i // columns, i % columns)

    def retranslate(self, language: str) -> None:
        super().retranslate(language)
        self.title.set_content(tr(T.WELCOME), language)
        side = T.ARRIVALS if self.direction == "entry" else T.DEPARTURES
        self.subtitle.set_content(f"{tr(T.LANE_TITLE)} · {tr(side)}", language)
        self.hint.set_content(tr(T.CHOOSE), language)
        for lang, button in self.buttons.items():
            # Each button in its own language: a traveller finds theirs.
            button.setAccessibleName(f"{LANGUAGE_NAMES.get(lang, lang)} - {tr(T.START_IN)}")


# The chip read's progress bar by step (keep_on_reader): (from, towards, time constant
# s). It never reaches the next step's start on its own, nor 100 %.
PROGRESS_STAGES = {"reading_chip": (0.0, 0.7, 2.0), "verifying_document": (0.7, 0.95, 1.0)}


class InstructionScreen(Screen):
    """Pictogram, title and detail, the time left; optionally a camera preview and
    a button (the boarding-pass step)."""

    button_clicked = Signal()

    def __init__(self, name: str, preview: bool = False, button: str | None = None) -> None:
        super().__init__(name)
        self.message = ""
        self.direction = "entry"
        self.pictogram = Pictogram("passport")
        self.preview: CameraPreview | None = None
        self.row: QBoxLayout | None = None
        if preview:
            # Pictogram and camera side by side: the pictogram keeps a quarter of the
            # screen's height without the camera band pushing the texts off a 4:3 screen.
            row = self.row = QBoxLayout(QBoxLayout.Direction.LeftToRight)
            row.setSpacing(24)
            self.preview = CameraPreview(mirrored=False, oval=False)
            self.preview.setAccessibleName("camera")
            row.addWidget(self.pictogram, 1)
            row.addWidget(self.preview, 1)
            self.layout_.addLayout(row, 4)
        else:
            self.layout_.addWidget(self.pictogram, 4)
        self.title = self.text("title", 3)
        self.detail = self.text("body", 3)
        self.countdown = self.text("countdown", 1)
        self.button: QPushButton | None = None
        self._button_text = button
        if button is not None:
            self.button = big_button(f"{name}_button")
            self.button.clicked.connect(self.button_clicked)
            self.layout_.addWidget(self.button, 0, Qt.AlignmentFlag.AlignCenter)
        self.seconds_left: int | None = None

    def set_portrait(self, portrait: bool) -> None:
        """Pictogram above the camera on a portrait screen (the width is short there)."""
        if self.row is not None:
            self.row.setDirection(QBoxLayout.Direction.TopToBottom if portrait
                                  else QBoxLayout.Direction.LeftToRight)

    def show_message(self, message: str, direction: str) -> None:
        new = message != self.message
        self.message = message
        self.direction = direction
        step = T.STEPS.get(message)
        if step is not None:
            self.pictogram.set_kind(step.pictogram)
        if new and message in PROGRESS_STAGES:
            self.pictogram.set_progress(*PROGRESS_STAGES[message])
        self.retranslate(self.language)

    def set_seconds_left(self, seconds: int | None) -> None:
        self.seconds_left = seconds
        text = tr(T.TIME_LEFT).replace("%1", str(seconds)) if seconds is not None else ""
        self.countdown.set_content(text, self.language)

    def retranslate(self, language: str) -> None:
        super().retranslate(language)
        step = T.STEPS.get(self.message)
        if step is None:
            self.title.set_content("", language)
            self.detail.set_content("", language)
        else:
            title = step.exit_title if self.direction == "exit" and step.exit_title else step.title
            self.title.set_content(tr(title), language)
            self.detail.set_content(tr(step.detail), language)
        if self.button is not None and self._button_text is not None:
            self.button.setText(keep_words(tr(self._button_text), language))
            self.button.setAccessibleName(tr(self._button_text))
        self.set_seconds_left(self.seconds_left)

    def clear(self) -> None:
        self.message = ""
        if self.preview is not None:
            self.preview.stop()


class FaceScreen(Screen):
    """A large mirrored preview with an oval guide, the live guidance and the time left."""

    def __init__(self) -> None:
        super().__init__("face")
        self.code: str | None = None
        self.title = self.text("title", 2)
        self.preview = CameraPreview(mirrored=True, oval=True)
        self.preview.setAccessibleName("camera")
        self.layout_.addWidget(self.preview, 6)
        # Beside the words only when the analysis reports a hat or sunglasses.
        self.hint = Pictogram("hat_or_sunglasses")
        self.hint.setVisible(False)
        self.layout_.addWidget(self.hint, 2)
        self.guidance = self.text("body", 2)
        self.countdown = self.text("countdown", 1)
        self.seconds_left: int | None = None

    def show_guidance(self, code: str | None) -> None:
        self.code = code
        self.retranslate(self.language)

    def set_seconds_left(self, seconds: int | None, fraction_used: float | None = None) -> None:
        self.seconds_left = seconds
        self.preview.progress = fraction_used
        text = tr(T.TIME_LEFT).replace("%1", str(seconds)) if seconds is not None else ""
        self.countdown.set_content(text, self.language)
        self.preview.update()

    def retranslate(self, language: str) -> None:
        super().retranslate(language)
        title = tr(T.LOOK_AT_CAMERA)
        self.title.set_content(title, language)
        # Only what the face analysis saw (no guess before its first report: no "remove
        # your hat" to a bare head), and never the title's words a second time.
        text = tr(T.GUIDANCE[self.code]) if self.code in T.GUIDANCE else ""
        self.guidance.set_content("" if text == title else text, language)
        self.hint.setVisible(self.code == "hat_or_sunglasses")
        self.set_seconds_left(self.seconds_left, self.preview.progress)

    def clear(self) -> None:
        self.code = None
        self.preview.stop()


class OutcomeScreen(Screen):
    """Admitted, referred or an error: the whole screen in one colour, an icon and
    words (never colour alone)."""

    start_again = Signal()

    def __init__(self, officer_desk: str = "ahead") -> None:
        super().__init__("result")
        self.kind = "admitted"
        self.high_contrast = False
        self.icon = Pictogram("check")
        if officer_desk not in DESK_DIRECTIONS:
            raise ValueError(f"officer_desk must be one of {', '.join(DESK_DIRECTIONS)}")
        self.icon.set_direction(officer_desk)  # the referral's arrow
        self.layout_.addWidget(self.icon, 4)
        self.title = self.text("title", 3)
        self.detail = self.text("body", 4)
        self.note = self.text("note", 2)
        self.button = big_button("start_again")
        self.button.clicked.connect(self.start_again)
        self.layout_.addWidget(self.button, 0, Qt.AlignmentFlag.AlignCenter)
        self.snapshot: LaneSnapshot | None = None
        self.setAutoFillBackground(False)

    def show_snapshot(self, snapshot: LaneSnapshot) -> None:
        self.snapshot = snapshot
        if snapshot.state is S.ADMITTED:
            self.kind, icon = "admitted", "walk"
        elif snapshot.state is S.REFERRED:
            self.kind, icon = "referred", "officer"
        elif snapshot.message in T.RECOVERABLE:  # calm: try again, not a fault
            self.kind, icon = "retry", T.RECOVERABLE[snapshot.message]
        else:
            self.kind, icon = "error", "error"
        self.icon.set_kind(icon)
        self.retranslate(self.language)
        self.update()

    def colour(self) -> QColor:
        return QColor(palette(self.high_contrast).outcome[self.kind])

    def frame_colour(self) -> QColor:
        return QColor(palette(True).frame[self.kind])

    def paintEvent(self, event: QPaintEvent) -> None:
        self.icon.backdrop = self.colour()  # painted after this: its cut-outs match
        p = QPainter(self)
        p.fillRect(self.rect(), self.colour())
        if self.high_contrast:  # the outcome's colour as a thick frame on black
            pen_w = max(8, self.width() // 60)
            p.fillRect(0, 0, self.width(), pen_w, self.frame_colour())
            p.fillRect(0, self.height() - pen_w, self.width(), pen_w, self.frame_colour())
        p.end()

    def retranslate(self, language: str) -> None:
        super().retranslate(language)
        s = self.snapshot
        if s is None:
            for lbl in self.labels:
                lbl.set_content("", language)
            self.button.hide()
            return
        note = tr(T.TAKE_IT_WITH_YOU) if s.document_on_reader else ""
        if s.state is S.ADMITTED:
            title = tr(T.ADMITTED_TITLE)
            detail = tr(T.ADMITTED_ENTRY if s.direction == "entry" else T.ADMITTED_EXIT)
            note = ""
        elif s.state is S.REFERRED:
            # One calm text for every reason: the officer learns the reason, not the screen.
            title = tr(T.REFERRED_TITLE)
            detail = referral_message(language)
        else:
            what, way = T.ERRORS.get(s.message, T.ERRORS["error_internal_error"])
            title = tr(T.TRY_AGAIN_TITLE if s.message in T.RECOVERABLE else T.ERROR_TITLE)
            detail = f"{tr(what)} {tr(way)}" if language not in ("zh_CN", "ja") else (
                f"{tr(what)}{tr(way)}"
            )
        self.title.set_content(title, language)
        self.detail.set_content(detail, language)
        self.note.set_content(note, language)
        self.button.setText(keep_words(tr(T.START_AGAIN), language))
        self.button.setAccessibleName(tr(T.START_AGAIN))
        # "Start again" only where it helps: errors, with the passport not left behind.
        self.button.setVisible(s.state is S.ERROR and not s.document_on_reader)

    def clear(self) -> None:
        self.snapshot = None
        self.retranslate(self.language)
