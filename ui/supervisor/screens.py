"""Screenshots of every station view for docs/screens (run by
`egate supervisor --demo --screenshots DIR`): waits for the simulated traffic to
refer someone, then signs in as the demo supervisor and captures each page."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from ui.supervisor.window import SupervisorWindow


class ScreenTour:
    def __init__(
        self, window: SupervisorWindow, out: Path, officer: tuple[str, str], timeout_s: float = 240
    ) -> None:
        self.window = window
        self.out = out
        self.officer = officer
        self.deadline = time.monotonic() + timeout_s
        self.saved: list[Path] = []
        out.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        QTimer.singleShot(500, self._sign_in_page)

    def _save(self, name: str, widget: QWidget | None = None) -> None:
        QApplication.processEvents()
        path = self.out / f"supervisor-{name}.png"
        (widget or self.window).grab().save(str(path))
        self.saved.append(path)

    def _later(self, step: Callable[[], None], ms: int = 700) -> None:
        QTimer.singleShot(ms, step)

    def _sign_in_page(self) -> None:
        self._save("signin")
        page = self.window.sign_in
        page.officer_id.setText(self.officer[0])
        page.secret.setText(self.officer[1])
        page.submit()
        self._later(self._wait_for_referral)

    def _wait_for_referral(self) -> None:
        w = self.window
        w.refresh()
        ready = [x for x in w.queue.items if x.at_lane and not x.watchlist]
        if len(w.queue.items) < 3 and time.monotonic() < self.deadline:
            self._later(self._wait_for_referral, 1000)
            return
        w.tabs.setCurrentWidget(w.lanes)
        self._save("lanes")
        w.tabs.setCurrentWidget(w.queue)
        self._save("queue")
        if ready:
            w.open_case(str(ready[0].referral_id))
            self._later(self._case)
        else:
            self._after_action()

    def _case(self) -> None:
        w = self.window
        self._save("case")
        w.case.action.choose("admit", "identity_confirmed", "checked the passport by hand")
        w.case.carry_out()
        dialog = w.case.dialog
        if dialog is not None:
            self._later(lambda: self._confirm(dialog), 300)
        else:
            self._after_action()

    def _confirm(self, dialog: QWidget) -> None:
        self._save("confirm", dialog)
        dialog.accept()  # type: ignore[attr-defined]
        self._later(self._after_action, 2500)

    def _after_action(self) -> None:
        w = self.window
        if w.case.view is not None:
            w.case.reload()
        w.stats.period.setCurrentIndex(1)
        w.stats.refresh()
        self._later(self._last, 1500)

    def _last(self) -> None:
        w = self.window
        if w.case.view is not None:
            w.tabs.setCurrentWidget(w.case)
            bar = w.case.details.verticalScrollBar()
            bar.setValue(bar.maximum())  # the case history, with the kiosk's answer
            self._save("action")
        w.tabs.setCurrentWidget(w.stats)
        self._save("statistics")
        app = QApplication.instance()
        if app is not None:
            app.exit(0)  # not quit(): it would close every window of the process
