"""Issue 22, item 1: the traveller's own language once the passport is read (DG1
nationality), the traveller's touch always winning, and an idle welcome that shows
every language in turn."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.lane.events import ChangeLanguage, Start
from kiosk.lane.machine import LaneRunner
from kiosk.lane.snapshot import LaneSnapshot
from kiosk.lane.states import LaneState
from tests.workflow.fakes import FACTS, Rig
from ui.bridge import LaneBridge
from ui.i18n import spoken
from ui.traveller.passport_language import passport_language
from ui.traveller.speech import SilentSpeaker
from ui.traveller.window import TravellerWindow

LANGUAGES = ("zh_CN", "en", "ja", "ko", "ru")
# The take-your-passport title in each language (ui/translations/egate_*.ts).
TAKE = {"en": "Take your passport", "zh_CN": "请取回护照"}


class RecordingSpeaker(SilentSpeaker):
    def __init__(self) -> None:
        super().__init__()
        self.said: list[tuple[str, str]] = []

    def say(self, text: str, language: str) -> None:
        self.said.append((spoken(text), language))


def wire(rig: Rig, qtbot: QtBot, nationality: str) -> tuple[TravellerWindow, LaneRunner,
                                                            RecordingSpeaker]:
    rig.lane.services = replace(rig.lane.services,
                                document_facts=lambda files: replace(FACTS,
                                                                     nationality=nationality))
    speaker = RecordingSpeaker()
    window = TravellerWindow(LANGUAGES, speaker=speaker)
    qtbot.addWidget(window)
    bridge = LaneBridge()
    bridge.changed.connect(window.show_snapshot)
    rig.lane.add_observer(bridge)
    window.start_requested.connect(lambda lang: rig.lane.post(Start(lang)))
    window.language_changed.connect(lambda lang: rig.lane.post(ChangeLanguage(lang)))
    window._bridge = bridge  # type: ignore[attr-defined]  # keep alive
    window.show()
    return window, LaneRunner(rig.lane, poll_s=0.01), speaker


def place_passport_and_wait(rig: Rig, window: TravellerWindow, qtbot: QtBot) -> None:
    rig.reader.place()  # as the welcome invites: no language touched
    qtbot.waitUntil(lambda: LaneState.RETURNING_DOCUMENT in window.states_seen, timeout=3000)
    qtbot.waitUntil(lambda: window.progress.message == "take_passport", timeout=3000)


@pytest.mark.parametrize(("nationality", "language", "title"), [
    ("CAN", "en", "Take your passport"),
    ("JPN", "ja", None),
    ("RUS", "ru", None),
    ("KOR", "ko", None),
    ("DEU", "en", "Take your passport"),  # not in the table: English
])
def test_the_passport_decides_the_language(
    tmp_path: Path, qtbot: QtBot, nationality: str, language: str, title: str | None,
) -> None:
    rig = Rig(tmp_path)
    window, runner, speaker = wire(rig, qtbot, nationality)
    runner.start()
    try:
        assert window.language == "zh_CN"  # the lane's first language until DG1 is read
        place_passport_and_wait(rig, window, qtbot)
        assert window.language == language
        assert window.top.buttons[language].isChecked()
        if title is not None:
            assert window.progress.title.raw == title
        else:
            assert window.progress.title.raw not in TAKE.values()
        # The lane follows (its snapshots, records and the referral text) ...
        qtbot.waitUntil(lambda: rig.lane.last_snapshot.language == language, timeout=3000)
        # ... and so does speech: the last prompt in the passport's language.
        assert speaker.said and speaker.said[-1][1] == language
    finally:
        runner.stop()


def test_a_language_the_traveller_touched_is_kept(tmp_path: Path, qtbot: QtBot) -> None:
    rig = Rig(tmp_path)
    window, runner, _ = wire(rig, qtbot, "CAN")
    runner.start()
    try:
        qtbot.mouseClick(window.welcome.buttons["zh_CN"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.progress, timeout=3000)
        place_passport_and_wait(rig, window, qtbot)
        assert window.language == "zh_CN"
        assert window.progress.title.raw == TAKE["zh_CN"]
    finally:
        runner.stop()


def test_a_touch_on_the_language_bar_mid_transaction_wins(tmp_path: Path, qtbot: QtBot) -> None:
    rig = Rig(tmp_path)
    window, runner, _ = wire(rig, qtbot, "JPN")
    runner.start()
    try:
        rig.lane.post(Start("zh_CN"))  # a start not touched by the traveller (the passport)
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.progress, timeout=3000)
        qtbot.mouseClick(window.top.buttons["ru"], Qt.MouseButton.LeftButton)
        place_passport_and_wait(rig, window, qtbot)
        assert window.language == "ru"
    finally:
        runner.stop()


def test_the_next_traveller_gets_their_own_language_again(tmp_path: Path, qtbot: QtBot) -> None:
    rig = Rig(tmp_path)
    window, runner, _ = wire(rig, qtbot, "CAN")
    runner.start()
    try:
        qtbot.mouseClick(window.welcome.buttons["zh_CN"], Qt.MouseButton.LeftButton)
        place_passport_and_wait(rig, window, qtbot)
        assert window.language == "zh_CN"
        rig.reader.remove()
        qtbot.waitUntil(lambda: rig.lane.state is LaneState.ADMITTED, timeout=3000)
        rig.gate.walk_through()
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.welcome, timeout=3000)
        window.states_seen.clear()
        place_passport_and_wait(rig, window, qtbot)  # the last traveller's touch is gone
        assert window.language == "en"
    finally:
        runner.stop()


def test_passport_language_waits_for_dg1_and_falls_back_to_english() -> None:
    reading = LaneSnapshot(LaneState.READING_CHIP, "t", "zh_CN", "reading_chip")
    assert passport_language(reading, LANGUAGES) is None
    verifying = replace(reading, state=LaneState.VERIFYING_DOCUMENT)
    assert passport_language(verifying, LANGUAGES) == "en"
    assert passport_language(replace(verifying, offered_language="ja"), LANGUAGES) == "ja"
    # A lane without Japanese: English, not a language it cannot show.
    assert passport_language(replace(verifying, offered_language="ja"), ("zh_CN", "en")) == "en"
    assert passport_language(verifying, ("zh_CN",)) is None
    # A chip that could not be read ends referred with no nationality: no switch.
    referred = replace(reading, state=LaneState.REFERRED)
    assert passport_language(referred, LANGUAGES) is None


def test_the_idle_welcome_shows_every_language_in_turn(qtbot: QtBot) -> None:
    window = TravellerWindow(LANGUAGES)
    qtbot.addWidget(window)
    window.show()
    titles = []
    for _ in LANGUAGES:
        titles.append((window.language, window.welcome.title.raw))
        window.cycle_welcome_language()
    assert [lang for lang, _ in titles] == list(LANGUAGES)
    assert len({title for _, title in titles}) == len(LANGUAGES)
    assert window.language == LANGUAGES[0]  # round again
    # The timer does it by itself.
    window._cycle.setInterval(20)
    qtbot.waitUntil(lambda: window.language != LANGUAGES[0], timeout=2000)


def test_the_welcome_stops_cycling_once_a_traveller_is_served(qtbot: QtBot) -> None:
    window = TravellerWindow(LANGUAGES)
    qtbot.addWidget(window)
    window.show()
    window.show_snapshot(LaneSnapshot(LaneState.WAITING_FOR_DOCUMENT, "t", "ko",
                                      "place_passport"))
    window.cycle_welcome_language()
    assert window.language == "ko"


def test_only_the_active_language_is_highlighted(qtbot: QtBot) -> None:
    window = TravellerWindow(LANGUAGES)
    qtbot.addWidget(window)
    window.show()
    window.show_snapshot(LaneSnapshot(LaneState.VERIFYING_DOCUMENT, "t", "zh_CN",
                                      "verifying_document", offered_language="ja"))
    checked = [lang for lang, b in window.top.buttons.items() if b.isChecked()]
    assert checked == ["ja"]
    sheet = window.styleSheet()
    assert "offered" not in sheet  # no second highlight style


def test_a_closed_window_no_longer_cycles(qtbot: QtBot) -> None:
    window = TravellerWindow(LANGUAGES)
    qtbot.addWidget(window)
    window.show()
    window.close()
    window.cycle_welcome_language()
    assert window.language == LANGUAGES[0]
