from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from kiosk.store.database import open_local
from kiosk.store.event_log import EventLog, EventRecord
from kiosk.store.models import Base
from kiosk.store.reference import ReferenceStore
from kiosk.store.verify import verify_log
from tests.schema_diff import schema_diff


def record(event_id: str) -> EventRecord:
    at = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
    return EventRecord(event_id, "K1", "CSX", 1, "entry", at, at, {"idle": at.isoformat()},
                       "referred", "refer", None, ["face_mismatch"], "pack", "1",
                       {"document_number": "X1"}, {"document_authentic": True}, 812.5, None)


def test_round_trip_and_outbox(tmp_path: Path) -> None:
    engine = open_local(f"sqlite:///{tmp_path}/l.sqlite")
    log = EventLog(engine)
    log.append(record("a"))
    log.append(record("b"))
    [a, b] = log.events()
    assert (a.event_id, a.reasons, a.document, a.transaction_ms) == (
        "a", ["face_mismatch"], {"document_number": "X1"}, 812.5)
    assert a.chain_hash != b.chain_hash
    with engine.connect() as c:
        assert c.execute(text("select count(*) from outbox where sent_at is null")).scalar() == 2
    assert verify_log(log.engine, log.sealer).valid


def test_event_log_is_append_only(tmp_path: Path) -> None:
    engine = open_local(f"sqlite:///{tmp_path}/l.sqlite")
    EventLog(engine).append(record("a"))
    for statement in ("update transaction_events set outcome='admitted'",
                      "delete from transaction_events"):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as c:
            c.execute(text(statement))
    assert EventLog(engine).count() == 1


def test_tampering_breaks_the_hash_chain(tmp_path: Path) -> None:
    engine = open_local(f"sqlite:///{tmp_path}/l.sqlite")
    log = EventLog(engine)
    log.append(record("a"))
    log.append(record("b"))
    with engine.begin() as c:  # an attacker with file access drops the trigger first
        c.execute(text("drop trigger transaction_events_no_update"))
        c.execute(text("update transaction_events set reasons='[]' where event_id='a'"))
    assert not verify_log(log.engine, log.sealer).valid


def test_migrations_match_models_and_sqlite_is_durable(tmp_path: Path) -> None:
    engine = open_local(f"sqlite:///{tmp_path}/l.sqlite")
    open_local(f"sqlite:///{tmp_path}/l.sqlite")  # second start: idempotent
    assert schema_diff(engine, Base.metadata, "alembic_version") == []
    with engine.connect() as c:
        assert c.execute(text("pragma journal_mode")).scalar() == "wal"
        assert c.execute(text("pragma synchronous")).scalar() == 2  # FULL


def test_reference_store_replaces_and_reports_changes(tmp_path: Path) -> None:
    store = ReferenceStore(open_local(f"sqlite:///{tmp_path}/l.sqlite"))
    assert store.put("csca", "UTO-1", b"cert", "test import")
    assert not store.put("csca", "UTO-1", b"cert", "again")
    assert store.put("csca", "UTO-1", b"cert2", "renewed")
    [item] = store.items("csca")
    assert (item.payload, item.provenance) == (b"cert2", "renewed")
    assert store.items("crl") == []
