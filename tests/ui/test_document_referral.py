"""Issue 22, item 3: a document that decides a referral by itself (expired, not
authentic) is referred before the face and boarding-pass steps, and the step indicator
shows the same steps for the whole transaction."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pytestqt.qtbot import QtBot

from kiosk.lane.events import Start
from kiosk.lane.machine import LaneRunner
from kiosk.lane.states import LaneState
from kiosk.ports import AuthenticityResult
from kiosk.simulation.simulated_kiosk import sample
from tests.ui.test_journeys import Journey
from tests.workflow.fakes import Rig
from ui.bridge import LaneBridge
from ui.traveller.window import TravellerWindow

S = LaneState


def test_an_expired_passport_is_referred_before_face_and_boarding_pass(
    tmp_path: Path, qtbot: QtBot,
) -> None:
    # Expired and without a journey on file: the old order asked for the face, then
    # for a boarding pass, and only then referred.
    expired = replace(sample("deu-expired"), key="deu-expired-no-onward", onward=None,
                      arrived_from=None)
    j = Journey(tmp_path, qtbot)
    j.kiosk.prepare([expired])
    j.start()
    try:
        j.begin()
        j.kiosk.present(expired)
        j.wait_state(S.REFERRED)
        seen = set(j.window.states_seen)
        assert S.CAPTURING_FACE not in seen
        assert S.SCANNING_BOARDING_PASS not in seen
        assert j.kiosk.gate.opened_count == 0
        officer = j.window.result.snapshot.officer if j.window.result.snapshot else {}
        assert "document_expired" in officer["reasons"]
        # No reason for a check that was not made.
        assert "face_mismatch" not in officer["reasons"]
        assert officer["checks"]["face_capture"].startswith("skipped")
    finally:
        j.stop()


def test_the_step_indicator_keeps_its_steps_for_the_whole_transaction(
    tmp_path: Path, qtbot: QtBot,
) -> None:
    rig = Rig(tmp_path)
    asked: list[bool] = []

    def boarding_pass(facts, camera, timeout, skipped, now):  # type: ignore[no-untyped-def]
        asked.append(True)
        return None  # nothing scanned

    rig.lane.services.boarding_pass = boarding_pass
    policy = rig.policy.evaluate

    def no_journey(case):  # type: ignore[no-untyped-def]
        d = policy(case)
        return replace(d, decision="refer", reasons=(*d.reasons, "no_onward_journey"))

    rig.policy.evaluate = no_journey  # type: ignore[method-assign]
    window = TravellerWindow(("zh_CN", "en"))
    qtbot.addWidget(window)
    bridge = LaneBridge()
    bridge.changed.connect(window.show_snapshot)
    rig.lane.add_observer(bridge)
    counts: list[int] = []
    bridge.changed.connect(lambda s: counts.append(len(window.steps.steps()))
                           if window.steps.isVisibleTo(window) else None)
    runner = LaneRunner(rig.lane, poll_s=0.01)
    window.show()
    runner.start()
    try:
        rig.lane.post(Start("en"))
        qtbot.waitUntil(lambda: S.WAITING_FOR_DOCUMENT in window.states_seen, timeout=3000)
        rig.reader.place()
        qtbot.waitUntil(lambda: S.REFERRED in window.states_seen, timeout=5000)
    finally:
        runner.stop()
    assert asked, "the boarding-pass step was not reached"
    assert S.SCANNING_BOARDING_PASS in window.states_seen
    assert counts and set(counts) == {4}, counts  # 4 from "place your passport" on


def test_a_forged_document_skips_the_face_unless_the_officer_wants_it(tmp_path: Path) -> None:
    for wants, face_calls in ((False, 0), (True, 1)):
        rig = Rig(tmp_path / str(wants), face={"for_document_referrals": wants})
        rig.auth.result = AuthenticityResult(False, "hash_mismatch_dg1", {})
        rig.lane.post(Start("en"))
        rig.lane.run_pending()
        rig.reader.place()
        rig.lane.run_pending()
        assert rig.lane.state is S.REFERRED
        assert rig.face.calls == face_calls
        assert rig.snapshots[-1].officer["reasons"] == ["document_not_authentic"]
