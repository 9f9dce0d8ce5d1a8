"""The gate opens only on an outcome already committed to the local event log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from msgspec.structs import replace  # Config is a msgspec Struct

from kiosk.lane.events import DocumentRemoved
from kiosk.lane.machine import ALARM_EVENT_LOG
from kiosk.lane.states import LaneState
from kiosk.store.verify import verify_log
from tests.workflow.fakes import Rig, run_traveller


def test_gate_opens_only_after_the_admission_is_committed(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    on_record_at_open: list[int] = []
    real_open = rig.gate.open

    def spying_open() -> None:
        on_record_at_open.append(rig.log.count())  # read from the database file itself
        real_open()

    rig.gate.open = spying_open  # type: ignore[method-assign]
    run_traveller(rig)
    assert on_record_at_open == [1]
    assert rig.log.events()[0].outcome == "admitted"


def test_unwritable_event_refers_with_gate_closed_and_raises_the_alarm(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The reproduction: a lane number SQLite cannot store (OverflowError on
    # every write). The config refuses it now; here it is forced past validation.
    rig = Rig(tmp_path)
    cfg = rig.lane.config
    rig.lane.config = replace(cfg, kiosk=replace(cfg.kiosk, lane=10**20))
    with caplog.at_level(logging.CRITICAL, logger="kiosk.lane.machine"):
        run_traveller(rig)
    assert rig.gate.opened_count == 0 and rig.gate.state == "closed"
    assert rig.lane.state is LaneState.REFERRED
    snapshot = rig.snapshots[-1]
    assert snapshot.message == "see_officer" and snapshot.traveller_reasons == ()
    assert ALARM_EVENT_LOG in snapshot.officer["alarms"]
    assert "OverflowError" in snapshot.officer["alarms"][ALARM_EVENT_LOG]
    assert ALARM_EVENT_LOG in rig.lane.alarms
    assert any(ALARM_EVENT_LOG in r.getMessage() for r in caplog.records)
    assert rig.log.count() == 0


def test_log_outage_refers_every_traveller_until_it_ends(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    real_append = rig.log.append
    down = {"on": True}

    def append(record: object) -> str:
        if down["on"]:
            raise OSError("disk full")
        return real_append(record)  # type: ignore[arg-type]

    rig.log.append = append  # type: ignore[method-assign]
    for _ in range(3):
        run_traveller(rig)
        assert rig.lane.state is LaneState.REFERRED and rig.gate.opened_count == 0
        rig.reader.present = False
        rig.lane.post(DocumentRemoved())
        rig.lane.run_pending()
        rig.clock.advance(rig.lane.config.timeouts.result_display_s + 0.1)  # referral read
        rig.lane.run_pending()
        assert rig.lane.state is LaneState.IDLE
    down["on"] = False
    run_traveller(rig)  # the held referrals go first, then this admission
    assert rig.gate.opened_count == 1 and rig.lane.alarms == {}
    events = rig.log.events()
    assert [e.outcome for e in events] == ["referred"] * 3 + ["admitted"]
    assert all(e.decision == "refer" and e.basis is None for e in events[:3])
    assert events[0].checks["policy_decision"]["decision"] == "admit"
    assert verify_log(rig.log.engine, rig.log.sealer).valid


def test_referral_with_a_failing_log_still_refers_and_holds_the_record(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.face.match = False
    real_append = rig.log.append
    rig.log.append = lambda record: (_ for _ in ()).throw(OSError("read-only"))  # type: ignore[method-assign]
    run_traveller(rig)
    assert rig.lane.state is LaneState.REFERRED and rig.gate.opened_count == 0
    assert "face_mismatch" in rig.snapshots[-1].traveller_reasons
    assert ALARM_EVENT_LOG in rig.snapshots[-1].officer["alarms"]
    rig.log.append = real_append  # type: ignore[method-assign]
    assert rig.lane.flush_log() and rig.lane.alarms == {}
    [event] = rig.log.events()
    assert event.outcome == "referred" and event.reasons == ["face_mismatch"]


def test_a_record_the_log_never_takes_keeps_the_alarm_up_for_the_officer(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path)
    good = rig.lane.config
    rig.lane.config = replace(good, kiosk=replace(good.kiosk, lane=10**20))
    run_traveller(rig)  # referred; its record can never be stored
    rig.reader.present = False
    rig.lane.post(DocumentRemoved())
    rig.lane.run_pending()
    rig.clock.advance(rig.lane.config.timeouts.result_display_s + 0.1)  # referral read
    rig.lane.run_pending()
    rig.lane.config = good
    run_traveller(rig)  # this admission commits: the gate opens on a record
    assert rig.lane.state is LaneState.ADMITTED and rig.gate.opened_count == 1
    assert [e.outcome for e in rig.log.events()] == ["admitted"]
    assert ALARM_EVENT_LOG in rig.snapshots[-1].officer["alarms"]
    assert not rig.lane.flush_log()
