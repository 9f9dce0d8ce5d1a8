"""Issue 18 and 19 loose ends (border revision b0007g), on a real PostgreSQL border
with the installation's roles (and the SQLite stand-in where it has the rule too).

On the code before b0007g: a case whose admit the kiosk rejected stayed
`resolved`, so the officer's next action was refused `not_open`; a forged call of
border_officer_resolve admitted a face_mismatch case without a typed reason; the
agent never reported the lane's alarms, so event_log_unavailable never reached the
overview; the border's kiosk alerts (a rolled-back log) never reached the station.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select, text

from kiosk.border.station_tables import kiosk_status, referrals
from kiosk.clock import FakeClock
from kiosk.lane.states import LaneState
from kiosk.supervisor.audit import actions, verify_actions
from kiosk.supervisor.station import Station, StationError
from tests.supervisor.conftest import Lane, StationBorder
from tests.supervisor.test_window import Desk

S = LaneState
PG_ONLY = pytest.mark.parametrize("sborder", ["postgres"], indirect=True)
TYPED = "compared the photos in person"


def _refer(station: Station, lane: Lane) -> str:
    tx = lane.traveller(face_match=False)  # face_mismatch
    lane.cycle()
    assert lane.rig.lane.state is S.REFERRED
    station.sign_in("A1", "ada-secret-1")
    return tx


def _status(sborder: StationBorder, tx: str) -> str:
    with sborder.owner.connect() as c:
        return str(
            c.execute(
                select(referrals.c.status).where(referrals.c.referral_id == uuid.UUID(tx))
            ).scalar()
        )


# -- 1. a rejected command leaves the case open for another action ---------------------
def test_a_rejected_admit_reopens_the_case_and_manual_is_carried_out(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    tx = _refer(station, lane)
    admit = station.resolve(tx, "admit", "identity_confirmed", TYPED)
    lane.cycle()  # the fresh capture still does not match: rejected
    result, detail = station.command_result(admit.command_id)  # type: ignore[arg-type]
    assert result == "rejected" and (detail or "").startswith("face_mismatch")
    assert lane.rig.gate.opened_count == 0
    if sborder.backend == "postgres":  # the border reopened it when the kiosk answered
        assert _status(sborder, tx) == "open"
    [case] = station.queue()  # the kiosk's reason shows
    assert (case.shown_status, case.command_result) == ("command_rejected", "rejected")
    assert case.command_detail.startswith("face_mismatch")
    manual = station.resolve(tx, "manual", "interview_needed")
    lane.cycle()
    assert station.command_result(manual.command_id) == ("executed", "")  # type: ignore[arg-type]
    assert lane.rig.lane.state is not S.REFERRED and lane.rig.gate.opened_count == 0
    assert _status(sborder, tx) == "resolved" and station.queue() == []
    log = [(a["kind"], a["reason_code"]) for a in station.case_log(tx)]
    assert log == [
        ("admit", "identity_confirmed"),
        ("case_reopened", "rejected"),
        ("manual", "interview_needed"),
    ]
    assert station.verify_log()["valid"]


@PG_ONLY
def test_an_executed_command_cannot_be_turned_into_a_reopened_case(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    """A kiosk rewriting its answer after the fact does not get a second admit."""
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    tx = _refer(station, lane)
    manual = station.resolve(tx, "manual", "interview_needed")
    lane.cycle()
    assert station.command_result(manual.command_id)[0] == "executed"  # type: ignore[arg-type]
    with sborder.kiosk.begin() as c:  # K1's own role may write its acknowledgements
        c.execute(
            text("UPDATE commands SET result = 'rejected' WHERE command_id = :c"),
            {"c": manual.command_id},
        )
    assert _status(sborder, tx) == "resolved"
    with pytest.raises(StationError) as refused:
        station.resolve(tx, "admit", "identity_confirmed", TYPED)
    assert refused.value.code == "not_open"


# -- 2. the typed-reason rule for risky admits is the border's ---------------------------
def test_a_risky_admit_without_typed_words_is_refused_by_the_border(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    tx = _refer(station, lane)
    for words in ("", "ok", "   short   "):  # the station's check bypassed: a direct call
        with pytest.raises(StationError) as refused:
            station.resolve(tx, "admit", "identity_confirmed", words)
        assert refused.value.code == "reason_needed"
    if sborder.backend == "postgres":  # a forged call with the station's own credential
        with sborder.station.begin() as c:
            answer = c.execute(
                text("SELECT border_officer_resolve(:t, :r, 'admit', 'identity_confirmed', '')"),
                {"t": station._session.token, "r": tx},  # type: ignore[union-attr]
            ).scalar_one()
        assert answer == {"ok": False, "code": "reason_needed"}
    lane.cycle()
    assert lane.rig.gate.opened_count == 0 and _status(sborder, tx) == "open"
    assert station.resolve(tx, "refuse", "identity_not_confirmed").status == "issued"


# -- 3. the lane's own alarms reach the overview ------------------------------------------
def test_an_unavailable_event_log_shows_on_the_overview(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)

    def disk_full(record: object) -> str:
        raise OSError("disk full")

    lane.rig.log.append = disk_full  # type: ignore[method-assign,assignment]
    lane.traveller()
    lane.cycle()
    assert "event_log_unavailable" in lane.rig.lane.alarms
    station.sign_in("A1", "ada-secret-1")
    [view] = station.lanes()
    assert view.alerts[0] == "event_log_unavailable"
    with sborder.owner.connect() as c:
        stored = c.execute(select(kiosk_status.c.alarms)).scalar_one()
    assert list(stored) == ["event_log_unavailable"]


# -- 4. the border's kiosk alerts on the station ----------------------------------------
@PG_ONLY
def test_a_rolled_back_kiosk_log_shows_on_the_overview_and_is_acknowledged(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    lane.cycle()  # K1's status row
    # The rollback of tests/border/test_integrity.py as the border sees it: K1's
    # heartbeat reported head 10, then a restored older copy reports head 8.
    with sborder.kiosk.begin() as c:
        assert c.execute(text("SELECT border_log_attest(NULL, 10, :h)"), {"h": "a" * 64}).scalar()
    with sborder.kiosk.begin() as c:
        answer = c.execute(text("SELECT border_log_attest(NULL, 8, :h)"), {"h": "b" * 64})
        assert answer.scalar() == "rollback"
    station.sign_in("S1", "sam-secret-3")
    [view] = station.lanes()
    assert view.alerts[:2] == ("log_rolled_back", "kiosk_held")
    [alert] = view.border_alerts
    assert (alert.kind, alert.code) == ("rollback", "log_rolled_back")
    assert "went back from seq 10 to seq 8" in alert.detail
    assert json.loads(json.dumps(view.as_json()))["border_alerts"][0]["kind"] == "rollback"

    station.sign_out()  # an officer sees it but may not acknowledge it
    station.sign_in("A1", "ada-secret-1")
    with pytest.raises(StationError) as refused:
        station.acknowledge_alert(alert.alert_id)
    assert refused.value.code == "not_permitted"
    station.sign_out()
    station.sign_in("S1", "sam-secret-3")
    done = station.acknowledge_alert(alert.alert_id, "restore investigated, ticket 42")
    assert done.status == "acknowledged"
    with pytest.raises(StationError) as twice:
        station.acknowledge_alert(alert.alert_id)
    assert twice.value.code == "not_open"
    [view] = station.lanes()
    assert "log_rolled_back" not in view.alerts and view.border_alerts == ()
    assert "kiosk_held" in view.alerts  # until an administrator resumes the kiosk
    with sborder.owner.connect() as c:
        by = c.execute(text("SELECT acknowledged_by FROM kiosk_alerts")).scalar_one()
        [entry] = c.execute(
            text("SELECT kind, officer_id, reason_code, reason_text, detail FROM officer_actions "
                 "WHERE kind = 'alert_acked'")
        ).all()  # fmt: skip
    assert by == "S1"
    assert entry[:4] == ("alert_acked", "S1", "rollback", "restore investigated, ticket 42")
    assert entry[4]["alert_id"] == alert.alert_id
    assert verify_actions(sborder.owner)["valid"]


@PG_ONLY
def test_only_the_definer_function_acknowledges_alerts(sborder: StationBorder) -> None:
    with sborder.kiosk.begin() as c:
        c.execute(text("SELECT border_kiosk_alert('local_log', 'test', 1)"))
    for engine in (sborder.station, sborder.kiosk):
        with pytest.raises(Exception, match="permission denied"), engine.begin() as c:
            c.execute(text("UPDATE kiosk_alerts SET acknowledged_at = now()"))
    with pytest.raises(Exception, match="permission denied"), sborder.kiosk.begin() as c:
        c.execute(text("SELECT border_officer_ack_alert(:t, 1, '')"), {"t": b"x" * 32})


@pytest.fixture
def desk(tmp_path: Path, qtbot: QtBot) -> Iterator[Desk]:
    d = Desk(tmp_path, qtbot)
    yield d
    d.window.close()
    d.engine.dispose()


def test_the_window_shows_a_border_alert_in_words_and_a_supervisor_acknowledges_it(
    desk: Desk,
) -> None:
    desk.lane("K1")
    desk.cycle()
    with desk.engine.begin() as c:  # the stand-in's border raised it (as b0005i does)
        c.execute(
            text("INSERT INTO kiosk_alerts (kiosk_id, kind, detail, raised_at) "
                 "VALUES ('K1', 'rollback', 'local head went back from seq 10 to seq 8', "
                 "CURRENT_TIMESTAMP)")
        )  # fmt: skip
    desk.sign_in("S1", "sam-secret-3")
    desk.refresh()
    lanes = desk.window.lanes
    assert "Log rolled back" in desk.cell(lanes.table, 0, 9)
    lanes.select("K1")
    desk.qtbot.mouseClick(lanes.ack, Qt.MouseButton.LeftButton)
    dialog = lanes.dialog
    assert dialog is not None and "seq 10 to seq 8" in dialog.text()
    desk.qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    desk.settle()
    desk.refresh()
    assert "Log rolled back" not in desk.cell(lanes.table, 0, 9)
    [acked] = [a for a in actions(desk.engine) if a.kind == "alert_acked"]
    assert (acked.officer_id, acked.kiosk_id, acked.reason_code) == ("S1", "K1", "rollback")


def test_the_window_lets_the_officer_act_again_after_a_rejected_admit(desk: Desk) -> None:
    lane = desk.lane("K1")
    tx = lane.traveller(face_match=False)
    desk.cycle()
    desk.sign_in("A1", "ada-secret-1")
    desk.open_case(tx)
    case = desk.window.case
    case.action.choose("admit", "identity_confirmed", TYPED)
    desk.carry_out(case.action)
    desk.cycle()  # the fresh capture does not match: rejected
    desk.open_case(tx)
    assert "rejected" in case.command.text().lower() and case.action.isEnabled()
    case.action.choose("manual", "interview_needed")
    desk.carry_out(case.action)
    desk.cycle()
    assert [a.kind for a in actions(desk.engine) if a.referral_id is not None] == [
        "admit",
        "case_reopened",
        "manual",
    ]
    assert lane.rig.lane.state is not S.REFERRED and lane.rig.gate.opened_count == 0
