"""Spoken prompts: each screen's instruction in the traveller's language through
an injected speaker; mute silences it; no engine means silence, reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kiosk.config import ConfigError, parse_config
from ui.screenshots import SCREENS
from ui.traveller.speech import RecordingSpeaker, SilentSpeaker, make_speaker
from ui.traveller.window import TravellerWindow


def window_with(qtbot: QtBot) -> tuple[TravellerWindow, RecordingSpeaker]:
    speaker = RecordingSpeaker()
    window = TravellerWindow(("zh_CN", "en", "ja", "ko", "ru"), speaker=speaker)
    qtbot.addWidget(window)
    window.show()
    return window, speaker


def test_each_screen_is_spoken_in_the_chosen_language(qtbot: QtBot) -> None:
    window, speaker = window_with(qtbot)
    for snap in SCREENS["place_passport"]:
        window.show_snapshot(snap)  # a new traveller: the lane's language (en)
    assert speaker.spoken[-1][0] == "en"
    assert speaker.spoken[-1][1].startswith("Place your passport on the reader")
    window.choose_language("ja")
    assert speaker.spoken[-1][0] == "ja"
    said = speaker.spoken[-1][1]
    assert said.startswith("パスポートを読取機に置いてください")
    assert "\u2060" not in said and "\u200b" not in said  # no line-break marks read out
    for snap in SCREENS["referred"]:
        window.show_snapshot(snap)
    assert speaker.spoken[-1][1].startswith("係員にお申し出ください")
    window.choose_language("ru")  # switching speaks the screen again, in the new language
    assert speaker.spoken[-1] == ("ru", speaker.spoken[-1][1])
    assert speaker.spoken[-1][1].startswith("Обратитесь к сотруднику")


def test_mute_silences_every_prompt(qtbot: QtBot) -> None:
    window, speaker = window_with(qtbot)
    window.top.mute.click()
    assert speaker.muted and window.top.mute.accessibleName() == "打开声音"  # "Sound on"
    for name in ("place_passport", "face", "admitted"):
        for snap in SCREENS[name]:
            window.show_snapshot(snap)
    assert speaker.spoken == []


def test_no_engine_is_silence_with_a_reason(qapp: QApplication) -> None:
    off = make_speaker(False)
    assert isinstance(off, SilentSpeaker) and "off" in off.reason
    for engine in ("auto", "espeak-ng", "speechd"):
        speaker = make_speaker(True, engine)  # whatever this machine has: never raises
        speaker.say("test", "en")
        speaker.stop()
        if isinstance(speaker, SilentSpeaker):
            assert speaker.reason


def test_without_espeak_ng_the_named_engine_falls_back_to_silence(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng program on the PATH
    speaker = make_speaker(True, "espeak-ng")
    assert isinstance(speaker, SilentSpeaker)
    assert speaker.reason == "espeak-ng is not installed"
    speaker.say("Please wait", "en")  # silence, no error


def test_speech_engine_is_validated_by_the_configuration() -> None:
    assert parse_config({}).kiosk.speech_engine == "auto"
    assert parse_config({"kiosk": {"speech_engine": "speechd"}}).kiosk.speech_engine == "speechd"
    with pytest.raises(ConfigError, match=r"kiosk\.speech_engine: 'festival' is not one of"):
        parse_config({"kiosk": {"speech_engine": "festival"}})
