"""Kiosk lockdown: the traveller window fills its screen frameless, refuses close
requests, swallows the shortcuts that would leave it, hides the cursor; only an
officer's PIN (checked against an argon2id hash from the configuration) opens the
maintenance exit, and every attempt is audited."""

from __future__ import annotations

import logging
from collections.abc import Callable

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit, QWidget

log = logging.getLogger(__name__)
audit = logging.getLogger("egate.audit")

# argon2id with argon2-cffi's defaults: RFC 9106's low-memory profile (t=3, m=64 MiB,
# p=4), the same as the officer secrets (kiosk/supervisor/secrets.py DEFAULT_PARAMS).
_HASHER = PasswordHasher(type=Type.ID)
PIN_HASH_PREFIX = "$argon2id$"

# Keys that leave or switch away from an application on common desktops.
_ESCAPE_KEYS = {Qt.Key.Key_Escape, Qt.Key.Key_F4, Qt.Key.Key_Q, Qt.Key.Key_W, Qt.Key.Key_Tab,
                Qt.Key.Key_Backspace, Qt.Key.Key_F11, Qt.Key.Key_Super_L, Qt.Key.Key_Super_R,
                Qt.Key.Key_Meta, Qt.Key.Key_Menu}
_MODIFIERS = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
              | Qt.KeyboardModifier.MetaModifier)
MAINTENANCE_TAPS = 5  # taps in the top-left corner within MAINTENANCE_WINDOW_S
MAINTENANCE_WINDOW_S = 3.0
CORNER_PX = 80


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """The argon2id PHC string (`$argon2id$v=19$m=...`) for [kiosk] maintenance_pin_hash."""
    if len(pin) < 4 or not pin.isdigit():
        raise ValueError("a maintenance PIN is at least four digits")
    return _HASHER.hash(pin, salt=salt)


def verify_pin(pin: str, stored: str) -> bool:
    """Check `pin` against a hash_pin() value; False for a wrong PIN and for anything
    but an argon2id hash (the configuration refuses the old scrypt form at load)."""
    if not stored.startswith(PIN_HASH_PREFIX):
        return False
    try:
        return _HASHER.verify(stored, pin)
    except (VerificationError, InvalidHashError):
        return False


class Lockdown(QObject):
    """An application-wide event filter holding `window` in kiosk mode."""

    def __init__(
        self,
        window: QWidget,
        pin_hash: str,
        on_exit: Callable[[], None],
        ask_pin: Callable[[], str | None] | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.pin_hash = pin_hash
        self.on_exit = on_exit
        self.ask_pin = ask_pin or self._ask_pin
        self.swallowed = 0  # shortcuts and close requests refused (for tests and status)
        self._allow_close = False
        self._taps: list[float] = []

    def install(self, screen_index: int = 0) -> None:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        app.installEventFilter(self)
        w = self.window
        w.setWindowFlags(w.windowFlags() | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowStaysOnTopHint)
        screens = QGuiApplication.screens()
        if screens:
            screen = screens[min(max(0, screen_index), len(screens) - 1)]
            w.setGeometry(screen.geometry())
        QApplication.setOverrideCursor(Qt.CursorShape.BlankCursor)
        w.showFullScreen()

    def uninstall(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        QApplication.restoreOverrideCursor()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride, QEvent.Type.KeyRelease):
            assert isinstance(event, QKeyEvent)
            if self._escape_key(event):
                if kind is QEvent.Type.KeyPress:
                    self.swallowed += 1
                    log.info("lockdown: swallowed key %s", event.keyCombination().toCombined())
                event.accept()
                return True
        elif kind is QEvent.Type.Close and obj is self.window and not self._allow_close:
            assert isinstance(event, QCloseEvent)
            event.ignore()
            self.swallowed += 1
            log.info("lockdown: refused a close request")
            return True
        elif (kind is QEvent.Type.MouseButtonPress and isinstance(obj, QWidget)
              and obj.window() is self.window and isinstance(event, QMouseEvent)):
            self._corner_tap(event)
        return False

    def _escape_key(self, event: QKeyEvent) -> bool:
        mods = event.modifiers()
        if mods & _MODIFIERS:
            return True  # no Ctrl/Alt/Meta chord reaches the window (the kiosk needs none)
        return Qt.Key(event.key()) in _ESCAPE_KEYS

    def _corner_tap(self, event: QMouseEvent) -> None:
        import time

        pos = event.scenePosition()  # in the window's coordinates
        if pos.x() > CORNER_PX or pos.y() > CORNER_PX:
            self._taps.clear()
            return
        now = time.monotonic()
        if self._taps and now - self._taps[-1] < 0.05:
            return  # the same press again, on its way to a parent widget
        self._taps = [t for t in self._taps if now - t < MAINTENANCE_WINDOW_S] + [now]
        if len(self._taps) >= MAINTENANCE_TAPS:
            self._taps.clear()
            self.request_exit()

    def _ask_pin(self) -> str | None:
        QApplication.restoreOverrideCursor()
        try:
            pin, ok = QInputDialog.getText(self.window, "egate", "Officer PIN",
                                           QLineEdit.EchoMode.Password)
        finally:
            QApplication.setOverrideCursor(Qt.CursorShape.BlankCursor)
        return pin if ok else None

    def request_exit(self, pin: str | None = None) -> bool:
        """The maintenance exit: True (and the kiosk stops) only for the officer PIN."""
        if not self.pin_hash:
            audit.warning("maintenance exit refused: no PIN is configured")
            return False
        if pin is None:
            pin = self.ask_pin()
        if pin is None:
            return False
        if not verify_pin(pin, self.pin_hash):
            audit.warning("maintenance exit refused: wrong PIN")
            return False
        audit.warning("maintenance exit by an officer (PIN accepted)")
        self._allow_close = True
        self.uninstall()
        self.on_exit()
        return True
