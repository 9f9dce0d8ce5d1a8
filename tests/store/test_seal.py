"""The outbox's protection, the log key file and the seals (local migration 0002)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from kiosk.store.database import open_local
from kiosk.store.event_log import EventLog, EventRecord
from kiosk.store.seal import LogKeyError, create_key, load_key, optional_key
from kiosk.store.verify import verify_log

AT = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)


def record(event_id: str) -> EventRecord:
    return EventRecord(event_id, "K1", "CSX", 1, "entry", AT, AT, {}, "referred", "refer",
                       None, ["face_mismatch"], "pack", "1", {"document_number": "X1"}, {},
                       812.5, None)  # fmt: skip


def test_the_outbox_is_protected_like_the_events(tmp_path: Path) -> None:
    engine = open_local(f"sqlite:///{tmp_path}/l.sqlite")
    EventLog(engine).append(record("a"))
    with engine.begin() as c:
        c.execute(text("UPDATE outbox SET sent_at = '2026-03-01', attempts = 1"))
    for statement, message in (
        ("DELETE FROM outbox", "cannot be deleted"),
        ("UPDATE outbox SET event_id = 'b'", "keeps its event"),
        ("UPDATE outbox SET sent_at = NULL", "stays sent"),
        ("INSERT INTO outbox (event_id, attempts) VALUES ('ghost', 0)", "needs its event"),
    ):
        with pytest.raises(DatabaseError, match=message), engine.begin() as c:
            c.execute(text(statement))
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM outbox")).scalar() == 1


def test_seals_are_written_with_each_event_and_checked(tmp_path: Path) -> None:
    engine = open_local(f"sqlite:///{tmp_path}/l.sqlite")
    sealer = create_key(tmp_path / "keys" / "log.key")
    log = EventLog(engine, sealer)
    log.append(record("a"))
    log.append(record("b"))
    assert verify_log(engine, sealer).valid
    for statement in ("UPDATE log_seals SET mac = 'x'", "DELETE FROM log_seals"):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as c:
            c.execute(text(statement))
    other = create_key(tmp_path / "other.key")  # a different kiosk's key
    report = verify_log(engine, other)
    assert not report.valid and {f.kind for f in report.faults} == {"altered"}


def test_the_key_file_is_private_and_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    assert optional_key(path) is None
    create_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(LogKeyError, match="exists"):
        create_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(LogKeyError, match="readable by others"):
        load_key(path)
    os.chmod(path, 0o600)
    path.write_text("not hex\n")
    with pytest.raises(LogKeyError, match="hex"):
        load_key(path)
