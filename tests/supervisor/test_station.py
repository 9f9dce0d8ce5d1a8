"""The station model and the kiosk agent over a real border database (SQLite
stand-in and PostgreSQL), with fake lane devices on a FakeClock."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select, update

from devices.errors import DeviceFault
from kiosk.border.database import head_revision
from kiosk.border.partitions import BY_NAME as PARTITIONED_BY_NAME
from kiosk.border.station_tables import metadata, officer_actions, officers, referral_images
from kiosk.clock import FakeClock
from kiosk.lane.events import DocumentRemoved, OfficerCommand
from kiosk.lane.states import LaneState
from kiosk.store.verify import verify_log
from kiosk.supervisor.audit import actions, verify_actions
from kiosk.supervisor.station import Station, StationError
from tests.supervisor.conftest import Lane, StationBorder

S = LaneState
# No transaction in the lane: idle, or the error / take-your-passport screen before idle.
FREE = frozenset({S.IDLE, S.DOCUMENT_LEFT, S.ERROR})


def test_migration_matches_the_station_tables(sborder: StationBorder) -> None:
    insp = inspect(sborder.owner)
    for table in metadata.sorted_tables:
        assert {c["name"] for c in insp.get_columns(table.name)} == {c.name for c in table.c}
        pk = set(insp.get_pk_constraint(table.name)["constrained_columns"])
        expected = {c.name for c in table.primary_key.columns}
        if sborder.backend == "postgres" and table.name in PARTITIONED_BY_NAME:
            # b0008p: a partitioned table's key holds its partition key.
            expected.add(PARTITIONED_BY_NAME[table.name].key)
        assert pk == expected, table.name
    assert head_revision() == "b0008p"  # monthly partitions, after the officer gaps


def test_sign_in_lockout_and_idle_sign_out(
    station: Station, clock: FakeClock, sborder: StationBorder
) -> None:
    with pytest.raises(StationError, match="sign in first"):
        station.queue()  # nothing about travellers before sign-in
    for _ in range(2):
        with pytest.raises(StationError) as wrong:
            station.sign_in("A1", "9999")
        assert wrong.value.code == "invalid_credentials"
    with pytest.raises(StationError) as unknown:
        station.sign_in("ZZ", "ada-secret-1")
    assert unknown.value.code == "invalid_credentials"  # ids are not revealed
    with pytest.raises(StationError) as third:
        station.sign_in("A1", "9999")
    assert third.value.code == "locked"
    with pytest.raises(StationError) as locked:
        station.sign_in("A1", "ada-secret-1")  # even the right PIN, while locked
    assert locked.value.code == "locked"
    clock.advance(601)
    if sborder.backend == "postgres":  # the border's own clock counts there
        with sborder.owner.begin() as c:
            c.execute(update(officers).values(locked_until=None))
    assert station.sign_in("A1", "ada-secret-1").role == "officer"
    assert station.queue() == []
    clock.advance(119)
    station.touch()
    clock.advance(119)
    assert station.officer is not None
    clock.advance(1)
    assert station.officer is None  # 120 s without activity
    with pytest.raises(StationError, match="sign in first"):
        station.queue()
    log = [(a.kind, a.officer_id, a.reason_code) for a in actions(station.engine)]
    assert log == [
        ("sign_in_refused", "A1", "invalid_credentials"),
        ("sign_in_refused", "A1", "invalid_credentials"),
        ("sign_in_refused", "ZZ", "invalid_credentials"),
        ("sign_in_refused", "A1", "locked"),
        ("sign_in_refused", "A1", "locked"),
        ("sign_in", "A1", "sign_in"),
        ("sign_out", "A1", "inactivity"),
    ]
    assert verify_actions(station.engine)["valid"]


def test_disabled_and_maintenance_see_no_travellers(
    station: Station, sborder: StationBorder
) -> None:
    station.directory.engine = sborder.owner  # admin work
    station.directory.disable("B2")
    with pytest.raises(StationError) as disabled:
        station.sign_in("B2", "ben-secret-2")
    assert disabled.value.code == "disabled"
    station.sign_in("M1", "max-secret-4")
    assert station.lanes() == []
    with pytest.raises(StationError) as denied:
        station.queue()
    assert denied.value.code == "not_permitted"


def test_referral_reaches_the_queue_with_both_images_and_admit_opens_the_gate(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    first = lane.traveller(face_match=False)
    assert lane.rig.lane.state is S.REFERRED
    lane.cycle()
    station.sign_in("A1", "ada-secret-1")
    [view] = station.lanes()
    assert (view.kiosk_id, view.state, view.open_referrals) == ("K1", "waiting_for_officer", 1)
    assert "waiting_for_officer" in view.alerts
    [summary] = station.queue()
    assert str(summary.referral_id) == first and summary.reasons == ("face_mismatch",)
    case = station.case(summary.referral_id)
    assert case.chip_jpeg is not None and case.chip_jpeg[:2] == b"\xff\xd8"
    assert case.live_jpeg == b"\xff\xd8jpeg"
    assert (case.distance, case.threshold) == (0.8, 0.5)
    assert case.document["document_number"] == "L898902C3"
    assert ("Passive authentication", "passed", "") in case.authentication()

    with pytest.raises(StationError) as no_reason:
        station.resolve(summary.referral_id, "admit", "other", "")
    assert no_reason.value.code == "invalid_reason"
    result = station.resolve(
        summary.referral_id, "admit", "identity_confirmed", "twin, checked by hand"
    )
    assert result.status == "issued" and lane.rig.gate.opened_count == 0
    # Sent, not yet carried out: the case stays in the queue until the kiosk answers.
    [pending] = station.queue()
    assert (pending.shown_status, pending.command) == ("command_pending", "admit")
    lane.rig.face.match = True  # the re-verification's fresh capture matches the chip
    lane.cycle()
    assert lane.rig.gate.state == "open" and lane.rig.lane.state is S.ADMITTED
    assert station.command_result(result.command_id) == ("executed", "")
    assert station.queue() == []
    # The kiosk's own hash-chained log holds the officer's command ...
    officer_event = lane.rig.log.events()[-1]
    assert (officer_event.outcome, officer_event.decision) == ("officer", "admit")
    assert officer_event.checks["officer_id"] == "A1"
    assert officer_event.checks["transaction_id"] == first
    assert verify_log(lane.rig.log.engine, lane.rig.log.sealer).valid
    # ... the border's officer log too, and the case history shows both.
    assert [a.kind for a in actions(station.engine, summary.referral_id)] == ["admit"]
    assert verify_actions(station.engine)["valid"]
    history = [h["what"] for h in station.case(summary.referral_id).history]
    assert history == ["admit", "kiosk executed"]


@pytest.mark.parametrize("action", ["refuse", "manual"])
def test_refuse_and_manual_free_the_lane_gate_closed(
    action: str, station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    tx = lane.traveller(face_match=False)
    lane.cycle()
    station.sign_in("A1", "ada-secret-1")
    reason = {"refuse": "identity_not_confirmed", "manual": "interview_needed"}[action]
    result = station.resolve(tx, action, reason)
    lane.cycle()
    assert lane.rig.lane.state in FREE and lane.rig.gate.opened_count == 0
    assert station.command_result(result.command_id)[0] == "executed"
    event = lane.rig.log.events()[-1]
    assert (event.outcome, event.decision, event.reasons) == ("officer", action, [reason])
    [audit] = actions(station.engine, result_referral := station.case(tx).summary.referral_id)
    assert (audit.kind, audit.officer_id, audit.reason_code) == (action, "A1", reason)
    assert result_referral is not None


def test_watchlist_admit_needs_a_second_officer(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    tx = lane.traveller(watchlist=True)
    lane.cycle()
    station.sign_in("A1", "ada-secret-1")
    [summary] = station.queue()
    assert summary.watchlist and "watchlist_hit" in summary.reasons
    assert "watchlist" in station.lanes()[0].alerts
    case = station.case(tx)
    assert case.watchlist_entry is not None and case.watchlist_entry["key"] == "UTO:L898902C3"
    pending = station.resolve(tx, "admit", "identity_confirmed", "compared the photos in person")
    assert pending.status == "awaiting_second" and pending.command_id is None
    lane.cycle()
    assert lane.rig.gate.opened_count == 0
    with pytest.raises(StationError) as same:
        station.confirm(tx, "A1", "ada-secret-1")
    assert same.value.code == "same_officer"
    with pytest.raises(StationError) as wrong:
        station.confirm(tx, "B2", "0000")
    assert wrong.value.code == "invalid_credentials"
    with pytest.raises(StationError) as maint:
        station.confirm(tx, "M1", "max-secret-4")
    assert maint.value.code == "not_permitted"
    done = station.confirm(tx, "B2", "ben-secret-2")
    assert done.status == "issued"
    lane.cycle()
    assert lane.rig.gate.state == "open"
    event = lane.rig.log.events()[-1]
    assert event.checks["second_officer_id"] == "B2"
    assert [
        (a.kind, a.officer_id, a.second_officer_id)
        for a in actions(station.engine, case.summary.referral_id)
    ] == [
        ("admit_requested", "A1", None),
        ("confirm_refused", "B2", None),  # the wrong secret is on record
        ("admit", "A1", "B2"),
    ]


def test_gate_never_opens_for_a_command_not_for_the_current_referral(
    sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    tx = lane.traveller(face_match=False)
    results: list[tuple[str, str]] = []

    def post(kind: str, kiosk: str, transaction: str | None) -> None:
        lane.rig.lane.post(
            OfficerCommand(
                "c-" + kind,
                kind,
                kiosk,
                transaction,
                "A1",
                "x",
                done=lambda r, d: results.append((r, d)),
                authentication="verified",
            )
        )
        lane.rig.lane.run_pending()

    post("admit", "K2", tx)  # another kiosk's command
    post("admit", "K1", "00000000-0000-0000-0000-000000000000")  # another referral
    assert lane.rig.gate.opened_count == 0 and lane.rig.lane.state is S.REFERRED
    assert [r for r, _ in results] == ["rejected", "rejected"]
    post("reset", "K1", None)  # the lane moves on ...
    post("admit", "K1", tx)  # ... so the old referral's admit does nothing
    assert lane.rig.gate.opened_count == 0 and lane.rig.lane.state in FREE
    assert [r for r, _ in results] == ["rejected", "rejected", "executed", "rejected"]
    assert all(e.outcome == "officer" for e in lane.rig.log.events()[1:])
    assert verify_log(lane.rig.log.engine, lane.rig.log.sealer).valid


def test_admit_with_a_failing_gate_is_reported_failed(
    sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    tx = lane.traveller(face_match=False)
    lane.rig.face.match = True  # the re-verification passes; then the gate jams
    results: list[str] = []

    def broken() -> None:
        raise DeviceFault("gate jammed")

    lane.rig.gate.open = broken  # type: ignore[method-assign]
    lane.rig.lane.post(
        OfficerCommand(
            "c1",
            "admit",
            "K1",
            tx,
            "A1",
            "identity_confirmed",
            done=lambda r, d: results.append(r),
            authentication="verified",
        )
    )
    lane.rig.lane.run_pending()
    assert results == ["failed"] and lane.rig.lane.state in FREE


def test_close_and_open_a_lane(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    lane.cycle()
    station.sign_in("M1", "max-secret-4")  # maintenance may close lanes
    station.lane_command("K1", "close", "maintenance")
    lane.cycle()
    assert station.lanes()[0].state == "closed"
    lane.rig.reader.place()
    lane.rig.lane.run_pending()
    assert lane.rig.lane.state in FREE  # a closed lane takes no traveller
    station.lane_command("K1", "open", "maintenance_done")
    lane.cycle()
    assert station.lanes()[0].state == "idle"
    with pytest.raises(StationError) as unknown:
        station.lane_command("K9", "reset", "other", "why")
    assert unknown.value.code == "unknown_kiosk"


def test_a_silent_kiosk_shows_offline(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    lane.cycle()
    station.sign_in("A1", "ada-secret-1")
    assert station.lanes()[0].state == "idle"
    clock.advance(10)
    lane.agent.run_once()  # heartbeat every 5 s
    clock.advance(14)
    assert station.lanes()[0].state == "idle"
    clock.advance(2)  # 16 s since the last heartbeat > offline_after_s 15
    [view] = station.lanes()
    assert view.state == "offline" and "offline" in view.alerts


def test_images_are_purged_after_their_retention(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    tx = lane.traveller(face_match=False)
    lane.cycle()
    station.sign_in("S1", "sam-secret-3")
    assert station.case(tx).live_jpeg is not None
    clock.advance(3601)
    station.touch()
    station.sign_in("S1", "sam-secret-3")
    assert station.case(tx).live_jpeg is None and station.case(tx).chip_jpeg is None
    assert station.purge_images() == 2
    with sborder.owner.connect() as c:
        assert c.execute(select(referral_images)).all() == []


def test_officer_log_detects_tampering(station: Station, sborder: StationBorder) -> None:
    station.sign_in("A1", "ada-secret-1")
    station.sign_out()
    assert verify_actions(sborder.owner)["valid"]
    with sborder.owner.begin() as c:
        c.execute(update(officer_actions).where(officer_actions.c.seq == 1).values(officer_id="B2"))
    verdict = verify_actions(sborder.owner)
    assert (verdict["valid"], verdict["entries"], verdict["first_bad_seq"]) == (False, 0, 1)


def test_an_officer_of_another_port_sees_nothing_of_this_one(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    from kiosk.supervisor.officers import OfficerDirectory
    from tests.supervisor.conftest import CHEAP

    OfficerDirectory(sborder.owner, clock, params=CHEAP).add(
        "P1", "Pek", "officer", "pek-secret-5", "PEK"
    )
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)  # a CSX lane
    tx = lane.traveller(face_match=False)
    lane.cycle()
    station.sign_in("P1", "pek-secret-5")
    assert station.lanes() == [] and station.queue() == []
    for attempt in (lambda: station.case(tx), lambda: station.resolve(tx, "admit", "other", "x")):
        with pytest.raises(StationError) as hidden:
            attempt()
        assert hidden.value.code == "unknown_referral"


def test_a_late_admit_after_the_traveller_left_is_rejected(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    tx = lane.traveller(face_match=False)
    lane.cycle()
    station.sign_in("A1", "ada-secret-1")
    assert station.queue()[0].at_lane
    lane.rig.reader.present = False
    lane.rig.lane.post(DocumentRemoved())  # the traveller walks to the desk
    lane.cycle()
    clock.advance(lane.rig.lane.config.timeouts.result_display_s + 0.1)  # the screen ends
    lane.cycle()
    if station.officer is None:  # the shared clock also ran the officer's idle timer
        station.sign_in("A1", "ada-secret-1")
    [summary] = station.queue()
    assert not summary.at_lane and summary.as_json()["at_lane"] is False
    result = station.resolve(tx, "admit", "identity_confirmed", "compared the photos in person")
    lane.cycle()
    assert lane.rig.gate.opened_count == 0
    outcome, detail = station.command_result(result.command_id)
    # On PostgreSQL the border stamped the command with its own clock, which the test's
    # kiosk clock has run past: expired before it could be "not the referral".
    assert outcome == "rejected" and detail in (
        "not the referral in progress at this lane",
        "command not authenticated: expired: the command is past its expiry",
    )
    # The border reopens the case when the kiosk answers (b0007g); the stand-in at
    # the next action.
    reopened = ["case_reopened"] if sborder.backend == "postgres" else []
    history = [h["what"] for h in station.case(tx).history]
    assert history[0] == "admit"
    assert sorted(history) == sorted(["admit", "kiosk rejected", *reopened])
