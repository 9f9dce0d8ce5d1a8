"""The station's screens tell the truth and make the officer choose (issue 18
items 6 and 7), under pytest-qt on the SQLite stand-in with fake-device lanes:
alerts with colour, icon and sound; a rejected command in the queue and the case;
no default action; a confirmation naming traveller, action and reason; a typed
reason for risky admits; local times with the port's zone; Chinese words."""

from __future__ import annotations

import threading
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.lane.states import LaneState
from kiosk.supervisor.audit import actions
from tests.supervisor.test_window import Desk
from ui.i18n import TRANSLATIONS, Translations
from ui.supervisor import words

S = LaneState
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def desk(tmp_path: Path, qtbot: QtBot) -> Iterator[Desk]:
    d = Desk(tmp_path, qtbot)
    d.window.zone = d.window.queue.zone = d.window.case.zone = SHANGHAI
    yield d
    d.window.close()
    d.engine.dispose()


def _referral_actions(desk: Desk) -> list[str]:
    return [a.kind for a in actions(desk.engine) if a.referral_id is not None]


def test_no_default_action_and_a_confirmation_naming_everything(desk: Desk) -> None:
    lane = desk.lane("K1")
    tx = lane.traveller(face_match=False)
    desk.cycle()
    desk.sign_in("A1", "ada-secret-1")
    desk.open_case(tx)
    case = desk.window.case
    picker = case.action
    assert picker.kind.currentData() is None and picker.reason.currentData() is None
    assert not picker.go.isEnabled()  # one click does nothing: nothing is chosen
    picker.choose("refuse", "document_invalid")
    desk.qtbot.mouseClick(picker.go, Qt.MouseButton.LeftButton)
    dialog = case.dialog
    assert dialog is not None and dialog.isVisible()
    text = dialog.text()
    assert "ANNA MARIA ERIKSSON" in text and "L898902C3" in text  # the traveller
    assert "Refuse" in text and "Document invalid or not genuine" in text
    assert dialog.cancel.isDefault() and not dialog.ok.isDefault()  # Enter cancels
    desk.qtbot.mouseClick(dialog.cancel, Qt.MouseButton.LeftButton)
    desk.settle()
    assert _referral_actions(desk) == []  # cancelled: nothing was done
    desk.carry_out(picker)
    assert _referral_actions(desk) == ["refuse"]
    assert picker.kind.currentData() is None  # the choice does not linger


def test_an_admit_after_a_face_mismatch_needs_a_typed_reason(desk: Desk) -> None:
    lane = desk.lane("K1")
    tx = lane.traveller(face_match=False)
    desk.cycle()
    desk.sign_in("A1", "ada-secret-1")
    desk.open_case(tx)
    case = desk.window.case
    case.action.choose("admit", "identity_confirmed", "ok")
    assert "own words" in case.typed_hint.text()
    desk.qtbot.mouseClick(case.action.go, Qt.MouseButton.LeftButton)
    assert case.dialog is None
    assert "typed out" in desk.window.status.text()
    assert _referral_actions(desk) == []
    case.action.choose("admit", "identity_confirmed", "compared the face with the passport")
    lane.rig.face.match = True  # the kiosk's fresh capture before the admit matches
    desk.carry_out(case.action)
    assert _referral_actions(desk) == ["admit"]
    lane.rig.face.match = True  # the fresh capture before the gate opens matches
    desk.cycle()
    assert lane.rig.gate.state == "open"


def test_local_time_with_the_zone(desk: Desk) -> None:
    lane = desk.lane("K1")
    tx = lane.traveller(face_match=False)
    desk.cycle()
    desk.sign_in("A1", "ada-secret-1")
    # FakeClock starts at 2026-03-01 02:30 UTC: 10:30 in Shanghai.
    shown = desk.cell(desk.window.queue.table, 0, 0)
    assert shown.startswith("2026-03-01 10:30") and shown.endswith("CST (UTC+08:00)")
    desk.open_case(tx)
    title = desk.window.case.title.text()
    assert "10:30" in title and "UTC+08:00" in title
    html = desk.window.case.details.toPlainText()
    assert "Date of birth" in html and "birth_date" in html  # words, the code beside


def test_passport_left_alert_has_colour_icon_and_sound_once(desk: Desk) -> None:
    lane = desk.lane("K1")
    tx = lane.traveller(face_match=False)
    desk.cycle()
    desk.sign_in("A1", "ada-secret-1")
    before = desk.window.sounds  # the waiting-for-officer warning sounded
    desk.open_case(tx)
    desk.window.case.action.choose("manual", "interview_needed")
    desk.carry_out(desk.window.case.action)
    desk.cycle()
    assert lane.rig.lane.state is S.DOCUMENT_LEFT
    t = desk.window.lanes.table
    assert desk.cell(t, 0, 3) == "Passport left on the reader"
    alerts = t.item(0, 9)
    assert "Passport left on the reader" in alerts.text()
    assert not alerts.icon().isNull()
    assert alerts.background().color().name() == "#fdd663"
    assert desk.window.sounds == before + 1
    assert "Passport left on the reader" in desk.window.status.text()
    desk.refresh()
    assert desk.window.sounds == before + 1  # an alert sounds when it appears, not again
    assert "1 need attention" in desk.window.lanes.summary.text()


def test_a_rejected_admit_stays_in_the_queue_with_the_kiosk_reason(desk: Desk) -> None:
    lane = desk.lane("K1")
    tx = lane.traveller(face_match=False)
    desk.cycle()
    lane.rig.reader.remove()  # the traveller takes the passport and walks off
    lane.rig.lane.run_pending()
    desk.clock.advance(601)
    lane.rig.lane.run_pending()
    desk.sign_in("A1", "ada-secret-1")
    desk.cycle()
    q = desk.window.queue
    assert "Traveller left the lane" in desk.cell(q.table, 0, 5)
    desk.open_case(tx)
    desk.window.case.action.choose("admit", "identity_confirmed", "seen at the desk, all fine")
    desk.carry_out(desk.window.case.action)
    desk.cycle()
    assert lane.rig.gate.opened_count == 0
    assert q.table.rowCount() == 1  # still in the queue
    assert desk.cell(q.table, 0, 5).startswith("Kiosk rejected the command (Admit)")
    desk.open_case(tx)
    assert "Kiosk rejected the command" in desk.window.case.command.text()
    assert "kiosk rejected" in desk.window.case.details.toPlainText()


def test_every_station_word_has_a_chinese_translation(qtbot: QtBot) -> None:
    tree = ET.parse(TRANSLATIONS / "egate_zh_CN.ts")
    translated = {
        m.findtext("source"): m.findtext("translation")
        for c in tree.getroot().iter("context")
        if c.findtext("name") == words.CONTEXT
        for m in c.iter("message")
    }
    missing = [e for e in words.every_english() if not translated.get(e)]
    assert missing == []
    qm = TRANSLATIONS / "egate_zh_CN.qm"
    assert qm.stat().st_mtime >= (TRANSLATIONS / "egate_zh_CN.ts").stat().st_mtime - 1
    t = Translations()
    try:
        assert t.use("zh_CN")
        assert words.state("passport_left") == translated["Passport left on the reader"]
        assert words.referral_reason("no_entry_basis") == translated["No basis for entry"]
        assert words.field("birth_date") == translated["Date of birth"]
    finally:
        t.use("en")
    assert words.state("passport_left") == "Passport left on the reader"


def test_no_database_call_on_the_gui_thread(desk: Desk) -> None:
    from sqlalchemy import event

    lane = desk.lane("K1")
    tx = lane.traveller(face_match=False)
    lane.cycle()
    on_gui: list[str] = []

    def check(*_args: object) -> None:
        if threading.current_thread() is threading.main_thread():
            on_gui.append(traceback.format_stack(limit=12)[0])

    event.listen(desk.engine, "before_cursor_execute", check)
    try:
        desk.sign_in("S1", "sam-secret-3")
        desk.refresh()
        desk.open_case(tx)
        desk.window.case.action.choose("manual", "interview_needed")
        desk.carry_out(desk.window.case.action)
        stats = desk.window.stats
        desk.qtbot.mouseClick(stats.button, Qt.MouseButton.LeftButton)
        desk.settle()
        desk.qtbot.keyClick(desk.window.case.action.text, Qt.Key.Key_A)
        desk.settle()
        desk.qtbot.mouseClick(desk.window.sign_out_button, Qt.MouseButton.LeftButton)
        desk.settle()
    finally:
        event.remove(desk.engine, "before_cursor_execute", check)
    assert on_gui == []
    assert [a.kind for a in actions(desk.engine)][-1] == "sign_out"
