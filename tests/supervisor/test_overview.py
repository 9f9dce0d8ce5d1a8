"""What the station shows is true (issue 18 item 6): every lane state maps to an
overview state, a passport left on the reader and the other lane troubles raise an
alert, a command the kiosk rejected keeps the case in the queue with the kiosk's
reason, and `egate referrals list --json` says what the queue says."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from kiosk.border.station_tables import kiosk_status
from kiosk.clock import FakeClock
from kiosk.lane.states import TRANSITIONS, LaneState
from kiosk.supervisor import reasons
from kiosk.supervisor.station import Station
from tests.supervisor.conftest import Lane, StationBorder
from ui.cli import main as egate

S = LaneState


def test_every_lane_state_maps_to_an_overview_state() -> None:
    # The lane machine's states, from its transition table (keys and targets).
    machine = set(TRANSITIONS) | {t for targets in TRANSITIONS.values() for t in targets}
    assert machine == set(LaneState)
    for state in LaneState:
        assert state in reasons.OVERVIEW, f"lane state {state} has no overview state"
        shown = reasons.overview_state(state.value, "", True, False)
        assert shown in reasons.OVERVIEW_STATES
    # Only a lane with nobody and nothing at it reads as idle.
    assert [s for s in LaneState if reasons.OVERVIEW[s] == "idle"] == [S.IDLE]
    # A state this station does not know is never "idle": it raises an alert.
    assert reasons.overview_state("boarding", "", True, False) == "unknown"
    assert "unknown_state" in reasons.lane_alerts("unknown", 0.0, (), 1.0)


@pytest.mark.parametrize(
    ("state", "detail", "in_state_s", "alarms", "alert"),
    [
        ("document_left", "passport_left", 1.0, (), "passport_left"),
        ("returning_document", "take_passport", 11.0, (), "returning_document"),
        ("error", "error_device_fault", 1.0, (), "device_fault"),
        ("admitted", "gate_open", 16.0, (), "gate_held_open"),
        ("idle", "welcome", 1.0, ("event_log_unavailable",), "event_log_unavailable"),
    ],
)
def test_lane_troubles_raise_alerts(
    state: str, detail: str, in_state_s: float, alarms: tuple[str, ...], alert: str
) -> None:
    shown = reasons.overview_state(state, detail, True, False)
    assert alert in reasons.lane_alerts(shown, in_state_s, alarms, 1.0)
    assert reasons.ALERTS[alert] in ("alarm", "warning")  # coloured and heard
    # A fresh lane in the same state and without alarms raises nothing but its state.
    quiet = reasons.lane_alerts(shown, 0.0, (), 1.0)
    assert "gate_held_open" not in quiet and "event_log_unavailable" not in quiet


def test_stale_reference_data_alerts() -> None:
    assert "reference_data_stale" in reasons.lane_alerts("idle", 0.0, (), 25.0)
    assert "reference_data_stale" in reasons.lane_alerts("idle", 0.0, (), None)
    assert reasons.lane_alerts("idle", 0.0, (), 2.0) == []


def test_passport_left_on_the_reader_is_not_idle(
    station: Station, sborder: StationBorder, tmp_path: Path
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", station.clock)  # type: ignore[arg-type]
    lane.traveller(face_match=False)
    lane.cycle()
    station.sign_in("A1", "ada-secret-1")
    [referral] = station.queue()
    station.resolve(referral.referral_id, "manual", "interview_needed")
    lane.cycle()  # the lane frees itself, the passport is still on the reader
    assert lane.rig.lane.state is S.DOCUMENT_LEFT
    lane.agent.run_once()
    [view] = station.lanes()
    assert view.state == "passport_left" and "passport_left" in view.alerts


def test_a_rejected_command_keeps_the_case_open_with_the_reason(
    station: Station, sborder: StationBorder, tmp_path: Path, clock: FakeClock
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    tx = lane.traveller(face_match=False)
    lane.cycle()
    # The traveller takes the passport and leaves; the lane times the referral out.
    lane.rig.reader.remove()
    lane.rig.lane.run_pending()
    clock.advance(601)
    lane.rig.lane.run_pending()
    lane.agent.run_once()
    station.sign_in("A1", "ada-secret-1")
    [left] = station.queue()
    assert not left.at_lane
    result = station.resolve(tx, "admit", "identity_confirmed", "checked by hand")
    lane.cycle()
    assert lane.rig.gate.opened_count == 0
    assert station.command_result(result.command_id)[0] == "rejected"
    [case] = station.queue()  # still the officer's business
    assert (case.shown_status, case.command, case.command_result) == (
        "command_rejected",
        "admit",
        "rejected",
    )
    assert case.command_detail
    view = station.case(tx)
    assert view.summary.command_result == "rejected"
    assert view.summary.command_detail == case.command_detail
    assert any(h["what"] == "kiosk rejected" for h in view.history)


def test_cli_and_station_agree_on_every_field(
    station: Station, sborder: StationBorder, tmp_path: Path, clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    if sborder.backend != "sqlite":
        pytest.skip("the CLI opens the configured database; the SQLite stand-in here")
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    lane.traveller(face_match=False)
    lane.cycle()
    lane2 = Lane(tmp_path, sborder.kiosk, "K2", clock)
    lane2.traveller(face_match=False)
    lane2.cycle()
    lane2.rig.reader.remove()
    lane2.rig.lane.run_pending()
    clock.advance(601)
    lane2.rig.lane.run_pending()
    lane2.agent.run_once()
    lane.agent.run_once()
    station.sign_in("A1", "ada-secret-1")
    screen = [s.as_json() for s in station.queue()]
    assert [s["at_lane"] for s in screen] == [True, False]
    url = str(sborder.station.url)
    assert egate(["referrals", "list", "--url", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == screen


def test_a_gate_held_open_raises_an_alert(
    station: Station, sborder: StationBorder, tmp_path: Path, clock: FakeClock
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    lane.agent.run_once()
    station.sign_in("A1", "ada-secret-1")
    with sborder.owner.begin() as c:  # an admitted traveller who never walks through
        since = clock.now() - timedelta(seconds=16)
        c.execute(update(kiosk_status).values(state="admitted", state_since=since))
    [view] = station.lanes()
    assert view.state == "gate_open" and "gate_held_open" in view.alerts
