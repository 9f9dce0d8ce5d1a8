"""The supervisor station window: sign-in, then tabs for the lane overview, the
referral queue, the case being handled and the statistics.

The view refreshes on a timer and, on PostgreSQL, as soon as the border
database NOTIFYs a change. Every database call goes through one Background
helper (a worker thread), so a slow or vanished database never freezes the
window: a banner says the connection is lost and each refresh tries again. Any
key or click counts as activity; without it the model signs the officer out
and the window returns to the sign-in page with nothing about travellers left
on screen. A new alarm or warning on the overview sounds (the system beep).
"""

from __future__ import annotations

import threading
from datetime import UTC, tzinfo
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.supervisor.notify import STATION_CHANNEL, ChangeWaiter
from kiosk.supervisor.officers import Officer
from kiosk.supervisor.station import Station, StationError
from ui.supervisor import words
from ui.supervisor.background import Background
from ui.supervisor.views import CasePage, LanesPage, QueuePage, SignInPage, StatsPage


class _Notified(QObject):
    changed = Signal()


class SupervisorWindow(QMainWindow):
    def __init__(
        self,
        station: Station,
        refresh_ms: int = 1000,
        listen: bool = True,
        zone: tzinfo = UTC,
    ) -> None:
        super().__init__()
        self.station = station
        self.zone = zone
        self.bg = Background(self)
        self.officer: Officer | None = None
        self.sounds = 0  # alert sounds played (the beep has no other trace)
        self.setWindowTitle("egate supervisor station")
        self.resize(1280, 800)
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.sign_in = SignInPage(station, self.bg)
        self.stack.addWidget(self.sign_in)
        main = QWidget()
        layout = QVBoxLayout(main)
        self.banner = QLabel("")
        self.banner.setObjectName("connection_banner")
        self.banner.setStyleSheet(
            "background: #b3261e; color: white; font-weight: bold; padding: 6px"
        )
        self.banner.setVisible(False)
        self.who = QLabel("")
        self.who.setObjectName("who")
        self.sign_out_button = QPushButton("Sign out")
        self.sign_out_button.setObjectName("sign_out")
        self.status = QLabel("")
        self.status.setObjectName("status")
        layout.addWidget(self.banner)
        layout.addWidget(self.who)
        self.tabs = QTabWidget()
        self.lanes = LanesPage(station, self.bg, self.tell)
        self.queue = QueuePage(station, zone)
        self.case = CasePage(station, self.bg, zone, self.tell)
        self.stats = StatsPage(station, self.bg, self.tell)
        self.tabs.addTab(self.lanes, "Lanes")
        self.tabs.addTab(self.queue, "Referrals")
        self.tabs.addTab(self.case, "Case")
        self.tabs.addTab(self.stats, "Statistics")
        layout.addWidget(self.tabs)
        layout.addWidget(self.status)
        layout.addWidget(self.sign_out_button)
        self.stack.addWidget(main)
        self.main = main
        self.sign_in.signed_in.connect(self._signed_in)
        self.sign_out_button.clicked.connect(self.sign_out)
        self.queue.open_case.connect(self.open_case)
        self.queue.watchlist_alert.connect(self._watchlist_alert)
        self.lanes.new_alerts.connect(self._lane_alerts)
        self.case.resolved.connect(self.refresh)
        self.bg.connection.connect(self._connection)
        self.timer = QTimer(self)
        self.timer.setInterval(refresh_ms)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self._notified = _Notified()
        self._notified.changed.connect(self.refresh)
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None
        if listen and station.engine.dialect.name == "postgresql":
            self._listener = threading.Thread(
                target=self._listen, name="station-listen", daemon=True
            )
            self._listener.start()
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def _listen(self) -> None:
        waiter = ChangeWaiter(self.station.engine, STATION_CHANNEL)
        while not self._stop.is_set():
            if waiter.wait(2.0, self._stop):
                self._notified.changed.emit()
        waiter.close()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.officer is not None and event.type() in (
            QEvent.Type.KeyPress,
            QEvent.Type.MouseButtonPress,
        ):
            # On the worker: restarting the idle timer may sign out (a database write).
            self.bg.run(self.station.touch, lambda _r: None, key="touch")
        return False

    def _connection(self, up: bool) -> None:
        if up:
            self.banner.setVisible(False)
            self.tell(words.tr("Connection to the border database restored"))
        else:
            self.banner.setText(words.tr("Connection to the border database lost - retrying"))
            self.banner.setToolTip(self.bg.last_error)
            self.banner.setVisible(True)

    def _beep(self) -> None:
        QApplication.beep()
        self.sounds += 1

    def _watchlist_alert(self, count: int) -> None:
        self._beep()
        self.tell(f"WATCHLIST: {count} new referral(s) need an officer now.")
        self.status.setStyleSheet("color: #b3261e; font-weight: bold")

    def _lane_alerts(self, fresh: list[tuple[str, str]]) -> None:
        self._beep()
        text = "; ".join(f"{kiosk}: {words.alert(code)}" for kiosk, code in fresh)
        self.tell("ALERT " + text)
        self.status.setStyleSheet("color: #b3261e; font-weight: bold")

    def tell(self, message: str) -> None:
        if not message.startswith(("WATCHLIST", "ALERT")):
            self.status.setStyleSheet("")
        self.status.setText(message)

    def _signed_in(self, officer: Officer) -> None:
        self.officer = officer
        self.who.setText(f"Signed in: {officer.name} ({officer.officer_id}, {officer.role})")
        traveller_data = officer.role in ("officer", "supervisor")
        self.tabs.setTabVisible(1, traveller_data)
        self.tabs.setTabVisible(2, traveller_data)
        self.tabs.setTabVisible(3, officer.role == "supervisor")
        self.stack.setCurrentWidget(self.main)
        self.tabs.setCurrentWidget(self.lanes)
        self.refresh()

    def open_case(self, referral_id: str) -> None:
        self.case.show_case(referral_id)
        self.tabs.setCurrentWidget(self.case)

    def sign_out(self) -> None:
        self.bg.run(self.station.sign_out, lambda _r: None)
        self._to_sign_in()

    def _to_sign_in(self) -> None:
        # Nothing about travellers stays on screen.
        self.officer = None
        self.case.clear()
        self.queue.table.setRowCount(0)
        self.queue.ids = []
        self.queue.items = []
        self.status.setText("")
        self.who.setText("")
        self.stack.setCurrentWidget(self.sign_in)

    def refresh(self) -> None:
        officer = self.officer
        if self.stack.currentWidget() is not self.main or officer is None:
            return
        station = self.station
        cases = officer.role in ("officer", "supervisor")

        def snapshot() -> tuple[bool, Any, Any]:
            if station.check_idle() or station.officer is None:
                return True, None, None
            return False, station.lanes(), station.queue() if cases else None

        self.bg.run(snapshot, self._show, self._failed, key="refresh")

    def _show(self, result: tuple[bool, Any, Any]) -> None:
        signed_out, lanes, queue = result
        if self.officer is None:
            return  # signed out meanwhile: show nothing that arrived late
        if signed_out:
            self._to_sign_in()
            self.sign_in.error.setText("Signed out after inactivity.")
            return
        self.lanes.show_lanes(lanes)
        if queue is not None:
            self.queue.show_queue(queue)

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, StationError):
            self.tell(exc.message)
        # A lost connection shows in the banner (Background.connection).

    def closeEvent(self, event: object) -> None:
        self._stop.set()
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        if self.officer is not None:
            self.bg.run(self.station.sign_out, lambda _r: None)
            self.officer = None
        self.bg.shutdown()
        super().closeEvent(event)  # type: ignore[arg-type]
