"""TravellerWindow: the language bar, the step indicator and a stack of screens,
switched by the lane's snapshots. It only paints and speaks; every device and
lane call runs elsewhere (signals carry the traveller's touches to the lane)."""

from __future__ import annotations

import math
import time
from collections import deque

from PySide6.QtCore import QEvent, QTimer, Signal
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QLabel,
    QLayout,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from devices.protocols import Camera
from kiosk.lane.snapshot import LaneSnapshot
from kiosk.lane.states import LaneState
from ui.i18n import Translations
from ui.traveller import strings as T
from ui.traveller.chrome import StepIndicator, TopBar
from ui.traveller.palette import palette
from ui.traveller.passport_language import passport_language
from ui.traveller.screens import FaceScreen, InstructionScreen, OutcomeScreen, Screen, WelcomeScreen
from ui.traveller.speech import SilentSpeaker, Speaker
from ui.traveller.text import FitLabel

S = LaneState

# Kept for callers of the old names: the strings now live in ui.traveller.strings.
GUIDANCE_TEXTS = T.GUIDANCE
PROGRESS_TEXTS = {code: (step.title, step.detail) for code, step in T.STEPS.items()}

HISTORY = 2000  # snapshots remembered (states_seen ...)
GUIDANCE_SPEECH_GAP_S = 2.5  # do not talk over the traveller with every guidance change
# The idle welcome shows each language in turn: long enough to read the title and the
# hint twice, short enough that a traveller sees theirs within half a minute.
WELCOME_CYCLE_MS = 5000

# The step indicator's position of each state (0: not shown).
_STEP = {
    S.WAITING_FOR_DOCUMENT: 1, S.READING_CHIP: 1, S.VERIFYING_DOCUMENT: 1, S.CAPTURING_FACE: 2,
    S.DECIDING: 2, S.SCANNING_BOARDING_PASS: 3, S.RETURNING_DOCUMENT: -1, S.ADMITTED: -1,
}


def style_sheet(unit: float, high_contrast: bool) -> str:
    def px(v: float) -> int:
        return max(10, round(v * unit))

    def line(v: float) -> int:  # borders: thin lines stay thin on small screens
        return max(2, round(v * unit))

    c = palette(high_contrast)
    # The top bar's buttons are outlined while off and filled while on: the active
    # language is the one filled button among the languages (one style, no second
    # "offered" highlight beside it).
    return f"""
QWidget#traveller, QStackedWidget, Screen, QWidget#topbar {{ background: {c.bg}; }}
QLabel {{ color: {c.ink}; background: transparent; }}
OutcomeScreen QLabel {{ color: {c.on_outcome}; }}
QPushButton {{ font-size: {px(40)}px; padding: {px(14)}px {px(28)}px; color: {c.action_ink};
  min-height: {px(64)}px;
  background: {c.action_bg}; border: {line(3)}px solid {c.action_border};
  border-radius: {px(14)}px; }}
QWidget#topbar QPushButton {{ font-size: {px(26)}px; padding: {px(6)}px {px(16)}px;
  min-height: {px(44)}px; color: {c.switch_ink}; background: {c.bg};
  border: {line(3)}px solid {c.switch_border}; border-radius: {px(10)}px; }}
QWidget#topbar QPushButton:checked {{ background: {c.switch_on_bg}; color: {c.switch_on_ink};
  border-color: {c.switch_on_bg}; }}
OutcomeScreen QPushButton {{ background: #ffffff; color: #1b2b3a; border-color: #ffffff; }}
"""


class TravellerWindow(QWidget):
    """The traveller's screen."""

    start_requested = Signal(str)
    boarding_pass_skipped = Signal()
    language_changed = Signal(str)
    start_again = Signal(str)

    def __init__(
        self,
        languages: tuple[str, ...],
        camera: Camera | None = None,
        *,
        speaker: Speaker | None = None,
        high_contrast: bool = False,
        officer_desk: str = "ahead",
    ) -> None:
        super().__init__()
        self.setObjectName("traveller")
        self.setWindowTitle("egate")
        self.setAccessibleName("egate")
        self.languages = languages
        self.default_language = languages[0] if languages else "en"
        self.speaker: Speaker = speaker or SilentSpeaker()
        self.high_contrast = high_contrast
        self.translations = Translations()
        self.language = self.default_language

        self.top = TopBar(languages)
        self.steps = StepIndicator()
        self.stack = QStackedWidget()
        self.welcome = WelcomeScreen(languages)
        self.progress = InstructionScreen("progress")
        self.face = FaceScreen()
        self.face.preview.set_camera(camera)
        self.boarding_pass = InstructionScreen("boarding_pass", preview=True,
                                               button=T.NO_BOARDING_PASS)
        assert self.boarding_pass.preview is not None
        self.boarding_pass.preview.set_camera(camera)
        self.result = OutcomeScreen(officer_desk)
        self.screens: tuple[Screen, ...] = (
            self.welcome, self.progress, self.face, self.boarding_pass, self.result)
        for screen in self.screens:
            self.stack.addWidget(screen)
        layout = self._layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        # The kiosk's window has the screen's size, never its content's minimum: with
        # the default constraint every screen change re-set the window's minimum size,
        # which Qt passes to the platform window (offscreen and some Xvfb set-ups print
        # "This plugin does not support propagateSizeHints()" each time).
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        layout.addWidget(self.top)
        layout.addWidget(self.steps)
        layout.addWidget(self.stack, 1)

        self.welcome.language_chosen.connect(self._start)
        self.top.language_chosen.connect(self.choose_language)
        self.top.contrast_toggled.connect(self.set_high_contrast)
        self.top.mute_toggled.connect(self._mute)
        self.boarding_pass.button_clicked.connect(self.boarding_pass_skipped)
        self.result.start_again.connect(lambda: self.start_again.emit(self.language))

        self._style_key: tuple[float, bool, bool, int] | None = None
        self.snapshot: LaneSnapshot | None = None
        self._tx_id: str | None = None
        self._since = time.monotonic()
        self._last_prompt: tuple[str, str] | None = None
        self._last_guidance_spoken = 0.0
        # The traveller touched a language in this transaction (it then always wins);
        # a touch on the welcome screen counts for the transaction it starts.
        self._chosen = False
        self._chosen_at_start = False
        self._passport_language_done = False
        # Recent history for tests and scenarios; bounded, a kiosk runs for months.
        self.states_seen: deque[LaneState] = deque(maxlen=HISTORY)
        self.screens_seen: deque[str] = deque(maxlen=HISTORY)
        self.guidance_seen: deque[str] = deque(maxlen=HISTORY)
        self._clock = QTimer(self)
        self._clock.setInterval(250)
        self._clock.timeout.connect(self._tick)
        self._clock.start()
        self._cycle = QTimer(self)
        self._cycle.setInterval(WELCOME_CYCLE_MS)
        self._cycle.timeout.connect(self.cycle_welcome_language)
        self._cycle.start()
        self.top.contrast.setChecked(high_contrast)
        self.set_high_contrast(high_contrast)
        self._apply_language(self.default_language, speak=False)
        self._show_welcome()
        self.resize(1280, 720)
        self.warm_up()

    def warm_up(self) -> None:
        """Polish and paint every screen once now, so that no first showing (style
        sheets, glyph caches of the big fonts) stalls the GUI thread mid-journey."""
        current = self.stack.currentWidget()
        for screen in self.screens:
            self.stack.setCurrentWidget(screen)
            for child in screen.findChildren(QWidget):
                child.ensurePolished()
            screen.grab()
        if current is not None:
            self.stack.setCurrentWidget(current)

    # -- the traveller's touches ----------------------------------------------
    def _start(self, language: str) -> None:
        self._chosen_at_start = True
        self._apply_language(language, speak=False)
        self.start_requested.emit(language)

    def choose_language(self, language: str) -> None:
        """The language bar: switch now and tell the lane (speech, later screens).
        The traveller's choice: kept for the transaction, the passport's never replaces it."""
        self._chosen = True
        self._apply_language(language, speak=True)
        self.language_changed.emit(language)

    def set_high_contrast(self, on: bool) -> None:
        self.high_contrast = on
        self.result.high_contrast = on
        c = palette(on)
        ink, accent = QColor(c.ink), QColor(c.accent)
        for screen in (self.welcome, self.progress, self.boarding_pass):
            screen.pictogram.set_colours(ink, accent)
        self.face.hint.set_colours(ink, accent)
        # On the outcome's colour (or black) the icon is white (yellow highlights on black).
        white = QColor(c.on_outcome)
        self.result.icon.set_colours(white, accent if on else white)
        steps = self.steps
        steps.ink, steps.accent, steps.on_accent = ink, accent, QColor(c.on_accent)
        steps.done, steps.on_done = QColor(c.done), QColor(c.on_done)
        steps.update()
        self.result.update()
        self._style_key = None
        self._restyle()

    def _mute(self, muted: bool) -> None:
        self.speaker.muted = muted
        if muted:
            self.speaker.stop()

    # -- language ----------------------------------------------------------------
    def _apply_language(self, language: str, speak: bool) -> None:
        if language != self.translations.language:
            self.translations.use(language)
        self.language = language
        self.top.set_current(language)
        self.retranslate()
        if speak:
            self._speak(force=True)

    def retranslate(self) -> None:
        """The bars and the screen on show now; the others when they are shown."""
        lang = self.language
        self.top.retranslate(lang)
        self.steps.retranslate(lang)
        current = self.stack.currentWidget()
        if isinstance(current, Screen):
            current.retranslate(lang)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # -- the lane's snapshots ------------------------------------------------------
    def show_snapshot(self, snapshot: LaneSnapshot) -> None:
        """Slot for LaneBridge.changed (runs on the GUI thread)."""
        previous = self.snapshot
        self.snapshot = snapshot
        self.states_seen.append(snapshot.state)
        state = snapshot.state
        if state is S.RESETTING:
            return
        if previous is None or previous.state is not state or (
            previous.message != snapshot.message or previous.attempt != snapshot.attempt
        ):
            self._since = time.monotonic()  # a new step, or a new try at the camera
        if state is S.REFERRED and previous is not None and previous.state is S.REFERRED and (
            previous.document_on_reader != snapshot.document_on_reader
        ):
            self._since = time.monotonic()  # the lane restarted its clock on removal
        if snapshot.transaction_id != self._tx_id:
            # A new traveller (or none): the lane's language, not the last traveller's.
            self._tx_id = snapshot.transaction_id
            self._chosen = self._chosen_at_start and snapshot.transaction_id is not None
            self._chosen_at_start = False
            self._passport_language_done = False
            if snapshot.language != self.language:
                self._apply_language(snapshot.language, speak=False)
        self._follow_passport(snapshot)
        self.top.offer(snapshot.offered_language)
        if state is not S.CAPTURING_FACE:
            self.face.clear()
        if state is not S.SCANNING_BOARDING_PASS and self.boarding_pass.preview is not None:
            self.boarding_pass.preview.stop()
        if state is S.IDLE:
            self._show_welcome()
        elif state is S.CAPTURING_FACE:
            if snapshot.guidance:
                self.guidance_seen.append(snapshot.guidance)
            self.face.language = self.language
            self.face.show_guidance(snapshot.guidance)
            self.face.preview.start()
            self._show(self.face)
        elif state is S.SCANNING_BOARDING_PASS:
            self.boarding_pass.language = self.language
            self.boarding_pass.show_message("show_boarding_pass", snapshot.direction)
            assert self.boarding_pass.preview is not None
            self.boarding_pass.preview.start()
            self._show(self.boarding_pass)
        elif state in (S.ADMITTED, S.REFERRED, S.ERROR):
            self.result.language = self.language
            self.result.show_snapshot(snapshot)
            self._show(self.result)
        else:
            self.progress.language = self.language
            self.progress.show_message(snapshot.message, snapshot.direction)
            self._show(self.progress)
        self._update_steps(snapshot)
        self._tick()
        if not self.screens_seen or self.screens_seen[-1] != snapshot.screen:
            self.screens_seen.append(snapshot.screen)
        self._speak(force=False)

    def _follow_passport(self, snapshot: LaneSnapshot) -> None:
        """Once DG1 is read: the holder's language, unless the traveller chose one."""
        if self._passport_language_done or snapshot.transaction_id is None:
            return
        language = passport_language(snapshot, self.languages)
        if language is None:
            return  # not read yet
        self._passport_language_done = True
        if self._chosen or language == self.language:
            return
        self._apply_language(language, speak=False)  # spoken below with the new screen
        self.language_changed.emit(language)  # the lane's speech and records follow

    def cycle_welcome_language(self) -> None:
        """The idle welcome in the next language (nobody is being served)."""
        idle = self.snapshot is None or self.snapshot.state is S.IDLE
        if not idle or self.stack.currentWidget() is not self.welcome or not self.languages:
            return
        if not self.isVisible():
            return  # the translator is application-wide: a hidden window must not switch it
        order = list(self.languages)
        at = order.index(self.language) if self.language in order else -1
        self._apply_language(order[(at + 1) % len(order)], speak=False)

    def _show_welcome(self) -> None:
        # Nothing of the last traveller stays: every screen forgets its content.
        for screen in self.screens:
            screen.clear()
        self.top.offer(None)
        if self.language != self.default_language:
            self._apply_language(self.default_language, speak=False)
        direction = self.snapshot.direction if self.snapshot else "entry"
        self.welcome.direction = direction
        self.welcome.retranslate(self.language)
        self.stack.setCurrentWidget(self.welcome)

    def _show(self, screen: Screen) -> None:
        if screen.language != self.language:
            screen.retranslate(self.language)
        self.stack.setCurrentWidget(screen)

    def _update_steps(self, snapshot: LaneSnapshot) -> None:
        seen = self._tx_states()
        if snapshot.steps:  # the lane's plan: the same number of steps throughout
            with_pass = "boarding_pass" in snapshot.steps
        else:  # a snapshot without one (made-up screens): what this traveller met
            with_pass = S.SCANNING_BOARDING_PASS in seen
        step = _STEP.get(snapshot.state, 0)
        if step == 2 and with_pass and S.SCANNING_BOARDING_PASS in seen:
            step = 3  # deciding again after the boarding pass
        if step == -1:
            step = 4 if with_pass else 3
        self.steps.setVisible(step != 0)
        self.steps.set_step(step, with_pass)

    def _tx_states(self) -> list[LaneState]:
        out: list[LaneState] = []
        for state in reversed(self.states_seen):
            if state in (S.IDLE, S.RESETTING):
                break
            out.append(state)
        return out

    def _tick(self) -> None:
        s = self.snapshot
        if s is None or s.deadline_s is None:
            left = None
            used = None
        else:
            elapsed = time.monotonic() - self._since
            remaining = s.deadline_s - elapsed
            # Whole seconds rounded up and never "0 s": when the time is up the lane
            # moves on, and while it finishes the countdown is not shown at all.
            left = math.ceil(remaining) if remaining > 0 else None
            used = min(1.0, elapsed / s.deadline_s) if s.deadline_s > 0 else 1.0
        current = self.stack.currentWidget()
        if current is self.face:
            self.face.set_seconds_left(left, used)
        elif isinstance(current, InstructionScreen):
            # The countdown only where the traveller must act (not while reading).
            shown = left if s is not None and s.state in (
                S.WAITING_FOR_DOCUMENT, S.SCANNING_BOARDING_PASS, S.RETURNING_DOCUMENT) else None
            if shown != current.seconds_left:
                current.set_seconds_left(shown)

    # -- speech ----------------------------------------------------------------------
    def current_screen(self) -> Screen:
        widget = self.stack.currentWidget()
        assert isinstance(widget, Screen)
        return widget

    def prompt(self) -> str:
        return self.current_screen().prompt()

    def _speak(self, force: bool) -> None:
        s = self.snapshot
        key = (self.language, self.prompt())
        if not key[1] or (key == self._last_prompt and not force):
            return
        now = time.monotonic()
        on_face = s is not None and s.state is S.CAPTURING_FACE
        if on_face and not force:
            # Guidance changes often: speak it, but not over the last face prompt.
            last = self._last_prompt[1] if self._last_prompt else ""
            if last.startswith(self.face.title.raw) and (
                now - self._last_guidance_spoken < GUIDANCE_SPEECH_GAP_S
            ):
                return
        if on_face:
            self._last_guidance_spoken = now
        self._last_prompt = key
        self.speaker.say(key[1], self.language)

    # -- layout ------------------------------------------------------------------------
    def unit(self) -> float:
        """Type scale: 1.0 at 1920 x 1080 (and at 1080 x 1920, portrait)."""
        return max(0.4, min(self.width(), self.height()) / 1080)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._restyle()

    def fit_to(self, width: int, height: int) -> None:
        """Lay the screens out for width x height first, then take that size (a
        landscape layout's minimum width must not hold a portrait window wide)."""
        self._restyle(width, height)
        for widget in [*self.findChildren(QWidget), self]:  # the new layout's minimum, now
            inner = widget.layout()
            if inner is not None:
                inner.activate()
        self.resize(width, height)

    def _restyle(self, width: int | None = None, height: int | None = None) -> None:
        width = width or self.width()
        height = height or self.height()
        u = max(0.4, min(width, height) / 1080)
        # Controls in two rows where one row does not fit (portrait, small screens).
        narrow = height > width or not self.top.fits_in_one_row(width, u)
        key = (round(u, 2), self.high_contrast, narrow, height)
        if key == self._style_key:
            return
        self._style_key = key
        # The boarding pass pictogram at least a quarter of the screen's height: it is
        # the instruction, the camera band beside it only a check (issue 22).
        # The figure spans 84 of the square's 100 units: 0.3 of the height makes it 1/4.
        self.boarding_pass.pictogram.setMinimumHeight(round(height * 0.3))
        self.boarding_pass.set_portrait(height > width)
        self._place_controls(at_bottom=height > width)
        self.top.set_portrait(narrow)
        self.welcome.set_columns(3 if height > width or width < 1200 else len(self.languages))
        self.setStyleSheet(style_sheet(u, self.high_contrast))
        sizes = {"title": 76, "body": 50, "note": 46, "countdown": 34}
        for label in self.findChildren(FitLabel):
            label.set_base_px(round(sizes.get(label.role, 44) * u))
        self.steps.setFixedHeight(max(48, round(96 * u)))

    def _place_controls(self, at_bottom: bool) -> None:
        """Portrait screens are tall (a 1920 px screen's top is out of reach from a
        wheelchair): the language, contrast and mute buttons go below the screens,
        next to the welcome's language buttons and the step's own button; landscape
        keeps them on top, where the eye starts (docs/traveller.md, "Reach")."""
        index = self._layout.indexOf(self.top)
        wanted = self._layout.count() - 1 if at_bottom else 0
        if index != wanted:
            self._layout.removeWidget(self.top)
            self._layout.insertWidget(wanted, self.top)

    def graphic_colours(self) -> list[tuple[str, str, str]]:
        """(part, colour, background) of every graphic on show now: the step circles and
        lines, the pictograms, the outcome's frame (the contrast check's input; the
        camera picture and its guide are not judged: their background is the scene)."""
        from ui.traveller.pictograms import Pictogram

        out: list[tuple[str, str, str]] = []
        bg = self.screen_background()
        if self.steps.isVisibleTo(self):
            n = len(self.steps.steps())
            for step in range(1, n + 1):
                out.append((f"step {step} circle", self.steps.colours(step)[0].name(), bg))
        current = self.stack.currentWidget()
        behind = self.result.colour().name() if current is self.result else bg
        for picture in self.findChildren(Pictogram):
            if picture.isVisibleTo(self):
                out += [(name, fg.name(), back.name())
                        for name, fg, back in picture.colour_pairs(QColor(behind))]
        if current is self.result and self.high_contrast:
            out.append(("outcome frame", self.result.frame_colour().name(), behind))
        return out

    def screen_background(self) -> str:
        return palette(self.high_contrast).bg

    def visible_texts(self) -> list[str]:
        """Every text a traveller can see now (labels and buttons)."""
        out: list[str] = []
        for w in self.findChildren(QLabel):
            if w.isVisibleTo(self) and w.text():
                out.append(w.text())
        for b in self.findChildren(QAbstractButton):
            if b.isVisibleTo(self) and b.text():
                out.append(b.text())
        return out
