from __future__ import annotations

from pathlib import Path

import pytest

from devices.errors import AccessDeniedError, DeviceFault, MrzUnreadable
from devices.protocols import MrzKey
from kiosk.lane.events import Start
from kiosk.lane.states import IllegalTransition, LaneState, TransactionMachine
from kiosk.ports import AuthenticityResult
from kiosk.store.verify import verify_log
from tests.workflow.fakes import Rig, run_traveller

JOURNEY = ["waiting_for_document", "reading_chip", "verifying_document", "capturing_face",
           "deciding"]




def test_admitted_traveller_opens_gate_then_lane_resets(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    run_traveller(rig)
    assert rig.states() == [*JOURNEY, "returning_document", "admitted"]
    assert rig.gate.state == "open"
    rig.gate.walk_through()
    rig.lane.run_pending()
    assert rig.lane.state is LaneState.IDLE
    assert rig.gate.state == "closed"
    [event] = rig.log.events()
    assert event.outcome == "admitted" and event.decision == "admit"
    assert list(event.stages) == ["waiting_for_document", "reading_chip", "verifying_document",
                                  "capturing_face", "deciding", "returning_document", "admitted"]
    # The injected clock moved 0.2 s for the chip and 0.5 s for the face.
    assert event.transaction_ms == pytest.approx(700.0)
    assert verify_log(rig.log.engine, rig.log.sealer).valid


def test_face_mismatch_refers_and_keeps_best_frame_for_officer(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.face.match = False
    run_traveller(rig)
    assert rig.states()[-1] == "referred"
    assert rig.gate.commands == [] and rig.gate.state == "closed"
    assert rig.snapshots[-1].traveller_reasons == ("face_mismatch",)
    event = rig.log.events()[0]
    assert event.reasons == ["face_mismatch"]
    assert event.event_id in rig.images
    # The referral waits for the passport to be taken ("take your passport").
    assert rig.snapshots[-1].document_on_reader
    rig.clock.advance(rig.lane.config.timeouts.result_display_s + 0.1)
    rig.lane.run_pending()
    assert rig.lane.state is LaneState.REFERRED
    rig.reader.remove()
    rig.lane.run_pending()
    assert rig.lane.state is LaneState.REFERRED and not rig.snapshots[-1].document_on_reader
    rig.clock.advance(rig.lane.config.timeouts.result_display_s + 0.1)
    rig.lane.run_pending()
    assert rig.lane.state is LaneState.IDLE


def test_a_passport_laid_on_a_referral_is_shown_to_observers(tmp_path: Path) -> None:
    """The station and the journal learn a document lies on the reader again (an
    officer admit after a swap is refused as passport_left_reader either way)."""
    rig = Rig(tmp_path)
    rig.face.match = False
    run_traveller(rig)
    rig.reader.remove()
    rig.lane.run_pending()
    assert not rig.snapshots[-1].document_on_reader
    rig.reader.place()
    rig.lane.run_pending()
    assert rig.lane.state is LaneState.REFERRED and rig.snapshots[-1].document_on_reader


@pytest.mark.parametrize(
    ("fault", "screen"),
    [(MrzUnreadable("no valid machine-readable zone in view", "move"), "error_mrz_unreadable"),
     (DeviceFault("document camera: unplugged"), "error_device_fault")],
)
def test_an_unreadable_data_page_asks_to_lay_it_again_not_out_of_order(
    tmp_path: Path, fault: DeviceFault, screen: str
) -> None:
    """The document camera's MRZ reading failed: the traveller's page, not the lane, so the
    screen is a calm try-again (before: "This lane is out of order" for any page)."""
    rig = Rig(tmp_path)

    def unread() -> MrzKey:
        raise fault

    rig.lane.devices.mrz.read_mrz = unread  # type: ignore[method-assign]
    run_traveller(rig)
    assert rig.lane.state is LaneState.ERROR and rig.snapshots[-1].message == screen
    assert "open" not in rig.gate.commands and rig.gate.state == "closed"
    [event] = rig.log.events()
    assert event.outcome == "aborted" and event.error is not None
    assert event.error.startswith(screen.removeprefix("error_") + ":")


def test_watchlist_reason_is_never_shown_to_traveller(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.watch = True
    run_traveller(rig)
    snap = rig.snapshots[-1]
    assert snap.state is LaneState.REFERRED
    assert snap.traveller_reasons == ()
    assert snap.officer["reasons"] == ["watchlist_hit"]


@pytest.mark.parametrize("officer_wants_face", [False, True])
def test_forged_document_is_referred_with_its_reason(
    tmp_path: Path, officer_wants_face: bool,
) -> None:
    rig = Rig(tmp_path, face={"for_document_referrals": officer_wants_face})
    rig.auth.result = AuthenticityResult(False, "hash_mismatch_dg1", {})
    run_traveller(rig)
    assert rig.states()[-1] == "referred"
    # The face step only where the officer station wants it for such referrals
    # (issue 22): otherwise the traveller is referred before it.
    assert rig.face.calls == (1 if officer_wants_face else 0)
    assert ("capturing_face" in rig.states()) is officer_wants_face
    officer = rig.snapshots[-1].officer
    assert officer["reasons"] == ["document_not_authentic"]
    assert officer["checks"]["authenticity_reason"] == "hash_mismatch_dg1"
    assert rig.gate.opened_count == 0


def test_referred_traveller_taking_passport_resets_lane(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.face.match = False
    run_traveller(rig)
    assert rig.lane.state is LaneState.REFERRED
    rig.clock.advance(5.0)
    rig.reader.remove()
    rig.lane.run_pending()
    # Still readable for result_display_s after the passport was taken.
    assert rig.lane.state is LaneState.REFERRED
    assert rig.snapshots[-1].message == "see_officer"
    rig.clock.advance(rig.lane.config.timeouts.result_display_s + 0.1)
    rig.lane.run_pending()
    assert rig.lane.state is LaneState.IDLE


def test_card_removed_mid_read_ends_idle_with_gate_closed(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.lane.post(Start())
    rig.lane.run_pending()
    rig.reader.place()
    rig.reader.remove()  # pulled before the read completes
    rig.lane.run_pending()
    # The error stays on screen, readable, for error_display_s.
    assert rig.states()[-3:] == ["reading_chip", "error", "error"]  # then: passport gone
    assert rig.snapshots[-1].message == "error_card_removed"
    assert not rig.snapshots[-1].document_on_reader
    rig.clock.advance(rig.lane.config.timeouts.error_display_s - 0.5)
    rig.lane.run_pending()
    assert rig.lane.state is LaneState.ERROR
    rig.clock.advance(1.0)
    rig.lane.run_pending()
    assert rig.states()[-3:] == ["error", "resetting", "idle"]
    assert rig.gate.state == "closed"
    [event] = rig.log.events()
    assert event.outcome == "aborted" and event.error.startswith("card_removed")


def test_access_denied_chip_is_referred_never_admitted(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.reader.fail = AccessDeniedError("BAC failed")
    run_traveller(rig)
    assert rig.states()[-1] == "referred"
    assert rig.log.events()[0].reasons == ["chip_read_failed"]
    assert rig.gate.opened_count == 0


def test_reader_fault_takes_error_path(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.reader.fail = DeviceFault("reader unplugged")
    run_traveller(rig)
    assert rig.states()[-1] == "error"
    assert rig.snapshots[-1].message == "error_device_fault"
    rig.clock.advance(rig.lane.config.timeouts.error_display_s + 0.1)
    rig.lane.run_pending()
    # The passport is still on the reader: the next traveller is not asked for theirs.
    assert rig.states()[-3:] == ["error", "resetting", "document_left"]
    rig.reader.remove()
    rig.lane.run_pending()
    assert rig.lane.state is LaneState.IDLE
    assert rig.gate.state == "closed"


def test_waiting_for_document_times_out_back_to_idle(tmp_path: Path) -> None:
    rig = Rig(tmp_path, timeouts={"document_s": 30.0})
    rig.lane.post(Start())
    rig.lane.run_pending()
    rig.clock.advance(29.0)
    rig.lane.run_pending()
    assert rig.lane.state is LaneState.WAITING_FOR_DOCUMENT
    rig.clock.advance(2.0)
    rig.lane.run_pending()
    assert rig.lane.state is LaneState.ERROR
    assert rig.snapshots[-1].message == "error_timeout"
    assert rig.log.events()[0].error.startswith("timeout")
    rig.lane.post(Start("en"))  # "start again" ends the error screen
    rig.lane.run_pending()
    assert rig.states()[-3:] == ["resetting", "idle", "waiting_for_document"]


def test_admitted_traveller_who_never_passes_gets_gate_closed(tmp_path: Path) -> None:
    rig = Rig(tmp_path, timeouts={"gate_passage_s": 10.0})
    run_traveller(rig)
    assert rig.gate.state == "open"
    rig.clock.advance(10.5)
    rig.lane.run_pending()
    assert rig.gate.state == "closed" and rig.lane.state is LaneState.IDLE


def test_gate_that_fails_to_open_aborts_and_closes(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.gate.fail_next_open = True
    run_traveller(rig)
    assert rig.lane.state is LaneState.ERROR
    assert rig.gate.commands[-1] == "close"
    # The admission was committed before the gate was asked to open; a second
    # event records that the gate failed (the log is append-only).
    admitted, aborted = rig.log.events()
    assert (admitted.outcome, aborted.outcome) == ("admitted", "aborted")
    assert aborted.checks["follows_event"] == admitted.event_id
    assert aborted.error.startswith("device_fault: gate")


def test_crashing_pipeline_never_opens_gate(tmp_path: Path) -> None:
    rig = Rig(tmp_path)

    def boom(*_: object) -> None:
        raise RuntimeError("model file corrupt")

    rig.face.verify = boom  # type: ignore[method-assign]
    run_traveller(rig)
    assert rig.lane.state is LaneState.ERROR
    assert rig.gate.opened_count == 0
    assert "internal_error" in rig.log.events()[0].error


def test_event_log_outage_loses_nothing(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    real_append = rig.log.append
    calls = {"n": 0}

    def flaky(record: object) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("disk full")
        return real_append(record)  # type: ignore[arg-type]

    rig.log.append = flaky  # type: ignore[method-assign]
    run_traveller(rig)
    # The admission could not be put on record: referred, gate never opened,
    # and the referral itself is on record once the log takes writes again.
    assert rig.gate.opened_count == 0 and rig.lane.state is LaneState.REFERRED
    assert rig.lane.flush_log()
    [event] = rig.log.events()
    assert event.outcome == "referred" and event.checks["alarm"] == "event_log_unavailable"


def test_every_transition_is_timestamped_and_checked() -> None:
    m = TransactionMachine()
    from kiosk.clock import FakeClock

    clock = FakeClock()
    m.move(LaneState.WAITING_FOR_DOCUMENT, clock.now())
    clock.advance(1)
    m.move(LaneState.READING_CHIP, clock.now())
    assert [s for s, _ in m.history] == [LaneState.WAITING_FOR_DOCUMENT, LaneState.READING_CHIP]
    assert m.history[1][1] > m.history[0][1]
    with pytest.raises(IllegalTransition):
        m.move(LaneState.ADMITTED, clock.now())


def test_cancelled_transaction_is_logged(tmp_path: Path) -> None:
    from kiosk.lane.events import Cancel

    rig = Rig(tmp_path)
    rig.lane.post(Start("en"))
    rig.lane.post(Cancel())
    rig.lane.run_pending()
    assert rig.lane.state is LaneState.IDLE
    [event] = rig.log.events()
    assert event.outcome == "aborted" and event.error.startswith("cancelled")


def test_runner_stop_closes_an_open_gate(tmp_path: Path) -> None:
    from kiosk.lane.machine import LaneRunner

    rig = Rig(tmp_path)
    run_traveller(rig)
    assert rig.gate.state == "open"
    runner = LaneRunner(rig.lane)
    runner.start()
    runner.stop()
    assert rig.gate.state == "closed"


def test_times_from_a_non_utc_clock_keep_the_chain_valid(tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    from kiosk.clock import FakeClock

    rig = Rig(tmp_path)
    beijing = timezone(timedelta(hours=8))
    rig.lane.clock = FakeClock(datetime(2026, 3, 1, 10, 30, tzinfo=beijing))
    rig.clock = rig.lane.clock  # type: ignore[assignment]
    rig.reader.clock = rig.lane.clock  # type: ignore[assignment]
    rig.face.clock = rig.lane.clock  # type: ignore[assignment]
    run_traveller(rig)
    [event] = rig.log.events()
    assert event.started_at.replace(tzinfo=None) == datetime(2026, 3, 1, 2, 30)  # UTC
    assert verify_log(rig.log.engine, rig.log.sealer).valid


def test_admitted_traveller_must_take_the_passport_before_the_gate_opens(tmp_path: Path) -> None:
    rig = Rig(tmp_path, timeouts={"document_return_s": 20.0})
    run_traveller(rig, take_back=False)
    assert rig.lane.state is LaneState.RETURNING_DOCUMENT
    assert rig.snapshots[-1].message == "take_passport" and rig.gate.opened_count == 0
    rig.reader.remove()
    rig.lane.run_pending()
    assert rig.lane.state is LaneState.ADMITTED and rig.gate.state == "open"


def test_passport_left_on_the_reader_blocks_the_next_traveller(tmp_path: Path) -> None:
    rig = Rig(tmp_path, timeouts={"document_return_s": 20.0})
    run_traveller(rig, take_back=False)
    rig.clock.advance(20.5)
    rig.lane.run_pending()
    assert rig.states()[-2:] == ["resetting", "document_left"]
    assert rig.gate.opened_count == 0
    [event] = rig.log.events()
    assert event.outcome == "aborted" and event.error.startswith("document_left")
    snap = rig.snapshots[-1]
    assert snap.transaction_id is None and snap.officer == {}  # nothing of the last traveller
    rig.lane.post(Start("en"))  # the next traveller is not told to place theirs
    rig.lane.run_pending()
    assert rig.lane.state is LaneState.DOCUMENT_LEFT
    rig.reader.remove()
    rig.lane.run_pending()
    assert rig.lane.state is LaneState.IDLE


def test_language_change_mid_journey_and_offer_from_nationality(tmp_path: Path) -> None:
    from kiosk.lane.events import ChangeLanguage

    rig = Rig(tmp_path, kiosk={"languages": ["zh_CN", "en", "ja"]})
    rig.lane.post(Start("en"))
    rig.lane.run_pending()
    rig.lane.post(ChangeLanguage("ja"))
    rig.lane.run_pending()
    assert rig.snapshots[-1].language == "ja"
    assert rig.snapshots[-1].message == "place_passport"
    rig.lane.post(ChangeLanguage("fr"))  # not offered: ignored
    rig.lane.run_pending()
    assert rig.snapshots[-1].language == "ja"
    rig.reader.place()
    rig.lane.run_pending()
    assert all(s.language == "ja" for s in rig.snapshots[2:])
    # FACTS' nationality UTO has no language of its own.
    assert rig.snapshots[-1].offered_language is None


def test_every_step_has_a_deadline_and_exit_lanes_say_so(tmp_path: Path) -> None:
    rig = Rig(tmp_path, kiosk={"direction": "exit"})
    run_traveller(rig)
    by_state = {s.state: s for s in rig.snapshots}
    assert by_state[LaneState.WAITING_FOR_DOCUMENT].deadline_s == 60.0
    assert by_state[LaneState.ADMITTED].deadline_s == 20.0
    assert all(s.direction == "exit" for s in rig.snapshots)
