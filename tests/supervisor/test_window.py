"""The station's Qt screens under pytest-qt, on the SQLite stand-in with
fake-device lanes and their kiosk agents (FakeClock)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.border.database import create_border_engine, migrate_border
from kiosk.border.sync import BorderSync
from kiosk.clock import FakeClock
from kiosk.lane.events import GatePassed
from kiosk.lane.states import LaneState
from kiosk.supervisor.audit import actions
from kiosk.supervisor.officers import OfficerDirectory
from kiosk.supervisor.settings import StationSettings
from kiosk.supervisor.station import Station
from tests.supervisor.conftest import CHEAP, Lane
from ui.supervisor.views import ConfirmDialog
from ui.supervisor.window import SupervisorWindow

S = LaneState
# No transaction in the lane: idle, or the error / take-your-passport screen before idle.
FREE = frozenset({S.IDLE, S.DOCUMENT_LEFT, S.ERROR})


class Desk:
    def __init__(self, tmp_path: Path, qtbot: QtBot) -> None:
        self.clock = FakeClock()
        self.engine = create_border_engine(f"sqlite:///{tmp_path}/border.sqlite")
        migrate_border(self.engine)
        settings = StationSettings(
            max_failed_sign_ins=3, lockout_s=600, idle_sign_out_s=120, offline_after_s=15
        )
        directory = OfficerDirectory(self.engine, self.clock, settings, CHEAP)
        for officer_id, role, pin in (
            ("A1", "officer", "ada-secret-1"),
            ("B2", "officer", "ben-secret-2"),
            ("S1", "supervisor", "sam-secret-3"),
            ("M1", "maintenance", "max-secret-4"),
        ):
            port = "CSX" if role == "maintenance" else None  # maintenance serves one port
            directory.add(officer_id, officer_id, role, pin, port)
        self.station = Station(self.engine, self.clock, settings, directory, image_retention_h=1)
        self.window = SupervisorWindow(self.station, refresh_ms=3_600_000, listen=False)
        qtbot.addWidget(self.window)
        self.window.show()
        self.qtbot = qtbot
        self.tmp_path = tmp_path
        self.lanes: dict[str, Lane] = {}

    def lane(self, kiosk_id: str) -> Lane:
        lane = Lane(self.tmp_path, self.engine, kiosk_id, self.clock)
        self.lanes[kiosk_id] = lane
        return lane

    def settle(self) -> None:
        """Wait until the window's background calls are done and shown (event-driven)."""
        self.qtbot.waitUntil(self.window.bg.idle, timeout=10_000)

    def sign_in(self, officer_id: str, pin: str) -> None:
        page = self.window.sign_in
        page.officer_id.setText(officer_id)
        page.secret.setText(pin)
        self.qtbot.mouseClick(page.button, Qt.MouseButton.LeftButton)
        self.settle()

    def refresh(self) -> None:
        self.window.refresh()
        self.settle()

    def cycle(self) -> None:
        for lane in self.lanes.values():
            lane.cycle()
        self.refresh()

    def open_case(self, referral_id: str) -> None:
        self.window.open_case(referral_id)
        self.settle()

    def carry_out(self, picker: object, accept: bool = True) -> None:
        """Click the picker's button, then the confirmation's Carry out (or Cancel)."""
        self.qtbot.mouseClick(picker.go, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
        # The page that owns the picker (lanes or case) holds the dialog it opened.
        dialog: ConfirmDialog | None = getattr(picker.parent(), "dialog", None)  # type: ignore[attr-defined]
        if dialog is not None and dialog.isVisible():
            button = dialog.ok if accept else dialog.cancel
            self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        self.settle()

    def cell(self, table: object, row: int, col: int) -> str:
        item = table.item(row, col)  # type: ignore[attr-defined]
        return str(item.text()) if item is not None else ""


@pytest.fixture
def desk(tmp_path: Path, qtbot: QtBot) -> Iterator[Desk]:
    d = Desk(tmp_path, qtbot)
    yield d
    d.window.close()
    d.engine.dispose()


def test_sign_in_and_lockout(desk: Desk) -> None:
    w = desk.window
    assert w.stack.currentWidget() is w.sign_in
    desk.sign_in("A1", "0000")
    assert w.sign_in.error.text() == "Unknown officer id or wrong PIN."
    assert w.sign_in.secret.text() == ""  # never left in the field
    desk.sign_in("A1", "0000")
    desk.sign_in("A1", "0000")
    assert "locked" in w.sign_in.error.text().lower()
    desk.sign_in("A1", "ada-secret-1")
    assert w.stack.currentWidget() is w.sign_in  # still locked
    desk.clock.advance(601)
    desk.sign_in("A1", "ada-secret-1")
    assert w.stack.currentWidget() is w.main and "A1" in w.who.text()
    assert not w.tabs.isTabVisible(3)  # statistics are for supervisors


def test_maintenance_sees_lanes_only(desk: Desk) -> None:
    desk.lane("K1").traveller(face_match=False)
    desk.sign_in("M1", "max-secret-4")
    desk.cycle()
    w = desk.window
    assert w.lanes.table.rowCount() == 1
    assert not w.tabs.isTabVisible(1) and not w.tabs.isTabVisible(2)
    assert w.queue.table.rowCount() == 0  # no traveller data was even loaded


def test_overview_states_and_offline(desk: Desk) -> None:
    k1, k2 = desk.lane("K1"), desk.lane("K2")
    k1.traveller(face_match=False)
    desk.sign_in("A1", "ada-secret-1")
    desk.cycle()
    t = desk.window.lanes.table
    assert [desk.cell(t, r, 0) for r in range(2)] == ["K1", "K2"]
    assert desk.cell(t, 0, 3) == "Waiting for an officer" and desk.cell(t, 1, 3) == "Idle"
    assert "Traveller waiting for an officer" in desk.cell(t, 0, 9)
    desk.clock.advance(10)
    k1.agent.run_once()  # K1 keeps reporting, K2 goes silent
    desk.clock.advance(6)
    desk.window.station.touch()
    desk.refresh()
    assert desk.cell(t, 1, 3) == "Offline" and desk.cell(t, 0, 3) == "Waiting for an officer"
    assert "1 offline" in desk.window.lanes.summary.text()
    assert k2 is desk.lanes["K2"]


def test_queue_oldest_first_and_side_by_side_case(desk: Desk) -> None:
    k1, k2 = desk.lane("K1"), desk.lane("K2")
    second = k2.traveller(face_match=False)
    desk.clock.advance(5)
    k1.traveller(face_match=False)
    desk.cycle()
    desk.sign_in("A1", "ada-secret-1")
    q = desk.window.queue
    assert [desk.cell(q.table, r, 2) for r in range(2)] == ["K2", "K1"]  # oldest first
    assert q.ids[0] == second
    q.table.selectRow(0)
    desk.qtbot.mouseClick(q.open_button, Qt.MouseButton.LeftButton)
    desk.settle()
    case = desk.window.case
    assert desk.window.tabs.currentWidget() is case
    chip, live = case.chip.pixmap(), case.live.pixmap()
    assert not chip.isNull() and chip.width() > 0  # the DG2 photo
    assert live.isNull()  # the fake frame is not a decodable JPEG ...
    assert case.live.text() == "no decision frame"  # ... so the view says so
    assert case.face.text() == (
        "Face distance 0.800, threshold 0.500: NO MATCH: probably a different person"
    )
    html = case.details.toPlainText()
    assert "L898902C3" in html and "Passive authentication" in html
    assert "face_mismatch" in html and "Watchlist" not in html
    assert "Face does not match the passport photo" in html  # plain words, code beside


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        ("admit", "identity_confirmed"),
        ("refuse", "document_invalid"),
        ("manual", "interview_needed"),
    ],
)
def test_each_case_action_is_audited_and_reaches_the_lane(
    desk: Desk, action: str, reason: str
) -> None:
    lane = desk.lane("K1")
    tx = lane.traveller(face_match=False)
    desk.cycle()
    desk.sign_in("A1", "ada-secret-1")
    desk.open_case(tx)
    picker = desk.window.case.action
    picker.choose(action, reason, "checked the traveller at the desk")
    desk.carry_out(picker)
    assert desk.window.status.text() == f"{action} sent to K1."
    [audit] = [a for a in actions(desk.engine) if a.referral_id is not None]
    assert (audit.kind, audit.officer_id, audit.reason_code, audit.reason_text) == (
        action,
        "A1",
        reason,
        "checked the traveller at the desk",
    )
    lane.rig.face.match = True  # the admit's fresh capture matches the chip photo
    desk.cycle()
    assert lane.rig.gate.opened_count == (1 if action == "admit" else 0)
    assert lane.rig.lane.state is S.ADMITTED if action == "admit" else lane.rig.lane.state in FREE
    event = lane.rig.log.events()[-1]
    assert (event.outcome, event.decision, event.checks["officer_id"]) == ("officer", action, "A1")
    desk.open_case(tx)
    assert "kiosk executed" in desk.window.case.details.toPlainText()
    assert desk.window.queue.table.rowCount() == 0


def test_other_needs_text_and_lane_commands(desk: Desk) -> None:
    lane = desk.lane("K1")
    tx = lane.traveller(face_match=False)
    desk.cycle()
    desk.sign_in("S1", "sam-secret-3")
    desk.open_case(tx)
    picker = desk.window.case.action
    picker.choose("refuse", "other", "")
    desk.qtbot.mouseClick(picker.go, Qt.MouseButton.LeftButton)
    assert "needs an explanation" in desk.window.status.text()
    lanes = desk.window.lanes
    lanes.select("K1")
    lanes.command.choose("reset", "traveller_stuck")
    desk.carry_out(lanes.command)
    assert desk.window.status.text() == "reset sent to K1."
    desk.cycle()
    assert lane.rig.lane.state in FREE and lane.rig.gate.opened_count == 0
    lanes.select("K1")
    lanes.command.choose("close", "maintenance")
    desk.carry_out(lanes.command)
    desk.cycle()
    assert desk.cell(lanes.table, 0, 3) == "Closed"
    assert [a.kind for a in actions(desk.engine) if a.kiosk_id == "K1"] == ["reset", "close"]


def test_two_officer_rule_on_screen(desk: Desk) -> None:
    lane = desk.lane("K1")
    tx = lane.traveller(watchlist=True)
    desk.cycle()
    desk.sign_in("A1", "ada-secret-1")
    desk.open_case(tx)
    assert desk.window.status.text().startswith("WATCHLIST: 1 new referral")
    case = desk.window.case
    assert "never tell the traveller" in case.details.toPlainText()
    case.action.choose("admit", "identity_confirmed", "known frequent traveller, checked")
    desk.carry_out(case.action)
    assert "second officer" in desk.window.status.text()
    assert case.second_box.isVisible() and not case.action.isEnabled()
    desk.cycle()
    assert lane.rig.gate.opened_count == 0
    case.second_id.setText("A1")
    case.second_secret.setText("ada-secret-1")
    desk.qtbot.mouseClick(case.confirm_button, Qt.MouseButton.LeftButton)
    desk.settle()
    assert "someone else" in desk.window.status.text() and case.second_secret.text() == ""
    case.second_id.setText("B2")
    case.second_secret.setText("ben-secret-2")
    desk.qtbot.mouseClick(case.confirm_button, Qt.MouseButton.LeftButton)
    desk.settle()
    assert desk.window.status.text() == "Admit confirmed by the second officer."
    desk.cycle()
    assert lane.rig.gate.state == "open"


def test_inactivity_signs_out_and_clears_the_screen(desk: Desk) -> None:
    lane = desk.lane("K1")
    tx = lane.traveller(face_match=False)
    desk.cycle()
    desk.sign_in("A1", "ada-secret-1")
    desk.open_case(tx)
    desk.clock.advance(60)
    desk.qtbot.keyClick(desk.window.case.action.text, Qt.Key.Key_A)  # activity
    desk.settle()
    desk.clock.advance(100)
    desk.refresh()
    assert desk.window.stack.currentWidget() is desk.window.main
    desk.clock.advance(21)
    desk.refresh()
    w = desk.window
    assert w.stack.currentWidget() is w.sign_in
    assert w.sign_in.error.text() == "Signed out after inactivity."
    assert w.case.view is None and w.case.details.toPlainText() == ""
    assert w.case.chip.pixmap().isNull() and w.queue.table.rowCount() == 0
    assert [a.kind for a in actions(desk.engine)][-1] == "sign_out"
    assert actions(desk.engine)[-1].reason_code == "inactivity"


def test_statistics_tab_for_supervisors(desk: Desk) -> None:
    lane = desk.lane("K1")
    lane.traveller(face_match=True)
    lane.rig.lane.post(GatePassed())
    lane.rig.lane.run_pending()
    lane.traveller(face_match=False)
    BorderSync(lane.rig.log.engine, desk.engine, "K1").run_once()
    desk.clock.advance(1)  # the period ends now, exclusive
    desk.sign_in("S1", "sam-secret-3")
    stats = desk.window.stats
    stats.period.setCurrentIndex(1)  # last 24 hours
    desk.window.tabs.setCurrentWidget(stats)
    desk.qtbot.mouseClick(stats.button, Qt.MouseButton.LeftButton)
    desk.settle()
    assert stats.figures.text().startswith("2 travellers, self-service 50 %")
    assert not stats.chart.pixmap().isNull()


def test_egate_supervisor_command_starts_and_quits(tmp_path: Path, qtbot: QtBot) -> None:
    from ui.cli import main

    url = f"sqlite:///{tmp_path}/border.sqlite"
    assert main(["supervisor", "--url", url, "--quit-after", "0.3"]) == 0
    with pytest.raises(SystemExit) as refused:
        main(["supervisor", "--url", url, "--screenshots", str(tmp_path)])
    assert refused.value.code == 2  # --screenshots needs --demo
