"""The station's pages: sign-in, lane overview, referral queue, case view with
actions, statistics. Each reads the Qt-free model (kiosk.supervisor.station)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta
from typing import ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from kiosk.supervisor.reasons import CASE_ACTIONS, LANE_COMMANDS, REASONS, face_verdict
from kiosk.supervisor.station import CaseView, Station, StationError

STATE_COLOURS = {
    "idle": "#e6f4ea",
    "in_progress": "#e8f0fe",
    "waiting_for_officer": "#fff4ce",
    "gate_open": "#ceead6",
    "device_fault": "#fad2cf",
    "error": "#fad2cf",
    "closed": "#dadce0",
    "offline": "#f28b82",
}
PHOTO = 260


def _item(text: object) -> QTableWidgetItem:
    item = QTableWidgetItem("" if text is None else str(text))
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    return item


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    t.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
    t.verticalHeader().setVisible(False)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    return t


class ReasonPicker(QWidget):
    """An action (or lane command), its reason from the list and free text."""

    def __init__(self, kinds: tuple[str, ...], button: str) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.kind = QComboBox()
        self.kind.setObjectName("kind")
        for k in kinds:
            self.kind.addItem(k, k)
        self.reason = QComboBox()
        self.reason.setObjectName("reason")
        self.text = QLineEdit()
        self.text.setObjectName("reason_text")
        self.text.setPlaceholderText("free text (required for 'other')")
        self.go = QPushButton(button)
        self.go.setObjectName("go")
        for w in (self.kind, self.reason, self.text, self.go):
            layout.addWidget(w)
        self.kind.currentIndexChanged.connect(self._reasons)
        self._reasons()

    def _reasons(self) -> None:
        self.reason.clear()
        for code, label in REASONS[str(self.kind.currentData())].items():
            self.reason.addItem(label, code)

    def choose(self, kind: str, reason: str, text: str = "") -> None:
        self.kind.setCurrentIndex(self.kind.findData(kind))
        self.reason.setCurrentIndex(self.reason.findData(reason))
        self.text.setText(text)

    def value(self) -> tuple[str, str, str]:
        return str(self.kind.currentData()), str(self.reason.currentData()), self.text.text()


class SignInPage(QWidget):
    signed_in = Signal()

    def __init__(self, station: Station) -> None:
        super().__init__()
        self.station = station
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        box = QGroupBox("Supervisor station - sign in")
        box.setMaximumWidth(420)
        form = QFormLayout(box)
        self.officer_id = QLineEdit()
        self.officer_id.setObjectName("officer_id")
        self.secret = QLineEdit()
        self.secret.setObjectName("secret")
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.button = QPushButton("Sign in")
        self.button.setObjectName("sign_in")
        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setStyleSheet("color: #b3261e")
        form.addRow("Officer id", self.officer_id)
        form.addRow("PIN or password", self.secret)
        form.addRow(self.button)
        form.addRow(self.error)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.button.clicked.connect(self.submit)
        self.secret.returnPressed.connect(self.submit)

    def submit(self) -> None:
        try:
            self.station.sign_in(self.officer_id.text(), self.secret.text())
        except StationError as exc:
            self.error.setText(
                "Account locked: too many failed attempts."
                if exc.code == "locked"
                else "Account disabled."
                if exc.code == "disabled"
                else "Unknown officer id or wrong PIN."
            )
            return
        finally:
            self.secret.clear()  # the secret never stays in the widget
        self.error.setText("")
        self.signed_in.emit()


class LanesPage(QWidget):
    HEADERS: ClassVar[list[str]] = [
        "Kiosk",
        "Port",
        "Lane",
        "State",
        "Step",
        "Pending events",
        "Reference age",
        "Last heard",
        "Referrals",
        "Alerts",
    ]

    def __init__(self, station: Station, report: Callable[[str], None]) -> None:
        super().__init__()
        self.station = station
        self.report = report
        layout = QVBoxLayout(self)
        self.summary = QLabel("")
        self.summary.setObjectName("summary")
        layout.addWidget(self.summary)
        self.table = _table(self.HEADERS)
        layout.addWidget(self.table)
        self.command = ReasonPicker(LANE_COMMANDS, "Send to the selected lane")
        layout.addWidget(self.command)
        self.command.go.clicked.connect(self.send)
        self.views: list[object] = []

    def refresh(self) -> None:
        lanes = self.station.lanes()
        self.views = list(lanes)
        selected = self.selected()
        self.table.setRowCount(len(lanes))
        for r, v in enumerate(lanes):
            age = f"{v.reference_age_h:.1f} h" if v.reference_age_h is not None else "unknown"
            cells = [
                v.kiosk_id,
                v.port,
                v.lane,
                v.state.replace("_", " "),
                v.step,
                v.pending_events,
                age,
                f"{v.silent_s:.0f} s ago",
                v.open_referrals,
                ", ".join(a.replace("_", " ") for a in v.alerts),
            ]
            for c, text in enumerate(cells):
                item = _item(text)
                item.setBackground(QColor(STATE_COLOURS.get(v.state, "#ffffff")))
                self.table.setItem(r, c, item)
            if v.kiosk_id == selected:
                self.table.selectRow(r)
        alerts = sum(1 for v in lanes if v.alerts)
        offline = sum(1 for v in lanes if v.state == "offline")
        self.summary.setText(f"{len(lanes)} lanes, {alerts} need attention, {offline} offline")

    def selected(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return item.text() if item else None

    def select(self, kiosk_id: str) -> None:
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            if item is not None and item.text() == kiosk_id:
                self.table.selectRow(r)

    def send(self) -> None:
        kiosk = self.selected()
        if kiosk is None:
            self.report("Select a lane first.")
            return
        kind, reason, text = self.command.value()
        try:
            self.station.lane_command(kiosk, kind, reason, text)
        except StationError as exc:
            self.report(exc.message)
            return
        self.report(f"{kind} sent to {kiosk}.")


class QueuePage(QWidget):
    open_case = Signal(str)
    watchlist_alert = Signal(int)  # new watchlist referrals
    HEADERS: ClassVar[list[str]] = ["Referred at", "Waiting", "Kiosk", "Lane", "Reasons", "Status"]

    def __init__(self, station: Station) -> None:
        super().__init__()
        self.station = station
        layout = QVBoxLayout(self)
        self.table = _table(self.HEADERS)
        layout.addWidget(self.table)
        self.open_button = QPushButton("Open the selected case")
        self.open_button.setObjectName("open_case")
        layout.addWidget(self.open_button)
        self.ids: list[str] = []
        self.watchlist_seen: set[str] = set()
        self.open_button.clicked.connect(self._open)
        self.table.cellDoubleClicked.connect(lambda row, _c: self._open_row(row))

    def refresh(self) -> None:
        queue = self.station.queue()
        now = self.station.clock.now()
        fresh = {str(s.referral_id) for s in queue if s.watchlist} - self.watchlist_seen
        if fresh:
            self.watchlist_seen |= fresh
            self.watchlist_alert.emit(len(fresh))
        self.ids = [str(s.referral_id) for s in queue]
        self.table.setRowCount(len(queue))
        for r, s in enumerate(queue):
            waiting = max(0, int((now - s.referred_at).total_seconds()))
            cells = [
                s.referred_at.astimezone(UTC).strftime("%H:%M:%S"),
                f"{waiting} s",
                s.kiosk_id,
                s.lane,
                ", ".join(s.reasons),
                ("needs a second officer" if s.status == "awaiting_second" else s.status)
                + ("" if s.at_lane else " - traveller left the lane"),
            ]
            for c, text in enumerate(cells):
                item = _item(text)
                if s.watchlist:
                    item.setBackground(QColor("#fad2cf"))
                self.table.setItem(r, c, item)

    def _open(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        self._open_row(rows[0].row() if rows else 0)

    def _open_row(self, row: int) -> None:
        if 0 <= row < len(self.ids):
            self.open_case.emit(self.ids[row])


def _pixmap(jpeg: bytes | None) -> QPixmap | None:
    if not jpeg:
        return None
    pix = QPixmap()
    if not pix.loadFromData(jpeg):
        return None
    return pix.scaled(
        PHOTO, PHOTO, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


class CasePage(QWidget):
    """The chip photo and the decision frame side by side, every check, the
    policy trace, the transit computation, watchlist details, and the actions."""

    resolved = Signal()

    def __init__(self, station: Station, report: Callable[[str], None]) -> None:
        super().__init__()
        self.station = station
        self.report = report
        self.view: CaseView | None = None
        layout = QVBoxLayout(self)
        self.title = QLabel("No case open")
        self.title.setObjectName("case_title")
        self.title.setStyleSheet("font-size: 17px; font-weight: bold")
        layout.addWidget(self.title)
        photos = QGridLayout()
        self.chip = QLabel("no chip photo")
        self.live = QLabel("no decision frame")
        for col, (label, caption) in enumerate(
            ((self.chip, "Chip photo (DG2)"), (self.live, "Frame the face decision used"))
        ):
            label.setFixedSize(PHOTO, PHOTO)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setStyleSheet("border: 1px solid #999; background: #f1f3f4")
            photos.addWidget(QLabel(caption), 0, col)
            photos.addWidget(label, 1, col)
        self.face = QLabel("")
        self.face.setObjectName("face")
        photos.addWidget(self.face, 2, 0, 1, 2)
        self.details = QTextBrowser()
        self.details.setObjectName("details")
        photos.addWidget(self.details, 0, 2, 3, 1)
        photos.setColumnStretch(2, 1)
        photos.setRowStretch(2, 1)  # photos at the top, the details take the height
        self.face.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(photos, 1)
        self.action = ReasonPicker(CASE_ACTIONS, "Carry out")
        layout.addWidget(self.action)
        second = QHBoxLayout()
        self.second_id = QLineEdit()
        self.second_id.setObjectName("second_id")
        self.second_id.setPlaceholderText("second officer id")
        self.second_secret = QLineEdit()
        self.second_secret.setObjectName("second_secret")
        self.second_secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.second_secret.setPlaceholderText("second officer PIN")
        self.confirm_button = QPushButton("Confirm as second officer")
        self.confirm_button.setObjectName("confirm")
        for w in (
            QLabel("Watchlist admit:"),
            self.second_id,
            self.second_secret,
            self.confirm_button,
        ):
            second.addWidget(w)
        self.second_box = QWidget()
        self.second_box.setLayout(second)
        self.second_box.setVisible(False)
        layout.addWidget(self.second_box)
        self.action.go.clicked.connect(self.carry_out)
        self.confirm_button.clicked.connect(self.confirm)
        self._enable(False)

    def _enable(self, on: bool) -> None:
        self.action.setEnabled(on)

    def show_case(self, referral_id: str) -> None:
        try:
            view = self.station.case(referral_id)
        except StationError as exc:
            self.report(exc.message)
            return
        self.view = view
        s = view.summary
        self.title.setText(
            f"{s.kiosk_id} lane {s.lane} - referred {s.referred_at:%H:%M:%S} UTC - {s.status}"
            + ("" if s.at_lane or s.status == "resolved" else " - traveller left the lane")
        )
        for label, jpeg, empty in (
            (self.chip, view.chip_jpeg, "no chip photo"),
            (self.live, view.live_jpeg, "no decision frame"),
        ):
            pix = _pixmap(jpeg)
            if pix is None:
                label.clear()
                label.setText(empty)
            else:
                label.setPixmap(pix)
        d, t = view.distance, view.threshold
        if d is not None and t is not None:
            verdict = face_verdict(view.checks.get("face_outcome"), d, t)
            self.face.setText(f"Face distance {d:.3f}, threshold {t:.3f}: {verdict}")
        else:
            self.face.setText(f"Face not compared: {view.checks.get('face_error', 'no result')}")
        self.details.setHtml(case_html(view))
        self._enable(s.status == "open")
        self.second_box.setVisible(s.status == "awaiting_second")

    def carry_out(self) -> None:
        if self.view is None:
            return
        kind, reason, text = self.action.value()
        try:
            result = self.station.resolve(self.view.summary.referral_id, kind, reason, text)
        except StationError as exc:
            self.report(exc.message)
            return
        if result.status == "awaiting_second":
            self.report("Watchlist case: a second officer must confirm the admit.")
        else:
            self.report(f"{kind} sent to {self.view.summary.kiosk_id}.")
        self.show_case(str(self.view.summary.referral_id))
        self.resolved.emit()

    def confirm(self) -> None:
        if self.view is None:
            return
        try:
            self.station.confirm(
                self.view.summary.referral_id, self.second_id.text(), self.second_secret.text()
            )
        except StationError as exc:
            self.report(exc.message)
            return
        finally:
            self.second_secret.clear()
        self.report("Admit confirmed by the second officer.")
        self.show_case(str(self.view.summary.referral_id))
        self.resolved.emit()


def _esc(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def case_html(view: CaseView) -> str:
    doc = view.document
    rows = "".join(f"<tr><td>{_esc(k)}</td><td><b>{_esc(v)}</b></td></tr>" for k, v in doc.items())
    auth = "".join(
        f"<tr><td>{_esc(n)}</td><td><b>{_esc(r)}</b></td><td>{_esc(why)}</td></tr>"
        for n, r, why in view.authentication()
    )
    trace = "".join(f"<li>{_esc(line)}</li>" for line in view.trace())
    transit = "".join(
        f"<tr><td>{_esc(k.replace('_', ' '))}</td><td>{_esc(v)}</td></tr>"
        for k, v in view.transit().items()
    )
    history = "".join(
        f"<li>{_esc(h['at'][11:19])} {_esc(h['what'])} by {_esc(h['officer'])}"
        f"{' + ' + _esc(h['second_officer']) if h.get('second_officer') else ''}: "
        f"{_esc(h['reason'])} {_esc(h['text'])}</li>"
        for h in view.history
    )
    reasons = ", ".join(view.summary.reasons) or "none"
    watch = ""
    if view.watchlist_entry is not None:
        w = view.watchlist_entry
        watch = (
            f"<h3 style='color:#b3261e'>Watchlist hit - never tell the traveller</h3>"
            f"<p>Entry {_esc(w.get('key'))}; {_esc(w.get('provenance'))}; "
            f"{_esc(w.get('note', ''))}</p>"
        )
    return (
        f"<h3>Reasons: {_esc(reasons)}</h3>{watch}"
        f"<h3>Document (MRZ / DG1)</h3><table>{rows}</table>"
        f"<h3>Chip and document checks</h3><table>{auth}</table>"
        f"<h3>Policy decision: {_esc(view.case.get('decision'))}</h3><ol>{trace}</ol>"
        f"<h3>Transit</h3><table>{transit}</table>"
        f"<h3>History</h3><ul>{history or '<li>no action yet</li>'}</ul>"
    )


class StatsPage(QWidget):
    """Clearance charts (the same figure as `egate report --format png`)."""

    def __init__(self, station: Station, report: Callable[[str], None]) -> None:
        super().__init__()
        self.station = station
        self.report = report
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.period = QComboBox()
        self.period.setObjectName("period")
        for label, hours in (("Last hour", 1), ("Last 24 hours", 24), ("Last 7 days", 168)):
            self.period.addItem(label, hours)
        self.group = QComboBox()
        self.group.setObjectName("group_by")
        for g in ("port", "lane", "kiosk"):
            self.group.addItem(f"per {g}", g)
        self.button = QPushButton("Show")
        self.button.setObjectName("show_stats")
        for w in (self.period, self.group, self.button):
            row.addWidget(w)
        row.addStretch(1)
        layout.addLayout(row)
        self.figures = QLabel("")
        self.figures.setObjectName("figures")
        layout.addWidget(self.figures)
        self.chart = QLabel("")
        self.chart.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.chart, 1)
        self.button.clicked.connect(self.refresh)
        self.stats: object = None

    def refresh(self) -> None:
        from kiosk.supervisor.report import charts

        end = self.station.clock.now()
        start = end - timedelta(hours=int(self.period.currentData()))
        try:
            stats = self.station.statistics(start, end, str(self.group.currentData()))
        except StationError as exc:
            self.report(exc.message)
            return
        self.stats = stats
        o = stats.overall
        c = o.clearance()["overall"]
        ratio = f"{o.self_service_ratio * 100:.0f} %" if o.self_service_ratio is not None else "-"
        median = f"{c['median_s']:.1f} s" if c["median_s"] is not None else "-"
        top = f"{c['p90_s']:.1f} s" if c["p90_s"] is not None else "-"
        self.figures.setText(
            f"{o.travellers} travellers, self-service {ratio}, clearance median "
            f"{median}, 90th percentile {top}"
        )
        import io

        buffer = io.BytesIO()
        charts(stats).savefig(buffer, format="png", dpi=80)
        pix = QPixmap()
        pix.loadFromData(buffer.getvalue())
        self.chart.setPixmap(pix)
