"""Issue 18's attacks on the officer loop, each refused (real lane, real agent, real
border database: the SQLite stand-in and PostgreSQL with the installation's roles).

Every test here failed on the code before b0004o: the gate opened for the wrong
passport, a row written into `commands` opened a gate, the requesting officer
confirmed their own admit, parallel sign-ins lost failures, the station read
every hash, an unkeyed officer log accepted a forged entry.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError

from kiosk.border.station_tables import commands, kiosk_status, officer_actions, officers, referrals
from kiosk.clock import FakeClock
from kiosk.lane.states import LaneState
from kiosk.supervisor.audit import verify_actions
from kiosk.supervisor.officers import OfficerDirectory, OfficerError
from kiosk.supervisor.station import Station, StationError
from tests.border.conftest import ROLES
from tests.supervisor.conftest import CHEAP, Lane, StationBorder

S = LaneState
PG_ONLY = pytest.mark.parametrize("sborder", ["postgres"], indirect=True)


def _refer(station: Station, lane: Lane) -> str:
    """Traveller T is referred (face mismatch) and the case reaches the station."""
    tx = lane.traveller(face_match=False)
    lane.cycle()
    assert lane.rig.lane.state is S.REFERRED
    station.sign_in("A1", "ada-secret-1")
    assert [str(r.referral_id) for r in station.queue()] == [tx]
    return tx


def _admit(station: Station, lane: Lane, tx: str) -> tuple[str | None, str | None]:
    result = station.resolve(tx, "admit", "identity_confirmed", "compared the photos in person")
    assert result.command_id is not None
    lane.cycle()
    return station.command_result(result.command_id)


# -- 1. an admit opens the gate only for the referred traveller ---------------------------
def test_admit_after_the_passport_left_is_rejected_for_the_next_passport(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    """T is referred, takes the passport and leaves; B lays their own passport."""
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    tx = _refer(station, lane)
    lane.rig.reader.remove()  # T takes the passport ...
    lane.rig.lane.run_pending()
    lane.rig.face.match = True  # ... and B, whose own passport matches B, steps up
    lane.rig.reader.place()
    lane.rig.lane.run_pending()
    result, detail = _admit(station, lane, tx)
    assert result == "rejected" and detail is not None
    assert detail.startswith("passport_left_reader")
    assert lane.rig.gate.opened_count == 0 and lane.rig.gate.state == "closed"
    history = [h["what"] for h in station.case(tx).history]
    assert "kiosk rejected" in history


def test_admit_with_another_chip_of_the_same_number_is_rejected(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    """The passport is swapped without the reader noticing (or a clone of T's
    document number): the chip read again is not the referred chip."""
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    tx = _refer(station, lane)
    read = lane.rig.reader.read

    def other_chip(key: object) -> object:
        result = read(key)  # type: ignore[arg-type]
        result.files["EF.SOD"] = b"another chip's security object"  # type: ignore[attr-defined]
        return result

    lane.rig.reader.read = other_chip  # type: ignore[method-assign,assignment]
    lane.rig.face.match = True
    result, detail = _admit(station, lane, tx)
    assert result == "rejected" and detail is not None and detail.startswith("other_chip")
    assert lane.rig.gate.opened_count == 0


def test_admit_with_a_different_face_at_the_camera_is_rejected(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    tx = _refer(station, lane)
    calls = lane.rig.face.calls
    result, detail = _admit(station, lane, tx)  # the fake face still does not match
    assert lane.rig.face.calls == calls + 1  # a fresh capture was taken
    assert result == "rejected" and detail is not None and detail.startswith("face_mismatch")
    assert lane.rig.gate.opened_count == 0
    event = lane.rig.log.events()[-1]  # on the kiosk's own log, with why
    assert (event.outcome, event.checks["result"]) == ("officer", "rejected")
    assert event.checks["authentication"] == "verified"


def test_admit_of_the_referred_traveller_still_opens(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    tx = _refer(station, lane)
    lane.rig.face.match = True  # T looks at the camera again: matches the chip photo
    assert _admit(station, lane, tx) == ("executed", "")
    assert lane.rig.gate.state == "open"


# -- 2. forged commands -------------------------------------------------------------------
def _forged_row(kiosk: str, rid: uuid.UUID, mac: str | None) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "command_id": uuid.uuid4(), "kiosk_id": kiosk, "kind": "admit", "referral_id": rid,
        "officer_id": "NOBODY", "reason_code": "identity_confirmed", "reason_text": "",
        "issued_at": now, "expires_at": now + timedelta(minutes=5), "mac": mac,
    }  # fmt: skip


@pytest.mark.parametrize("mac", [None, "0" * 64])
def test_a_command_written_into_the_table_opens_nothing(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path, mac: str | None
) -> None:
    """Whoever writes `commands` directly (here the border's owner, past every grant)
    cannot make the kiosk's MAC: the kiosk logs the command, rejects it, gate closed."""
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    tx = lane.traveller(watchlist=True)
    lane.cycle()
    row = _forged_row("K1", uuid.UUID(tx), mac)
    with sborder.owner.begin() as c:
        c.execute(insert(commands), row)
    lane.cycle()
    assert lane.rig.gate.opened_count == 0 and lane.rig.lane.state is S.REFERRED
    event = lane.rig.log.events()[-1]
    assert event.checks["command_id"] == str(row["command_id"])
    assert event.checks["result"] == "rejected"
    assert event.checks["authentication"].startswith("unsigned" if mac is None else "bad_mac")
    with sborder.owner.connect() as c:
        ack = c.execute(select(commands.c.result).where(
            commands.c.command_id == row["command_id"])).scalar_one()  # fmt: skip
    assert ack == "rejected"
    with sborder.owner.connect() as c:  # the referral stays open for a real officer
        assert c.execute(select(referrals.c.status)).scalar_one() == "open"


@PG_ONLY
@pytest.mark.postgres
def test_the_station_role_cannot_write_commands_actions_or_cases(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    tx = lane.traveller(watchlist=True)
    lane.cycle()
    action = {
        "action_id": uuid.uuid4(), "kind": "admit", "kiosk_id": "K1", "officer_id": "O2",
        "second_officer_id": "S1", "reason_code": "x", "reason_text": "",
        "at": datetime.now(UTC), "detail": {}, "chain_hash": "0" * 64,
    }  # fmt: skip
    attempts = [
        insert(commands).values(**_forged_row("K1", uuid.UUID(tx), "0" * 64)),
        insert(officer_actions).values(**action),
        update(referrals).values(status="resolved"),
        update(officers).values(locked_until=None, failed_attempts=0),
    ]
    for stmt in attempts:
        denied = pytest.raises(ProgrammingError, match="permission denied")
        with denied, sborder.station.begin() as c:
            c.execute(stmt)


# -- 3. two distinct officers -------------------------------------------------------------
def test_the_requesting_officer_cannot_be_the_second(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    tx = lane.traveller(watchlist=True)
    lane.cycle()
    station.sign_in("A1", "ada-secret-1")
    assert (
        station.resolve(tx, "admit", "identity_confirmed", "compared the photos in person").status
        == "awaiting_second"
    )
    station.sign_out()
    station.sign_in("B2", "ben-secret-2")  # another officer's station ...
    for typed in ("A1", "a1", "Ａ１"):  # ... types the requester's id (any spelling)
        with pytest.raises(StationError) as same:
            station.confirm(tx, typed, "ada-secret-1")
        assert same.value.code == "same_officer"
    lane.cycle()
    assert lane.rig.gate.opened_count == 0
    with sborder.owner.connect() as c:
        assert c.execute(select(commands)).all() == []
    with pytest.raises(IntegrityError), sborder.owner.begin() as c:  # the table's own rule
        c.execute(insert(commands), {**_forged_row("K1", uuid.UUID(tx), None),
                                     "officer_id": "A1", "second_officer_id": "A1"})  # fmt: skip
    with pytest.raises(IntegrityError), sborder.owner.begin() as c:
        c.execute(insert(commands), {**_forged_row("K1", uuid.UUID(tx), None),
                                     "officer_id": "A1", "two_officer": True})  # fmt: skip


def test_a_chip_not_genuine_admit_needs_a_second_officer(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    Lane(tmp_path, sborder.kiosk, "K1", clock).cycle()
    rid = uuid.uuid4()
    with sborder.kiosk.begin() as c:  # as the kiosk publishes it
        c.execute(insert(referrals), {
            "referral_id": rid, "kiosk_id": "K1", "port": "CSX", "lane": 1,
            "direction": "entry", "referred_at": clock.now(), "reasons": ["chip_not_genuine"],
            "watchlist": False, "details": {},
        })  # fmt: skip
    station.sign_in("A1", "ada-secret-1")
    assert (
        station.resolve(rid, "admit", "identity_confirmed", "compared the photos in person").status
        == "awaiting_second"
    )
    assert station.confirm(rid, "B2", "ben-secret-2").status == "issued"


# -- 4. accounts --------------------------------------------------------------------------
@PG_ONLY
@pytest.mark.postgres
def test_twenty_parallel_wrong_sign_ins_leave_the_account_locked(
    station: Station, sborder: StationBorder, clock: FakeClock
) -> None:
    barrier = threading.Barrier(20)

    def attempt(i: int) -> str:
        desk = Station(sborder.station, clock, station.settings)
        barrier.wait()
        try:
            desk.sign_in("A1", f"wrong-secret-{i}")
        except StationError as exc:
            return exc.code
        return "signed_in"

    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(attempt, range(20)))
    assert "signed_in" not in codes
    assert codes.count("invalid_credentials") == 2  # max_failed = 3: the rest lock or see it
    with sborder.owner.connect() as c:
        row = c.execute(select(officers).where(officers.c.officer_id == "A1")).one()
        refused = c.execute(
            text("SELECT count(*) FROM officer_actions WHERE kind = 'sign_in_refused'")
        ).scalar_one()
    assert row.failed_attempts >= 3 and row.locked_until is not None
    assert refused == 20  # every attempt is on the officer log
    with pytest.raises(StationError) as locked:
        station.sign_in("A1", "ada-secret-1")  # the right secret while locked
    assert locked.value.code == "locked"


@PG_ONLY
@pytest.mark.postgres
@pytest.mark.parametrize("role", ["station", "admin", "kiosk"])
def test_no_client_role_reads_a_secret(
    station: Station,
    sborder: StationBorder,
    pg_border,
    role: str,  # type: ignore[no-untyped-def]
) -> None:
    engine = {
        "station": sborder.station, "kiosk": sborder.kiosk,
        "admin": pg_border.engine_as(ROLES.admin),
    }[role]  # fmt: skip
    for column in ("secret_check", "secret_salt", "secret_params"):
        with pytest.raises(ProgrammingError, match="permission denied"), engine.connect() as c:
            c.execute(text(f"SELECT {column} FROM officers"))
    for table in ("officer_sessions", "officer_log_key", "kiosk_command_keys", "officer_policy"):
        with pytest.raises(ProgrammingError, match="permission denied"), engine.connect() as c:
            c.execute(text(f"SELECT * FROM {table}"))


@pytest.mark.parametrize(
    ("secret", "role"),
    [("1234", "officer"), ("123456789012", "officer"), ("123456789012", "supervisor"),
     ("short", "maintenance"), ("aaaaaaaaaaaa", "officer")],
)  # fmt: skip
def test_weak_secrets_are_refused(sborder: StationBorder, secret: str, role: str) -> None:
    directory = OfficerDirectory(sborder.owner, FakeClock(), params=CHEAP)
    with pytest.raises(OfficerError) as weak:
        directory.add("W1", "Weak", role, secret, "CSX")
    assert weak.value.code == "weak_secret"


def test_officer_ids_are_normalised_and_lookalikes_refused(
    station: Station, sborder: StationBorder
) -> None:
    directory = OfficerDirectory(sborder.owner, FakeClock(), params=CHEAP)
    assert directory.add("ｏ９", "Full Width", "officer", "full-width-9").officer_id == "O9"
    for bad in ("О9", "A1<script>", "A 1", "Α1", "", "x" * 33):  # Cyrillic O, Greek Alpha
        with pytest.raises(OfficerError) as refused:
            directory.add(bad, "Bad", "officer", "bad-secret-99")
        assert refused.value.code == "invalid_officer_id"
    with pytest.raises(OfficerError) as twin:  # "Ａ１" is A1, who exists
        directory.add("Ａ１", "Twin", "officer", "twin-secret-1")
    assert twin.value.code == "officer_exists"
    assert station.sign_in("ａ１", "ada-secret-1").officer_id == "A1"


def test_maintenance_acts_only_on_its_own_port(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    Lane(tmp_path, sborder.kiosk, "K1", clock).cycle()  # a CSX kiosk
    with sborder.owner.begin() as c:  # a PEK kiosk reports too
        c.execute(insert(kiosk_status), {
            "kiosk_id": "P9", "port": "PEK", "lane": 9, "direction": "entry", "state": "idle",
            "detail": "welcome", "transaction_id": None, "in_service": True,
            "pending_events": 0, "reference_age_h": 1.0, "state_since": clock.now(),
            "heartbeat_at": clock.now(),
        })  # fmt: skip
    station.sign_in("M1", "max-secret-4")
    with pytest.raises(StationError) as other:
        station.lane_command("P9", "close", "maintenance")
    assert other.value.code == "unknown_kiosk"
    assert station.lane_command("K1", "close", "maintenance").status == "issued"


# -- 5. the keyed officer log -------------------------------------------------------------
def test_an_appended_forged_action_breaks_the_keyed_log(
    station: Station, sborder: StationBorder, capsys: pytest.CaptureFixture[str]
) -> None:
    """A row with a chain hash computed the old, unkeyed way (SHA-256 of the previous
    hash and the row), written past every grant, does not verify."""
    from kiosk.cli.main import main
    from kiosk.supervisor.audit import ActionRecord

    station.sign_in("A1", "ada-secret-1")
    station.sign_out()
    assert verify_actions(sborder.owner)["valid"]
    with sborder.owner.begin() as c:
        last = c.execute(select(officer_actions.c.chain_hash)
                         .order_by(officer_actions.c.seq.desc()).limit(1)).scalar_one()  # fmt: skip
        forged = ActionRecord("admit", "K1", "O2", "identity_confirmed", "", datetime.now(UTC),
                              uuid.uuid4(), "S1")  # fmt: skip
        digest = hashlib.sha256(last.encode() + forged.canonical()).hexdigest()
        c.execute(insert(officer_actions), {
            "action_id": forged.action_id, "kind": "admit", "referral_id": forged.referral_id,
            "kiosk_id": "K1", "officer_id": "O2", "second_officer_id": "S1",
            "reason_code": "identity_confirmed", "reason_text": "", "at": forged.at,
            "detail": {}, "chain_hash": digest,
        })  # fmt: skip
    verdict = verify_actions(sborder.owner)
    assert (verdict["valid"], verdict["entries"]) == (False, 2)
    url = sborder.owner.url.render_as_string(hide_password=False)
    try:
        status = main(["officers", "log", "--verify", "--json", "--url", url])
    except SystemExit as exc:
        status = int(exc.code or 0)
    assert status == 65
    out = json.loads(capsys.readouterr().out)
    assert out["verification"]["valid"] is False and len(out["entries"]) == 3
    assert [e["kind"] for e in out["entries"]] == ["sign_in", "sign_out", "admit"]


def test_case_log_shows_a_cases_entries(
    station: Station, sborder: StationBorder, clock: FakeClock, tmp_path: Path
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    tx = _refer(station, lane)
    station.resolve(tx, "refuse", "identity_not_confirmed")
    log = station.case_log(tx)
    assert [(e["kind"], e["officer_id"]) for e in log] == [("refuse", "A1")]
    assert log[0]["detail"]["command_id"] and len(log[0]["detail"]["mac"]) == 64


@PG_ONLY
@pytest.mark.postgres
def test_station_role_cannot_append_to_the_log_or_read_its_key(
    station: Station, sborder: StationBorder
) -> None:
    with pytest.raises(DBAPIError), sborder.station.begin() as c:
        c.execute(text("SELECT border__log('admit', 'K1', 'O2', 'S1', 'x', '', NULL, '{}')"))
    with pytest.raises(DBAPIError), sborder.station.begin() as c:
        c.execute(text("SELECT border__issue('K1', 'admit', NULL, 'O2', 'S1', 'x', '', true)"))
