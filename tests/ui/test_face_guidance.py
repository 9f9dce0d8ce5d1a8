"""Issue 22, item 4 (the face step): guidance only from what the analysis sees, an empty
camera asked to step in front of it and given a second try before any referral, a
countdown never at "0 s", and no line that repeats the title."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from kiosk.lane.events import Start
from kiosk.lane.snapshot import LaneSnapshot
from kiosk.lane.states import LaneState
from kiosk.ports import FaceVerification
from tests.workflow.fakes import Rig
from ui.traveller import strings as T
from ui.traveller.window import TravellerWindow

S = LaneState
LANGUAGES = ("zh_CN", "en", "ja", "ko", "ru")


def nobody_then(rig: Rig, empty_tries: int) -> list[str]:
    """The rig's face verifier sees nobody `empty_tries` times, then the traveller."""
    real = rig.face.verify
    outcomes: list[str] = []

    def verify(reference: Any, camera: Any, budget_s: float) -> FaceVerification:
        if len(outcomes) < empty_tries:
            rig.face.calls += 1
            outcomes.append("no_face")
            return FaceVerification("no_face", False, "not_checked", None, 0.5, 0, 0.0)
        outcomes.append("match")
        return real(reference, camera, budget_s)

    rig.face.verify = verify  # type: ignore[method-assign]
    return outcomes


def run(rig: Rig) -> None:
    rig.lane.post(Start("en"))
    rig.lane.run_pending()
    rig.reader.place()
    rig.lane.run_pending()


def test_an_empty_camera_gets_a_second_try_before_any_referral(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    outcomes = nobody_then(rig, 1)
    run(rig)
    assert outcomes == ["no_face", "match"]
    assert rig.lane.state is S.RETURNING_DOCUMENT  # admitted on the second try
    second = [s for s in rig.snapshots if s.state is S.CAPTURING_FACE and s.attempt == 2]
    assert second and second[0].guidance == "no_face"


def test_nobody_at_either_try_is_referred_after_the_second(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    outcomes = nobody_then(rig, 5)
    run(rig)
    assert outcomes == ["no_face", "no_face"]
    assert rig.lane.state is S.REFERRED and rig.gate.opened_count == 0
    assert rig.snapshots[-1].officer["checks"]["face_attempts"] == 2


def test_the_number_of_tries_is_configurable(tmp_path: Path) -> None:
    rig = Rig(tmp_path, face={"attempts": 1})
    outcomes = nobody_then(rig, 5)
    run(rig)
    assert outcomes == ["no_face"] and rig.lane.state is S.REFERRED


def face_snapshot(guidance: str | None, **kw: Any) -> LaneSnapshot:
    return LaneSnapshot(S.CAPTURING_FACE, "t", "en", "look_at_camera", guidance=guidance,
                        deadline_s=10.0, **kw)


@pytest.fixture
def window(qtbot: QtBot) -> TravellerWindow:
    w = TravellerWindow(LANGUAGES)
    qtbot.addWidget(w)
    w.choose_language("en")
    w.show()
    return w


def test_hat_and_sunglasses_only_when_the_analysis_sees_them(window: TravellerWindow) -> None:
    window.show_snapshot(face_snapshot(None))
    assert window.face.guidance.raw == ""  # nothing seen yet: no guess
    assert T.REMOVE_HAT not in window.visible_texts()
    window.show_snapshot(face_snapshot("hold_still"))
    assert window.face.guidance.raw == "Please hold still"
    window.show_snapshot(face_snapshot("hat_or_sunglasses"))
    assert window.face.guidance.raw == T.REMOVE_HAT


def test_an_empty_camera_is_asked_to_step_in_front(window: TravellerWindow) -> None:
    window.show_snapshot(face_snapshot("no_face"))
    assert window.face.guidance.raw == "Please step in front of the camera"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_guidance_repeats_the_title(window: TravellerWindow, language: str) -> None:
    window.choose_language(language)
    for code in T.GUIDANCE:
        window.show_snapshot(replace(face_snapshot(code), language=language,
                                     offered_language=language))
        assert window.language == language
        title, line = window.face.title.raw, window.face.guidance.raw
        assert line and line != title, (language, code, line)


def test_the_countdown_never_shows_zero(window: TravellerWindow) -> None:
    window.show_snapshot(face_snapshot("hold_still"))
    window._since = time.monotonic() - 9.7  # 0.3 s left
    window._tick()
    assert window.face.seconds_left == 1
    window._since = time.monotonic() - 16.0  # over: the lane is finishing the capture
    window._tick()
    assert window.face.seconds_left is None
    assert not any("0 s" in t for t in window.visible_texts())


def test_a_second_try_restarts_the_countdown(window: TravellerWindow) -> None:
    window.show_snapshot(face_snapshot("no_face"))
    window._since = time.monotonic() - 9.5
    window._tick()
    assert window.face.seconds_left == 1
    window.show_snapshot(face_snapshot("no_face", attempt=2))
    assert window.face.seconds_left == 10
