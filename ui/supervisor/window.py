"""The supervisor station window: sign-in, then tabs for the lane overview, the
referral queue, the case being handled and the statistics.

The view refreshes on a timer and, on PostgreSQL, as soon as the border
database NOTIFYs a change. Any key or click counts as activity; without it the
model signs the officer out and the window returns to the sign-in page with
nothing about travellers left on screen.
"""

from __future__ import annotations

import threading

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
from kiosk.supervisor.station import Station, StationError
from ui.supervisor.views import CasePage, LanesPage, QueuePage, SignInPage, StatsPage


class _Notified(QObject):
    changed = Signal()


class SupervisorWindow(QMainWindow):
    def __init__(self, station: Station, refresh_ms: int = 1000, listen: bool = True) -> None:
        super().__init__()
        self.station = station
        self.setWindowTitle("egate supervisor station")
        self.resize(1280, 800)
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.sign_in = SignInPage(station)
        self.stack.addWidget(self.sign_in)
        main = QWidget()
        layout = QVBoxLayout(main)
        self.who = QLabel("")
        self.who.setObjectName("who")
        self.sign_out_button = QPushButton("Sign out")
        self.sign_out_button.setObjectName("sign_out")
        self.status = QLabel("")
        self.status.setObjectName("status")
        layout.addWidget(self.who)
        self.tabs = QTabWidget()
        self.lanes = LanesPage(station, self.tell)
        self.queue = QueuePage(station)
        self.case = CasePage(station, self.tell)
        self.stats = StatsPage(station, self.tell)
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
        self.case.resolved.connect(self.refresh)
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
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress):
            self.station.touch()
        return False

    def _watchlist_alert(self, count: int) -> None:
        QApplication.beep()
        self.tell(f"WATCHLIST: {count} new referral(s) need an officer now.")
        self.status.setStyleSheet("color: #b3261e; font-weight: bold")

    def tell(self, message: str) -> None:
        if not message.startswith("WATCHLIST"):
            self.status.setStyleSheet("")
        self.status.setText(message)

    def _signed_in(self) -> None:
        officer = self.station.officer
        if officer is None:
            return
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
        self.station.sign_out()
        self._to_sign_in()

    def _to_sign_in(self) -> None:
        # Nothing about travellers stays on screen.
        self.case.view = None
        self.case.details.clear()
        self.case.chip.clear()
        self.case.live.clear()
        self.queue.table.setRowCount(0)
        self.queue.ids = []
        self.status.setText("")
        self.who.setText("")
        self.stack.setCurrentWidget(self.sign_in)

    def refresh(self) -> None:
        if self.stack.currentWidget() is not self.main:
            return
        if self.station.check_idle() or self.station.officer is None:
            self._to_sign_in()
            self.sign_in.error.setText("Signed out after inactivity.")
            return
        role = self.station.officer.role
        try:
            self.lanes.refresh()
            if role in ("officer", "supervisor"):
                self.queue.refresh()
        except StationError as exc:
            self.tell(exc.message)
        except Exception as exc:  # the border database went away: keep the window up
            self.tell(f"Border database unavailable: {type(exc).__name__}")

    def closeEvent(self, event: object) -> None:
        self._stop.set()
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        if self.station.officer is not None:
            self.station.sign_out()
        super().closeEvent(event)  # type: ignore[arg-type]
