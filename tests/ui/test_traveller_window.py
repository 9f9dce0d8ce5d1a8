"""The traveller window driven by a lane on its worker thread (fake services)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, Qt
from pytestqt.qtbot import QtBot

from kiosk.lane.events import Start
from kiosk.lane.machine import LaneRunner
from kiosk.lane.states import LaneState
from policy.messages import REFERRAL_MESSAGE
from tests.workflow.fakes import Rig
from ui.bridge import LaneBridge
from ui.heartbeat import Heartbeat
from ui.traveller.strings import all_sources
from ui.traveller.window import TravellerWindow


def wire(rig: Rig, qtbot: QtBot) -> tuple[TravellerWindow, LaneRunner]:
    window = TravellerWindow(("zh_CN", "en"))
    qtbot.addWidget(window)
    bridge = LaneBridge()
    bridge.changed.connect(window.show_snapshot)
    rig.lane.add_observer(bridge)
    window.start_requested.connect(lambda lang: rig.lane.post(Start(lang)))
    runner = LaneRunner(rig.lane, poll_s=0.01)
    window._bridge = bridge  # type: ignore[attr-defined]  # keep alive
    window.show()
    return window, runner


def test_chinese_journey_shows_each_screen_in_chinese(tmp_path: Path, qtbot: QtBot) -> None:
    rig = Rig(tmp_path)
    window, runner = wire(rig, qtbot)
    runner.start()
    try:
        qtbot.mouseClick(window.welcome.buttons["zh_CN"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.progress, timeout=3000)
        assert window.progress.title.raw == "请将护照放在阅读器上"
        rig.reader.place()
        qtbot.waitUntil(lambda: LaneState.RETURNING_DOCUMENT in window.states_seen, timeout=3000)
        assert window.progress.title.raw == "请取回护照"
        rig.reader.remove()
        qtbot.waitUntil(lambda: LaneState.ADMITTED in window.states_seen, timeout=3000)
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.result, timeout=3000)
        assert window.result.title.raw == "请通过闸门"
        assert window.result.detail.raw == "欢迎来到中国"
    finally:
        runner.stop()


def test_referral_screen_never_names_watchlist(tmp_path: Path, qtbot: QtBot) -> None:
    rig = Rig(tmp_path)
    rig.watch = True
    rig.face.match = False
    window, runner = wire(rig, qtbot)
    runner.start()
    try:
        rig.lane.post(Start("en"))
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.progress, timeout=3000)
        rig.reader.place()
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.result, timeout=3000)
        text = " ".join(window.visible_texts()).lower()
        assert "see an officer" in text
        assert "watch" not in text and "face" not in text
        assert window.result.snapshot is not None
        assert "watchlist_hit" in window.result.snapshot.officer["reasons"]
        assert window.result.snapshot.traveller_reasons == ("face_mismatch",)
        assert window.result.detail.raw == REFERRAL_MESSAGE["en"]
    finally:
        runner.stop()


def test_gui_thread_never_stalls_over_100ms(tmp_path: Path, qtbot: QtBot) -> None:
    rig = Rig(tmp_path)
    window, runner = wire(rig, qtbot)
    beat = Heartbeat()
    beat.start()
    runner.start()
    try:
        for _ in range(3):
            rig.lane.post(Start("en"))
            qtbot.waitUntil(lambda: rig.lane.state is LaneState.WAITING_FOR_DOCUMENT, timeout=3000)
            rig.reader.place()
            qtbot.waitUntil(lambda: rig.lane.state is LaneState.RETURNING_DOCUMENT, timeout=3000)
            rig.reader.remove()
            qtbot.waitUntil(lambda: rig.lane.state is LaneState.ADMITTED, timeout=3000)
            rig.gate.walk_through()
            qtbot.waitUntil(lambda: rig.lane.state is LaneState.IDLE, timeout=3000)
            qtbot.waitUntil(lambda: window.stack.currentWidget() is window.welcome, timeout=3000)
    finally:
        runner.stop()
        beat.stop()
    assert beat.max_stall_ms < 100, (
        f"GUI thread stalled {beat.max_stall_ms:.0f} ms (longest gap {beat.max_gap_ms:.0f} ms)"
    )


@pytest.mark.parametrize("language", ["zh_CN", "ja", "ko", "ru"])
def test_every_ui_string_has_a_translation(language: str) -> None:
    import xml.etree.ElementTree as ET

    root = Path(__file__).resolve().parents[2] / "ui" / "translations"
    ts = root / f"egate_{language}.ts"
    translated = {m.findtext("source"): m.findtext("translation")
                  for m in ET.parse(ts).getroot().iter("message")}
    missing = sorted(s for s in all_sources() if not translated.get(s))
    assert not missing, missing
    assert (root / f"egate_{language}.qm").stat().st_mtime >= ts.stat().st_mtime - 1
    if language in ("zh_CN", "ja"):  # full-width punctuation only
        for text in translated.values():
            assert not set(text or "") & set(",.!?;:"), text
    assert QCoreApplication.translate("Traveller", "x") == "x"


def test_source_code_uses_only_catalogued_strings() -> None:
    import re

    code = "".join(p.read_text() for p in
                   (Path(__file__).resolve().parents[2] / "ui" / "traveller").glob("*.py"))
    literal = set(re.findall(r'tr\("([^"]+)"\)', code))
    assert literal <= all_sources(), literal - all_sources()


def test_watchlist_only_referral_shows_the_generic_text(tmp_path: Path, qtbot: QtBot) -> None:
    rig = Rig(tmp_path)
    rig.watch = True  # the face matches: the watchlist is the only reason
    window, runner = wire(rig, qtbot)
    runner.start()
    try:
        rig.lane.post(Start("en"))
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.progress, timeout=3000)
        rig.reader.place()
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.result, timeout=3000)
        assert window.result.snapshot is not None
        assert window.result.snapshot.traveller_reasons == ()
        # The same calm text as every referral: nothing marks the watchlist case.
        assert window.result.detail.raw == REFERRAL_MESSAGE["en"]
    finally:
        runner.stop()
