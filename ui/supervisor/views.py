"""The station's pages: sign-in, lane overview, referral queue, case view with
actions, statistics. Each reads the Qt-free model (kiosk.supervisor.station)
through the window's Background helper: no page calls the database itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta, tzinfo
from typing import Any, ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from kiosk.supervisor.reasons import (
    ALERTS,
    CASE_ACTIONS,
    LANE_COMMANDS,
    REASONS,
    check_case_reason,
    face_verdict,
    needs_typed_reason,
)
from kiosk.supervisor.station import CaseView, LaneView, ReferralSummary, Station, StationError
from ui.supervisor import words
from ui.supervisor.background import Background

STATE_COLOURS = {
    "idle": "#e6f4ea",
    "in_progress": "#e8f0fe",
    "waiting_for_officer": "#fff4ce",
    "gate_open": "#ceead6",
    "device_fault": "#fad2cf",
    "error": "#fad2cf",
    "closed": "#dadce0",
    "offline": "#f28b82",
    "returning_document": "#ceead6",
    "passport_left": "#fdd663",
    "unknown": "#f28b82",
}
# Alert colours and icons by loudness (reasons.ALERTS); "alarm" and "warning" also sound.
ALERT_COLOURS = {"alarm": "#f28b82", "warning": "#fdd663", "notice": "#e8f0fe"}
ALERT_ICONS = {
    "alarm": QStyle.StandardPixmap.SP_MessageBoxCritical,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "notice": QStyle.StandardPixmap.SP_MessageBoxInformation,
}


def alert_icon(level: str) -> QIcon:
    style = QApplication.style()
    return style.standardIcon(ALERT_ICONS.get(level, ALERT_ICONS["notice"]))


def worst_level(alerts: tuple[str, ...]) -> str | None:
    levels = [ALERTS.get(a, "alarm") for a in alerts]
    for level in ("alarm", "warning", "notice"):
        if level in levels:
            return level
    return None


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
    """An action (or lane command), its reason from the list and free text. Nothing
    is chosen at first: the officer picks the action and the reason every time."""

    changed = Signal()

    def __init__(self, kinds: tuple[str, ...], button: str) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.kind = QComboBox()
        self.kind.setObjectName("kind")
        self.kind.addItem(words.tr("Choose an action"), None)
        for k in kinds:
            self.kind.addItem(words.action(k), k)
        self.reason = QComboBox()
        self.reason.setObjectName("reason")
        self.text = QLineEdit()
        self.text.setObjectName("reason_text")
        self.text.setPlaceholderText("free text (required for 'other')")
        self.go = QPushButton(button)
        self.go.setObjectName("go")
        self.go.setAutoDefault(False)  # Enter in a field never carries out an action
        for w in (self.kind, self.reason, self.text, self.go):
            layout.addWidget(w)
        self.kind.currentIndexChanged.connect(self._reasons)
        self.reason.currentIndexChanged.connect(self._update)
        self.text.textChanged.connect(self._update)
        self._reasons()

    def _reasons(self) -> None:
        self.reason.clear()
        self.reason.addItem(words.tr("Choose a reason"), None)
        kind = self.kind.currentData()
        if kind is not None:
            for code in REASONS[str(kind)]:
                self.reason.addItem(words.action_reason(str(kind), code), code)
        self._update()

    def _update(self) -> None:
        self.go.setEnabled(self.chosen())
        self.changed.emit()

    def clear(self) -> None:
        self.kind.setCurrentIndex(0)
        self.text.clear()

    def choose(self, kind: str, reason: str, text: str = "") -> None:
        self.kind.setCurrentIndex(self.kind.findData(kind))
        self.reason.setCurrentIndex(self.reason.findData(reason))
        self.text.setText(text)

    def chosen(self) -> bool:
        return self.kind.currentData() is not None and self.reason.currentData() is not None

    def value(self) -> tuple[str, str, str]:
        return str(self.kind.currentData()), str(self.reason.currentData()), self.text.text()


class ConfirmDialog(QDialog):
    """Names what is about to happen; Cancel is the default button."""

    def __init__(self, parent: QWidget, lines: list[tuple[str, str]]) -> None:
        super().__init__(parent)
        self.setObjectName("confirm_dialog")
        self.setWindowTitle(words.tr("Confirm the action"))
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.lines = lines
        for label, value in lines:
            shown = QLabel(value)
            shown.setTextFormat(Qt.TextFormat.PlainText)
            shown.setWordWrap(True)
            form.addRow(label, shown)
        layout.addLayout(form)
        buttons = QDialogButtonBox()
        self.ok = buttons.addButton(words.tr("Carry out"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel = buttons.addButton(words.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        self.ok.setObjectName("confirm_ok")
        self.cancel.setObjectName("confirm_cancel")
        self.ok.setAutoDefault(False)
        self.cancel.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def text(self) -> str:
        return "\n".join(f"{label}: {value}" for label, value in self.lines)


class SignInPage(QWidget):
    signed_in = Signal(object)  # the Officer

    def __init__(self, station: Station, bg: Background) -> None:
        super().__init__()
        self.station = station
        self.bg = bg
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
        officer_id, secret = self.officer_id.text(), self.secret.text()
        self.secret.clear()  # the secret never stays in the widget
        self.button.setEnabled(False)
        self.bg.run(lambda: self.station.sign_in(officer_id, secret), self._done, self._refused)

    def _done(self, officer: object) -> None:
        self.button.setEnabled(True)
        self.error.setText("")
        self.signed_in.emit(officer)

    def _refused(self, exc: Exception) -> None:
        self.button.setEnabled(True)
        code = exc.code if isinstance(exc, StationError) else "unavailable"
        self.error.setText(
            "Account locked: too many failed attempts."
            if code == "locked"
            else "Account disabled."
            if code == "disabled"
            else "Unknown officer id or wrong PIN."
            if isinstance(exc, StationError)
            else "The border database cannot be reached; try again."
        )


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
    # (kiosk, alert) pairs that just appeared and are loud enough to be heard.
    new_alerts = Signal(list)

    def __init__(self, station: Station, bg: Background, report: Callable[[str], None]) -> None:
        super().__init__()
        self.station = station
        self.bg = bg
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
        # Supervisors acknowledge the border's alerts about the selected lane (oldest first).
        self.ack = QPushButton(words.tr("Acknowledge the border alert"))
        layout.addWidget(self.ack)
        self.ack.clicked.connect(self.acknowledge)
        self.views: list[LaneView] = []
        self.raised: set[tuple[str, str]] = set()
        self.dialog: ConfirmDialog | None = None

    def show_lanes(self, lanes: list[LaneView]) -> None:
        self.views = list(lanes)
        selected = self.selected()
        self.table.setRowCount(len(lanes))
        for r, v in enumerate(lanes):
            age = f"{v.reference_age_h:.1f} h" if v.reference_age_h is not None else "unknown"
            cells = [
                v.kiosk_id,
                v.port,
                v.lane,
                words.state(v.state),
                v.step,
                v.pending_events,
                age,
                f"{v.silent_s:.0f} s ago",
                v.open_referrals,
                ", ".join(words.alert(a) for a in v.alerts),
            ]
            level = worst_level(v.alerts)
            for c, text in enumerate(cells):
                item = _item(text)
                item.setBackground(QColor(STATE_COLOURS.get(v.state, "#ffffff")))
                if c == 3:
                    item.setToolTip(f"{v.state} / {v.step} {v.detail}".strip())
                if c == 9 and level is not None:
                    item.setIcon(alert_icon(level))
                    item.setBackground(QColor(ALERT_COLOURS[level]))
                    item.setToolTip(", ".join(v.alerts))  # the codes, for the record
                self.table.setItem(r, c, item)
            if v.kiosk_id == selected:
                self.table.selectRow(r)
        now = {(v.kiosk_id, a) for v in lanes for a in v.alerts}
        fresh = sorted(p for p in now - self.raised if ALERTS.get(p[1]) in ("alarm", "warning"))
        self.raised = now
        if fresh:
            self.new_alerts.emit(fresh)
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
        if not self.command.chosen():
            self.report("Choose an action and a reason.")
            return
        kind, reason, text = self.command.value()
        lines = [
            (words.tr("Kiosk"), kiosk),
            (words.tr("Action"), f"{words.action(kind)} ({kind})"),
            (words.tr("Reason"), f"{words.action_reason(kind, reason)} ({reason})"),
        ]
        if text.strip():
            lines.append((words.tr("Your words"), text.strip()))
        self.dialog = ConfirmDialog(self, lines)
        self.dialog.accepted.connect(lambda: self._send(kiosk, kind, reason, text))
        self.dialog.open()

    def acknowledge(self) -> None:
        kiosk = self.selected()
        view = next((v for v in self.views if v.kiosk_id == kiosk), None)
        if view is None or not view.border_alerts:
            self.report(words.tr("No border alert on this lane"))
            return
        alert = view.border_alerts[0]
        lines = [
            (words.tr("Kiosk"), view.kiosk_id),
            (words.tr("Alert"), f"{words.alert(alert.code)} ({alert.kind})"),
            (words.tr("Detail"), alert.detail),
        ]
        self.dialog = ConfirmDialog(self, lines)
        self.dialog.accepted.connect(lambda: self._acknowledge(view.kiosk_id, alert.alert_id))
        self.dialog.open()

    def _acknowledge(self, kiosk: str, alert_id: int) -> None:
        self.bg.run(
            lambda: self.station.acknowledge_alert(alert_id),
            lambda _result: self.report(f"Alert {alert_id} of {kiosk} acknowledged."),
            lambda exc: self.report(getattr(exc, "message", str(exc))),
        )

    def _send(self, kiosk: str, kind: str, reason: str, text: str) -> None:
        def done(_result: object) -> None:
            self.report(f"{kind} sent to {kiosk}.")
            self.command.clear()

        self.bg.run(
            lambda: self.station.lane_command(kiosk, kind, reason, text),
            done,
            lambda exc: self.report(getattr(exc, "message", str(exc))),
        )


class QueuePage(QWidget):
    open_case = Signal(str)
    watchlist_alert = Signal(int)  # new watchlist referrals
    HEADERS: ClassVar[list[str]] = ["Referred at", "Waiting", "Kiosk", "Lane", "Reasons", "Status"]

    def __init__(self, station: Station, zone: tzinfo) -> None:
        super().__init__()
        self.station = station
        self.zone = zone
        layout = QVBoxLayout(self)
        self.table = _table(self.HEADERS)
        layout.addWidget(self.table)
        self.open_button = QPushButton("Open the selected case")
        self.open_button.setObjectName("open_case")
        layout.addWidget(self.open_button)
        self.ids: list[str] = []
        self.items: list[ReferralSummary] = []
        self.watchlist_seen: set[str] = set()
        self.open_button.clicked.connect(self._open)
        self.table.cellDoubleClicked.connect(lambda row, _c: self._open_row(row))

    def show_queue(self, queue: list[ReferralSummary]) -> None:
        now = self.station.clock.now()
        fresh = {str(s.referral_id) for s in queue if s.watchlist} - self.watchlist_seen
        if fresh:
            self.watchlist_seen |= fresh
            self.watchlist_alert.emit(len(fresh))
        self.items = list(queue)
        self.ids = [str(s.referral_id) for s in queue]
        self.table.setRowCount(len(queue))
        for r, s in enumerate(queue):
            waiting = max(0, int((now - s.referred_at).total_seconds()))
            cells = [
                words.local_time(s.referred_at, self.zone),
                f"{waiting} s",
                s.kiosk_id,
                s.lane,
                "; ".join(words.referral_reason(c) for c in s.reasons),
                status_text(s),
            ]
            for c, text in enumerate(cells):
                item = _item(text)
                if c == 4:
                    item.setToolTip(", ".join(s.reasons))  # the codes
                if s.watchlist:
                    item.setBackground(QColor("#fad2cf"))
                elif s.command_result in ("rejected", "failed"):
                    item.setBackground(QColor(ALERT_COLOURS["warning"]))
                self.table.setItem(r, c, item)

    def _open(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        self._open_row(rows[0].row() if rows else 0)

    def _open_row(self, row: int) -> None:
        if 0 <= row < len(self.ids):
            self.open_case.emit(self.ids[row])


def status_text(s: ReferralSummary) -> str:
    """The case's status in words, whether the traveller is still there, and the
    kiosk's answer to the last command (its reason in the kiosk's words)."""
    text = words.shown_status(s.shown_status)
    if s.command is not None and s.shown_status != "open":
        text += f" ({words.action(s.command)})"
    if s.command_result in ("rejected", "failed") and s.command_detail:
        text += f": {s.command_detail}"
    if not s.at_lane:
        text += " - " + words.tr("Traveller left the lane")
    return text


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

    def __init__(
        self, station: Station, bg: Background, zone: tzinfo, report: Callable[[str], None]
    ) -> None:
        super().__init__()
        self.station = station
        self.bg = bg
        self.zone = zone
        self.report = report
        self.view: CaseView | None = None
        self.dialog: ConfirmDialog | None = None
        layout = QVBoxLayout(self)
        self.title = QLabel("No case open")
        self.title.setObjectName("case_title")
        self.title.setStyleSheet("font-size: 17px; font-weight: bold")
        layout.addWidget(self.title)
        self.command = QLabel("")
        self.command.setObjectName("case_command")
        layout.addWidget(self.command)
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
        self.typed_hint = QLabel("")
        self.typed_hint.setObjectName("typed_hint")
        self.typed_hint.setStyleSheet("color: #b3261e")
        layout.addWidget(self.typed_hint)
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
        self.action.changed.connect(self._typed_hint)
        self.confirm_button.clicked.connect(self.confirm)
        self._enable(False)

    def _enable(self, on: bool) -> None:
        self.action.setEnabled(on)

    def show_case(self, referral_id: str) -> None:
        self.bg.run(
            lambda: self.station.case(referral_id),
            self.show_view,
            lambda exc: self.report(getattr(exc, "message", str(exc))),
        )

    def reload(self) -> None:
        if self.view is not None:
            self.show_case(str(self.view.summary.referral_id))

    def clear(self) -> None:
        self.view = None
        self.title.setText("No case open")
        self.command.setText("")
        self.details.clear()
        self.chip.clear()
        self.live.clear()
        self.action.clear()
        self._enable(False)

    def show_view(self, view: CaseView) -> None:
        same = self.view is not None and self.view.summary.referral_id == view.summary.referral_id
        if not same:
            self.action.clear()  # never carry a choice over to another traveller
        self.view = view
        s = view.summary
        self.title.setText(
            f"{s.traveller or '?'} - {s.kiosk_id} lane {s.lane} - referred "
            f"{words.local_time(s.referred_at, self.zone)} - {status_text(s)}"
        )
        self.command.setText(
            ""
            if s.command is None
            else f"{words.action(s.command)}: {words.shown_status(s.shown_status)}"
            + (f" - {s.command_detail}" if s.command_detail else "")
        )
        self.command.setStyleSheet(
            "color: #b3261e; font-weight: bold"
            if s.command_result in ("rejected", "failed")
            else ""
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
        self.details.setHtml(case_html(view, self.zone))
        self._enable(s.actionable)
        self.second_box.setVisible(s.status == "awaiting_second")
        self._typed_hint()

    def _typed_hint(self) -> None:
        view = self.view
        kind = self.action.kind.currentData()
        need = (
            view is not None
            and kind is not None
            and needs_typed_reason(str(kind), view.summary.reasons)
        )
        self.typed_hint.setText(
            words.tr("Type the reason in your own words (at least 10 characters)") if need else ""
        )

    def carry_out(self) -> None:
        view = self.view
        if view is None:
            return
        if not self.action.chosen():
            self.report("Choose an action and a reason.")
            return
        kind, reason, text = self.action.value()
        try:
            reason, text = check_case_reason(kind, reason, text, view.summary.reasons)
        except ValueError as exc:
            self.report(str(exc))
            return
        s = view.summary
        document_number = view.document.get("document_number", "")
        lines = [
            (words.tr("Traveller"), f"{s.traveller or '?'} ({document_number})"),
            (words.tr("Kiosk"), f"{s.kiosk_id} lane {s.lane}"),
            (words.tr("Action"), f"{words.action(kind)} ({kind})"),
            (words.tr("Reason"), f"{words.action_reason(kind, reason)} ({reason})"),
            (words.tr("Reasons"), "; ".join(words.referral_reason(c) for c in s.reasons)),
        ]
        if text:
            lines.append((words.tr("Your words"), text))
        if not s.at_lane:
            lines.append((words.tr("Status"), words.tr("Traveller left the lane")))
        self.dialog = ConfirmDialog(self, lines)
        self.dialog.accepted.connect(lambda: self._resolve(s.referral_id, kind, reason, text))
        self.dialog.open()

    def _resolve(self, rid: Any, kind: str, reason: str, text: str) -> None:
        def done(result: Any) -> None:
            if result.status == "awaiting_second":
                self.report("Watchlist case: a second officer must confirm the admit.")
            else:
                self.report(f"{kind} sent to {self.view.summary.kiosk_id if self.view else ''}.")
            self.action.clear()
            self.reload()
            self.resolved.emit()

        self.bg.run(
            lambda: self.station.resolve(rid, kind, reason, text),
            done,
            lambda exc: self.report(getattr(exc, "message", str(exc))),
        )

    def confirm(self) -> None:
        view = self.view
        if view is None:
            return
        officer_id, secret = self.second_id.text(), self.second_secret.text()
        self.second_secret.clear()

        def done(_result: object) -> None:
            self.report("Admit confirmed by the second officer.")
            self.reload()
            self.resolved.emit()

        self.bg.run(
            lambda: self.station.confirm(view.summary.referral_id, officer_id, secret),
            done,
            lambda exc: self.report(getattr(exc, "message", str(exc))),
        )


def _esc(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def case_html(view: CaseView, zone: tzinfo = UTC) -> str:
    doc = view.document
    rows = "".join(
        f"<tr><td>{_esc(words.field(k))}</td><td><b>{_esc(words.plain_value(v, zone))}</b></td>"
        f"<td style='color:#777'>{_esc(k)}</td></tr>"
        for k, v in doc.items()
    )
    auth = "".join(
        f"<tr><td>{_esc(n)}</td><td><b>{_esc(r)}</b></td><td>{_esc(why)}</td></tr>"
        for n, r, why in view.authentication()
    )
    trace = "".join(f"<li>{_esc(line)}</li>" for line in view.trace())
    transit = "".join(
        f"<tr><td>{_esc(words.field(k))}</td><td>{_esc(words.plain_value(v, zone))}</td>"
        f"<td style='color:#777'>{_esc(k)}</td></tr>"
        for k, v in view.transit().items()
    )
    history = "".join(
        f"<li>{_esc(words.plain_value(h['at'], zone))} {_esc(h['what'])} by {_esc(h['officer'])}"
        f"{' + ' + _esc(h['second_officer']) if h.get('second_officer') else ''}: "
        f"{_esc(h['reason'])} {_esc(h['text'])}</li>"
        for h in view.history
    )
    reasons = "".join(
        f"<li>{_esc(words.referral_reason(c))} <span style='color:#777'>({_esc(c)})</span></li>"
        for c in view.summary.reasons
    )
    watch = ""
    if view.watchlist_entry is not None:
        w = view.watchlist_entry
        watch = (
            f"<h3 style='color:#b3261e'>Watchlist hit - never tell the traveller</h3>"
            f"<p>Entry {_esc(w.get('key'))}; {_esc(w.get('provenance'))}; "
            f"{_esc(w.get('note', ''))}</p>"
        )
    return (
        f"<h3>Reasons</h3><ul>{reasons or '<li>none</li>'}</ul>{watch}"
        f"<h3>Document (MRZ / DG1)</h3><table>{rows}</table>"
        f"<h3>Chip and document checks</h3><table>{auth}</table>"
        f"<h3>Policy decision: {_esc(view.case.get('decision'))}</h3><ol>{trace}</ol>"
        f"<h3>Transit</h3><table>{transit}</table>"
        f"<h3>History</h3><ul>{history or '<li>no action yet</li>'}</ul>"
    )


class StatsPage(QWidget):
    """Clearance charts (the same figure as `egate report --format png`), computed
    and drawn on the worker thread."""

    def __init__(self, station: Station, bg: Background, report: Callable[[str], None]) -> None:
        super().__init__()
        self.station = station
        self.bg = bg
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
        hours = int(self.period.currentData())
        group = str(self.group.currentData())
        station = self.station

        def compute() -> tuple[Any, bytes]:
            import io

            from kiosk.supervisor.report import charts

            end = station.clock.now()
            stats = station.statistics(end - timedelta(hours=hours), end, group)
            buffer = io.BytesIO()
            charts(stats).savefig(buffer, format="png", dpi=80)
            return stats, buffer.getvalue()

        self.bg.run(compute, self._show, lambda exc: self.report(getattr(exc, "message", str(exc))))

    def _show(self, result: tuple[Any, bytes]) -> None:
        stats, png = result
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
        pix = QPixmap()
        pix.loadFromData(png)
        self.chart.setPixmap(pix)
