"""Issue 19 item 1: a sealed log without its key, or with another key, is
fatal for the lane: no admission, the traveller referred with the gate shut,
the event-log alarm up for the officer (on the code before, the lane wrote
unsealed events on a sealed log and admitted)."""

from __future__ import annotations

from pathlib import Path

from kiosk.lane.machine import ALARM_EVENT_LOG
from kiosk.lane.states import LaneState
from kiosk.store.event_log import EventLog
from kiosk.store.seal import create_key
from tests.workflow.fakes import Rig, run_traveller


def _sealed(tmp_path: Path) -> None:
    """One traveller admitted on a lane whose log is sealed with the kiosk's key."""
    rig = Rig(tmp_path)
    rig.log.sealer = create_key(tmp_path / "log.key")
    run_traveller(rig)
    assert rig.lane.state is LaneState.ADMITTED and rig.gate.opened_count == 1


def _refused(rig: Rig, detail: str) -> None:
    """The lane restarted on the same database: the next traveller."""
    run_traveller(rig)
    assert rig.lane.state is LaneState.REFERRED and rig.gate.opened_count == 0
    officer = rig.snapshots[-1].officer
    assert ALARM_EVENT_LOG in officer["alarms"] and detail in officer["alarms"][ALARM_EVENT_LOG]
    assert EventLog(rig.log.engine).count() == 1  # nothing unsealed was written


def test_a_missing_key_on_a_sealed_log_stops_admissions(tmp_path: Path) -> None:
    _sealed(tmp_path)
    rig = Rig(tmp_path)  # started with the key file moved away: no sealer
    _refused(rig, "log key is missing")


def test_another_key_on_a_sealed_log_stops_admissions(tmp_path: Path) -> None:
    _sealed(tmp_path)
    rig = Rig(tmp_path)
    rig.log.sealer = create_key(tmp_path / "other.key")
    _refused(rig, "does not match the seal")
