"""The real traveller window as a scenario's screen: what it shows, what it says
(a RecordingSpeaker), and the traveller's touches on its buttons."""

from __future__ import annotations

import time

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication

from kiosk.lane.events import ChangeLanguage, SkipBoardingPass, Start
from kiosk.simulation.simulated_kiosk import SimulatedKiosk
from ui.bridge import LaneBridge
from ui.i18n import spoken
from ui.traveller.speech import RecordingSpeaker
from ui.traveller.window import TravellerWindow


class WindowProbe:
    def __init__(self, size: tuple[int, int] = (1280, 720)) -> None:
        self._app = QApplication.instance() or QApplication([])
        self.size = size
        self.window: TravellerWindow | None = None
        self.speaker = RecordingSpeaker()
        self.bridge: LaneBridge | None = None
        self._kiosk: SimulatedKiosk | None = None

    def attach(self, kiosk: SimulatedKiosk) -> None:
        self.speaker = RecordingSpeaker()
        window = TravellerWindow(kiosk.config.kiosk.languages, kiosk.camera, speaker=self.speaker,
                                 officer_desk=kiosk.config.ui.officer_desk)
        window.fit_to(*self.size)
        lane = kiosk.lane
        window.start_requested.connect(lambda lang: lane.post(Start(lang)))
        window.start_again.connect(lambda lang: lane.post(Start(lang)))
        window.language_changed.connect(lambda lang: lane.post(ChangeLanguage(lang)))
        window.boarding_pass_skipped.connect(lambda: lane.post(SkipBoardingPass()))
        self.bridge = LaneBridge()
        self.bridge.changed.connect(window.show_snapshot)
        lane.add_observer(self.bridge)
        window.show()
        self.window = window
        self._kiosk = kiosk

    def detach(self) -> None:
        if self._kiosk is not None and self.bridge is not None:
            self._kiosk.lane.remove_observer(self.bridge)
        if self.window is not None:
            self.window.close()
            self.window.deleteLater()
        QCoreApplication.processEvents()
        self.window = None

    def screens(self) -> list[str]:
        return [s for s in (self.window.screens_seen if self.window else []) if s != "resetting"]

    def spoken(self) -> list[tuple[str, str]] | None:
        return list(self.speaker.spoken)

    def visible_texts(self) -> list[str]:
        return [spoken(t) for t in self.window.visible_texts()] if self.window else []

    def traveller_data(self) -> list[str]:
        """What the window still shows or holds of the last traveller."""
        w = self.window
        if w is None:
            return []
        left = []
        if w.stack.currentWidget() is not w.welcome:
            left.append("the welcome screen is not shown")
        if w.snapshot is not None and w.snapshot.transaction_id is not None:
            left.append(f"transaction {w.snapshot.transaction_id}")
        if w.face.preview.has_frame():
            left.append("a camera frame in the face preview")
        bp = w.boarding_pass.preview
        if bp is not None and bp.has_frame():
            left.append("a camera frame in the boarding-pass preview")
        if w.top.offered is not None:
            left.append(f"the passport's language {w.top.offered} offered")
        return left

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while True:
            QCoreApplication.processEvents()
            if time.monotonic() >= end:
                return
            time.sleep(min(0.005, max(0.0, end - time.monotonic())))

    def touch_start(self, language: str) -> bool:
        w = self.window
        if w is None or language not in w.welcome.buttons:
            return False
        if w.stack.currentWidget() is not w.welcome:
            return False
        w.welcome.buttons[language].click()
        return True

    def touch_language(self, language: str) -> bool:
        w = self.window
        if w is None or language not in w.top.buttons:
            return False
        w.top.buttons[language].click()
        return True
