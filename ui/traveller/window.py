"""TravellerWindow: a stack of screens, switched by the lane's snapshots."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from devices.protocols import Camera
from kiosk.workflow.snapshot import LaneSnapshot
from kiosk.workflow.states import LaneState
from policy.messages import GENERIC_REFERRAL, traveller_messages
from ui.i18n import LANGUAGE_NAMES, Translations
from ui.traveller.preview import CameraPreview

S = LaneState

STYLE = """
QWidget { font-size: 30px; }
QLabel#title { font-size: 44px; font-weight: bold; }
QLabel#admitted { font-size: 48px; font-weight: bold; color: #0a7a2f; }
QLabel#referred { font-size: 48px; font-weight: bold; color: #b35c00; }
QLabel#error { font-size: 44px; font-weight: bold; color: #a01010; }
QPushButton { font-size: 36px; padding: 24px 48px; min-width: 260px; }
"""


def tr(text: str) -> str:
    from PySide6.QtCore import QCoreApplication

    return QCoreApplication.translate("Traveller", text)


class Screen(QWidget):
    """A screen that rebuilds its text whenever the language changes."""

    def __init__(self) -> None:
        super().__init__()
        self.layout_ = QVBoxLayout(self)
        self.layout_.setAlignment(Qt.AlignmentFlag.AlignCenter)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        pass

    def label(self, name: str = "") -> QLabel:
        lbl = QLabel()
        lbl.setObjectName(name)
        lbl.setWordWrap(True)
        lbl.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.layout_.addWidget(lbl)
        return lbl


class WelcomeScreen(Screen):
    language_chosen = Signal(str)

    def __init__(self, languages: tuple[str, ...]) -> None:
        super().__init__()
        self.title = self.label("title")
        self.hint = self.label()
        row = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for lang in languages:
            button = QPushButton(LANGUAGE_NAMES.get(lang, lang))
            button.setObjectName(f"start_{lang}")
            button.clicked.connect(lambda _=False, lang=lang: self.language_chosen.emit(lang))
            row.addWidget(button)
            self.buttons[lang] = button
        self.layout_.addLayout(row)
        self.retranslate()

    def retranslate(self) -> None:
        # Both languages side by side: the traveller has not chosen yet.
        self.title.setText("欢迎使用自助通关 · Welcome")
        self.hint.setText("请选择语言 · Please choose your language")


class MessageScreen(Screen):
    """One big instruction plus a detail line (place passport, reading, deciding)."""

    def __init__(self, texts: dict[str, tuple[str, str]]) -> None:
        super().__init__()
        self.texts = texts
        self.message = ""
        self.title = self.label("title")
        self.detail = self.label()

    def show_message(self, message: str) -> None:
        self.message = message
        self.retranslate()

    def retranslate(self) -> None:
        title, detail = self.texts.get(self.message, ("", ""))
        self.title.setText(tr(title))
        self.detail.setText(tr(detail))


class FaceScreen(Screen):
    def __init__(self) -> None:
        super().__init__()
        self.code: str | None = None
        self.title = self.label("title")
        self.preview = CameraPreview()
        self.layout_.addWidget(self.preview, 1)
        self.guidance = self.label()
        self.retranslate()

    def show_guidance(self, code: str | None) -> None:
        self.code = code
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(tr("Please look at the camera"))
        text = GUIDANCE_TEXTS.get(self.code or "")
        self.guidance.setText(tr(text) if text else "")


class BoardingPassScreen(Screen):
    skip = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.title = self.label("title")
        self.detail = self.label()
        self.preview = CameraPreview()
        self.layout_.addWidget(self.preview, 1)
        self.no_pass = QPushButton()
        self.no_pass.setObjectName("no_boarding_pass")
        self.no_pass.clicked.connect(self.skip.emit)
        self.layout_.addWidget(self.no_pass, 0, Qt.AlignmentFlag.AlignCenter)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(tr("Show your boarding pass to the camera"))
        self.detail.setText(tr("Hold the barcode steady in front of the camera"))
        self.no_pass.setText(tr("I have no boarding pass"))


class ResultScreen(Screen):
    def __init__(self, language: Callable[[], str]) -> None:
        super().__init__()
        self._language = language
        self.title = self.label()
        self.detail = self.label()
        self.snapshot: LaneSnapshot | None = None

    def show_snapshot(self, snapshot: LaneSnapshot) -> None:
        self.snapshot = snapshot
        self.retranslate()

    def retranslate(self) -> None:
        s = self.snapshot
        if s is None:
            return
        if s.state is S.ADMITTED:
            self.title.setObjectName("admitted")
            self.title.setText(tr("Please proceed through the gate"))
            self.detail.setText(tr("Welcome to China"))
        elif s.state is S.REFERRED:
            self.title.setObjectName("referred")
            self.title.setText(tr("Please see a border officer"))
            # Only traveller-safe reasons reach this screen (the lane strips the rest);
            # with none left the generic text shows, so a blank line can never hint
            # that the reason was one the traveller may not be told.
            lang = self._language()
            lines = traveller_messages(s.traveller_reasons, lang) or [
                GENERIC_REFERRAL.get(lang, GENERIC_REFERRAL["en"])
            ]
            self.detail.setText("\n".join(lines))
        else:
            self.title.setObjectName("error")
            self.title.setText(tr("Sorry, we could not finish"))
            if s.message == "error_card_removed":
                self.detail.setText(tr("The passport was removed too early. Please start again."))
            elif s.message == "error_timeout":
                self.detail.setText(tr("The time ran out. Please start again."))
            else:
                self.detail.setText(tr("Please start again or see a border officer."))
        self.title.style().unpolish(self.title)
        self.title.style().polish(self.title)


# What the face pipeline's guidance codes ask of the traveller.
GUIDANCE_TEXTS = {
    "too_far": "Please step closer",
    "too_close": "Please step back a little",
    "off_centre": "Please stand in the middle",
    "looking_away": "Please look straight at the camera",
    "too_dark": "Please step into the light",
    "blurred": "Please hold still",
    "hold_still": "Please hold still",
    "eyes_closed": "Please open your eyes",
    "no_face": "Please look at the camera",
    "multiple_faces": "One person at a time, please",
    "blink": "Please blink",
    "turn_left": "Please turn your head to the left",
    "turn_right": "Please turn your head to the right",
}

PROGRESS_TEXTS = {
    "place_passport": (
        "Place your passport on the reader",
        "Open it at the photo page and lay it face down",
    ),
    "reading_chip": ("Reading your passport", "Please leave the passport on the reader"),
    "verifying_document": ("Checking your passport", "This takes a moment"),
    "deciding": ("Checking your entry", "Please wait"),
}


class TravellerWindow(QWidget):
    """The traveller's screen. It only paints; every device and lane call runs elsewhere."""

    start_requested = Signal(str)
    boarding_pass_skipped = Signal()

    def __init__(self, languages: tuple[str, ...], camera: Camera | None = None) -> None:
        super().__init__()
        self.setWindowTitle("egate")
        self.setStyleSheet(STYLE)
        self.translations = Translations()
        self.stack = QStackedWidget()
        self.welcome = WelcomeScreen(languages)
        self.progress = MessageScreen(PROGRESS_TEXTS)
        self.face = FaceScreen()
        self.face.preview.set_camera(camera)
        self.boarding_pass = BoardingPassScreen()
        self.boarding_pass.preview.set_camera(camera)
        self.boarding_pass.skip.connect(self.boarding_pass_skipped.emit)
        self.result = ResultScreen(lambda: self.translations.language)
        for screen in (self.welcome, self.progress, self.face, self.boarding_pass, self.result):
            self.stack.addWidget(screen)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        self.welcome.language_chosen.connect(self._choose_language)
        self.states_seen: list[LaneState] = []
        self.guidance_seen: list[str] = []
        self.resize(1024, 768)

    def _choose_language(self, language: str) -> None:
        self.translations.use(language)
        self.start_requested.emit(language)

    def show_snapshot(self, snapshot: LaneSnapshot) -> None:
        """Slot for LaneBridge.changed (runs on the GUI thread)."""
        self.states_seen.append(snapshot.state)
        state = snapshot.state
        if state is not S.CAPTURING_FACE:
            self.face.preview.stop()
        if state is not S.SCANNING_BOARDING_PASS:
            self.boarding_pass.preview.stop()
        if state is S.IDLE:
            self.translations.use("en")
            self.stack.setCurrentWidget(self.welcome)
        elif state is S.RESETTING:
            return
        elif state is S.CAPTURING_FACE:
            if snapshot.guidance:
                self.guidance_seen.append(snapshot.guidance)
            self.face.show_guidance(snapshot.guidance)
            self.face.preview.start()
            self.stack.setCurrentWidget(self.face)
        elif state is S.SCANNING_BOARDING_PASS:
            self.boarding_pass.preview.start()
            self.stack.setCurrentWidget(self.boarding_pass)
        elif state in (S.ADMITTED, S.REFERRED, S.ERROR):
            self.result.show_snapshot(snapshot)
            self.stack.setCurrentWidget(self.result)
        else:
            if snapshot.language != self.translations.language:
                self.translations.use(snapshot.language)
            self.progress.show_message(snapshot.message)
            self.stack.setCurrentWidget(self.progress)
