"""Issue 19 items 1, 2, 7, 8, 9: each attack as the reviewer ran it, on a real
PostgreSQL border through the command-line entry point (kiosk K1's own role).

On the code before revision b0005i: the log verified with its key moved away
(sealed: false) and the sync pushed a forged admission; re-enrolling after
deleting the seals verified and pushed; a restored older copy of the local
database verified and the border never noticed; a backdated entry from another
kiosk replaced a 240-hour record; a kiosk's expires_at of 2099 stood; NOTIFY
told every listener the kiosk's id; a malformed time ended verify and sync
without a border alert.
"""

from __future__ import annotations

import gc
import os
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from kiosk.border.lookups import BorderApiSource
from kiosk.border.sync import BorderSync
from kiosk.cli.main import main
from kiosk.store.database import open_local
from kiosk.store.event_log import EventLog
from kiosk.store.seal import LogKeyError, create_key, load_key
from tests.border.conftest import KIOSK1_ROLE, KIOSK2_ROLE, ROLES, PgBorder, append, make_record
from tests.border.test_tamper import NOW, Kiosk, _rewrite_chain, egate

pytestmark = pytest.mark.postgres


@pytest.fixture
def kiosk(tmp_path: Path, pg_border: PgBorder, monkeypatch: pytest.MonkeyPatch) -> Kiosk:
    return Kiosk(tmp_path, pg_border, monkeypatch)


def _sealed_kiosk(kiosk: Kiosk, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """Enrolled, two events pushed, then a watchlist referral logged and unsent."""
    kiosk.log("admitted", "admitted")
    status, out = egate(capsys, "log", "enrol")
    # border_enrolled is checked after the attack, so that old code fails at the attack.
    assert status == 0
    assert egate(capsys, "sync", "--once")[0] == 0
    sealer = load_key(kiosk.key)
    referral = make_record(outcome="referred", document_number="WATCH001", finished_at=NOW)
    EventLog(kiosk.local, sealer).append(referral)
    return dict(out)


def _forge_admission(kiosk: Kiosk) -> None:
    _rewrite_chain(
        kiosk,
        "UPDATE transaction_events SET outcome = 'admitted', decision = 'admit', "
        "basis = 'transit_240h', reasons = '[]' WHERE seq = 3",
    )


def _entry(kiosk: Kiosk, document: str) -> object:
    engine = kiosk.pg.engine_as(KIOSK1_ROLE)
    try:
        return BorderApiSource(engine).entry_record(document, "USA")
    finally:
        engine.dispose()


def test_a_moved_key_does_not_make_a_forged_log_verify_or_push(
    kiosk: Kiosk, capsys: pytest.CaptureFixture[str]
) -> None:
    _sealed_kiosk(kiosk, capsys)
    kiosk.key.rename(kiosk.key.with_name("elsewhere.key"))  # mv log-seal.key
    _forge_admission(kiosk)
    status, out = egate(capsys, "log", "verify")
    assert status == 65 and out["sealed"] is False
    assert "key" in {f["kind"] for f in out["faults"]}
    status, out = egate(capsys, "log", "verify", "--against-border")
    assert status == 65
    assert any("border enrolled" in f["detail"] for f in out["faults"] if f["kind"] == "key")
    status, out = egate(capsys, "sync", "--once")
    assert status == 75 and "key_missing" in out["error"] and out["pushed"] == 0
    assert ("K1", "key_missing", 3) in kiosk.alerts()
    assert _entry(kiosk, "WATCH001") is None
    # The lane's own log refuses to write unsealed on a sealed log.
    with pytest.raises(LogKeyError, match="sealed but the log key is missing"):
        EventLog(kiosk.local).append(make_record(finished_at=NOW))


def test_a_different_key_is_refused_by_the_lane_and_the_border(
    kiosk: Kiosk, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _sealed_kiosk(kiosk, capsys)
    other = create_key(tmp_path / "other.key")
    with pytest.raises(LogKeyError, match="does not match the seal"):
        EventLog(kiosk.local, other).append(make_record(finished_at=NOW))
    sync = BorderSync(kiosk.local, kiosk.pg.engine_as(KIOSK1_ROLE), "K1", sealer=other)
    result = sync.run_once()
    assert result.pushed == 0 and result.error is not None and "key_mismatch" in result.error
    assert ("K1", "key_mismatch", 3) in kiosk.alerts()


def test_deleting_the_seals_and_enrolling_again_does_not_verify_or_push(
    kiosk: Kiosk, capsys: pytest.CaptureFixture[str]
) -> None:
    enrol = _sealed_kiosk(kiosk, capsys)
    kiosk.key.unlink()
    _forge_admission(kiosk)
    kiosk.tamper("DELETE FROM log_seals")
    kiosk.local = open_local(f"sqlite:///{kiosk.path}")
    assert egate(capsys, "log", "enrol")[0] == 77  # the border holds K1's enrolment
    assert not kiosk.key.exists()
    # Enrolled while the border is away: the local key is new, the border's is not.
    gc.collect()  # engines of earlier commands let go of the file
    kiosk.pg.server.set_connections(kiosk.pg.name, False)
    try:
        status = main(["log", "enrol", "--json"])
        captured = capsys.readouterr()
        assert status == 0, captured
    finally:
        kiosk.pg.server.set_connections(kiosk.pg.name, True)
    status, out = egate(capsys, "log", "verify", "--against-border")
    assert status == 65 and any(f["kind"] == "key" for f in out["faults"])
    status, out = egate(capsys, "sync", "--once")
    assert status == 75 and "key_mismatch" in out["error"] and out["pushed"] == 0
    assert _entry(kiosk, "WATCH001") is None
    # Rotation is the border's act, audited; then the new key enrols.
    owner_url = kiosk.pg.url.render_as_string(hide_password=False)
    status, out = egate(
        capsys, "border", "key-rotate", "--kiosk-id", "K1", "--reason", "test", "--url", owner_url
    )
    assert status == 0
    assert ("K1", "key_rotated", None) in kiosk.alerts()
    assert enrol["border_enrolled"] is True  # the first enrol reached the border


def test_a_restored_older_database_is_a_rollback_alert(
    kiosk: Kiosk, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    kiosk.log(*["admitted"] * 8)
    assert egate(capsys, "sync", "--once")[1]["pushed"] == 8
    backup = tmp_path / "backup.sqlite"
    _copy(kiosk.path, backup)  # the copy the attacker keeps
    kiosk.log("admitted", "admitted")
    # One heartbeat reports head 10; the push of 9 and 10 does not happen.
    sync = BorderSync(kiosk.local, kiosk.pg.engine_as(KIOSK1_ROLE), "K1")
    assert sync.pusher.probe().attested == "ok"
    sync.border_engine.dispose()
    _copy(backup, kiosk.path)  # ...and puts back
    assert EventLog(kiosk.local).count() == 8
    status, out = egate(capsys, "log", "verify")
    assert status == 0  # the older copy is a valid chain on its own...
    status, out = egate(capsys, "sync", "--once")
    assert status == 75 and "rollback" in out["error"]  # ...the border knows better
    assert ("K1", "rollback", 8) in kiosk.alerts()
    kiosk.log("admitted")  # and it takes nothing more until an administrator looks
    status, out = egate(capsys, "sync", "--once")
    assert status == 75 and out["pushed"] == 0
    owner_url = kiosk.pg.url.render_as_string(hide_password=False)
    status, out = egate(capsys, "border", "chain-resume", "--kiosk-id", "K1", "--url", owner_url)
    assert status == 0 and out["resumed"]["was_stopped"]
    status, out = egate(capsys, "sync", "--once")
    assert (status, out["pushed"]) == (0, 1)


def _copy(source: Path, target: Path) -> None:
    """A whole-database copy through SQLite (its backup API), as a restore
    tool would make it, safe beside the connections still open on it."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def test_a_forked_head_is_an_alert(kiosk: Kiosk, capsys: pytest.CaptureFixture[str]) -> None:
    kiosk.log("admitted", "admitted")
    assert egate(capsys, "sync", "--once")[0] == 0
    k1 = kiosk.pg.engine_as(KIOSK1_ROLE)
    with k1.begin() as c:
        answer = c.execute(text("SELECT border_log_attest(NULL, 2, :h)"), {"h": "f" * 64})
        assert answer.scalar_one() == "fork"
    k1.dispose()
    assert ("K1", "fork", 2) in kiosk.alerts()


def _set_lane(pg: PgBorder, role: str, port: str, lane: int) -> None:
    owner = pg.engine_as(None)
    with owner.begin() as c:
        c.execute(
            text("UPDATE kiosk_roles SET port = :p, lane = :l WHERE role_name = :r"),
            {"p": port, "l": lane, "r": role},
        )
    owner.dispose()


def test_a_backdated_citizen_entry_from_another_port_neither_lands_nor_replaces(
    pg_border: PgBorder, tmp_path: Path
) -> None:
    from dataclasses import replace

    now = datetime.now(UTC)
    _set_lane(pg_border, KIOSK1_ROLE, "CSX", 1)
    _set_lane(pg_border, KIOSK2_ROLE, "CSX", 2)
    local2 = open_local(f"sqlite:///{tmp_path}/k2.sqlite")
    real = replace(make_record("K2", document_number="T240", finished_at=now), lane=2)
    append(local2, real)
    assert BorderSync(local2, pg_border.engine_as(KIOSK2_ROLE), "K2").push().error is None
    # K1, compromised: a backdated citizen entry at another port...
    local1 = open_local(f"sqlite:///{tmp_path}/k1.sqlite")
    forged = replace(
        make_record("K1", document_number="T240", finished_at=now - timedelta(hours=5),
                    basis="citizen", permitted_until=None),
        port="PEK",
    )  # fmt: skip
    append(local1, forged)
    sync1 = BorderSync(local1, pg_border.engine_as(KIOSK1_ROLE), "K1")
    result = sync1.push()
    assert result.pushed == 0 and result.error is not None and "port CSX lane 1" in result.error
    # ...and at its own port and lane: kept, flagged, and not the record.
    local1b = open_local(f"sqlite:///{tmp_path}/k1b.sqlite")
    append(local1b, replace(forged, event_id=str(uuid.uuid4()), port="CSX"))
    owner = pg_border.engine_as(None)
    with owner.begin() as c:  # a fresh chain for the second local file
        c.execute(text("DELETE FROM kiosk_chain_heads WHERE kiosk_id = 'K1'"))
        c.execute(text("DELETE FROM kiosk_logs WHERE kiosk_id = 'K1'"))
    assert BorderSync(local1b, pg_border.engine_as(KIOSK1_ROLE), "K1").push().pushed == 1
    record = BorderApiSource(owner).entry_record("T240", "USA")
    assert record is not None and record["basis"] == "transit_240h"
    with owner.connect() as c:
        flagged = c.execute(text("SELECT kiosk_id FROM events WHERE entry_conflict")).all()
        alerts = c.execute(text("SELECT kiosk_id, kind FROM kiosk_alerts")).all()
    assert [r[0] for r in flagged] == ["K1"]
    assert ("K1", "entry_conflict") in [tuple(a) for a in alerts]
    owner.dispose()


def test_border_images_are_capped_and_purged_without_anyone_looking(
    pg_border: PgBorder, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = pg_border.engine_as(None)
    with owner.begin() as c:
        c.execute(text("TRUNCATE referral_images"))
    k1 = pg_border.engine_as(KIOSK1_ROLE)
    with k1.begin() as c:
        for kind, expires in (("live", "2099-01-01T00:00:00+00:00"),
                              ("chip", "2000-01-01T00:00:00+00:00")):  # fmt: skip
            c.execute(
                text(
                    "INSERT INTO referral_images (referral_id, kind, kiosk_id, jpeg, expires_at) "
                    "VALUES (:r, :k, 'K1', '\\xff', :e)"
                ),
                {"r": uuid.uuid4(), "k": kind, "e": expires},
            )
    k1.dispose()
    with owner.connect() as c:
        latest = c.execute(text("SELECT max(expires_at) - now() FROM referral_images")).scalar()
    assert latest is not None and latest <= timedelta(hours=720)  # the kiosk's 2099 is capped
    url = pg_border.url.render_as_string(hide_password=False)
    status, out = egate(capsys, "border", "purge", "--url", url)
    assert status == 0 and out["deleted"] == 1  # the expired one, no officer involved
    # Lowering the maximum applies to what is stored already.
    status, out = egate(capsys, "border", "purge", "--max-retention-h", "0", "--url", url)
    assert status == 0 and out["deleted"] == 1 and out["max_retention_h"] == 0
    with owner.connect() as c:
        assert c.execute(text("SELECT count(*) FROM referral_images")).scalar() == 0
        c.execute(text("UPDATE border_settings SET value = '720'"))
        c.commit()
    owner.dispose()


def test_no_local_image_outlives_the_retention_in_force(tmp_path: Path) -> None:
    from kiosk.runtime.app import ReferralImages
    from kiosk.store.models import ReferralImage
    from tests.border.test_tamper import NOW as at

    class Clock:
        def __init__(self) -> None:
            self.at = at

        def now(self) -> datetime:
            return self.at

    engine = open_local(f"sqlite:///{tmp_path}/local.sqlite")
    clock = Clock()
    ReferralImages(engine, 720, clock)(str(uuid.uuid4()), b"\xff")  # type: ignore[arg-type]
    clock.at = at + timedelta(hours=2)
    assert ReferralImages(engine, 720, clock).purge() == 0  # type: ignore[arg-type]
    # Retention lowered to 1 h: the next purge removes the 2-hour-old frame.
    assert ReferralImages(engine, 1, clock).purge() == 1  # type: ignore[arg-type]
    ReferralImages(engine, 1, clock)(str(uuid.uuid4()), b"\xff")  # type: ignore[arg-type]
    assert ReferralImages(engine, 0, clock).purge() == 1  # type: ignore[arg-type]
    with engine.connect() as c:
        assert c.execute(text(f"SELECT count(*) FROM {ReferralImage.__tablename__}")).scalar() == 0


def test_notifications_do_not_name_kiosks(pg_border: PgBorder) -> None:
    import psycopg

    dsn = pg_border.url.set(drivername="postgresql", username=KIOSK1_ROLE)
    listener = psycopg.connect(dsn.render_as_string(hide_password=False), autocommit=True)
    try:
        listener.execute("LISTEN egate_station")  # PostgreSQL cannot refuse this
        k2 = pg_border.engine_as(KIOSK2_ROLE)
        with k2.begin() as c:
            c.execute(
                text(
                    "INSERT INTO kiosk_status (kiosk_id, port, lane, direction, state, "
                    "in_service, pending_events, state_since, heartbeat_at) VALUES "
                    "('K2', 'CSX', 2, 'entry', 'idle', true, 0, now(), now()) "
                    "ON CONFLICT (kiosk_id) DO UPDATE SET state = 'idle'"
                )
            )
        k2.dispose()
        notes = list(listener.notifies(timeout=5, stop_after=1))
        assert len(notes) == 1 and notes[0].payload == ""
    finally:
        listener.close()


def test_a_malformed_time_is_an_altered_event_with_a_border_alert(
    kiosk: Kiosk, capsys: pytest.CaptureFixture[str]
) -> None:
    kiosk.log("admitted", "admitted", "admitted")
    kiosk.tamper("UPDATE transaction_events SET started_at = 'not a time' WHERE seq = 2")
    kiosk.local = open_local(f"sqlite:///{kiosk.path}")
    status, out = egate(capsys, "log", "verify")
    assert status == 65 and out["first_broken"]["kind"] == "altered"
    assert out["first_broken"]["seq"] == 2
    status, out = egate(capsys, "sync", "--once")
    assert status == 75 and out["pushed"] == 1 and "event 2 cannot be read" in out["error"]
    assert ("K1", "local_log", 2) in kiosk.alerts()


def test_the_key_file_is_checked_before_it_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.key"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(LogKeyError, match="not a regular file"):
        load_key(fifo)  # returns at once: opened without blocking, then refused
    with pytest.raises(LogKeyError, match="not a regular file"):
        load_key(Path("/dev/zero"))
    big = tmp_path / "big.key"
    big.write_text("a" * 10_000)
    big.chmod(0o600)
    with pytest.raises(LogKeyError, match="larger than"):
        load_key(big)


def test_supervisor_reads_kiosk_logs_kiosks_do_not(pg_border: PgBorder) -> None:
    from sqlalchemy.exc import ProgrammingError

    sup = pg_border.engine_as(ROLES.supervisor)
    with sup.connect() as c:
        c.execute(text("SELECT kiosk_id, reported_seq, held_reason FROM kiosk_logs"))
    sup.dispose()
    k1 = pg_border.engine_as(KIOSK1_ROLE)
    with pytest.raises(ProgrammingError, match="permission denied"), k1.connect() as c:
        c.execute(text("SELECT verifier FROM kiosk_logs"))
    k1.dispose()
