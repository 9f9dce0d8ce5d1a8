"""The append-only, hash-chained event log and its outbox."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kiosk.clock import as_utc
from kiosk.store.models import OutboxEntry, TransactionEvent

GENESIS = "0" * 64


def utc_iso(at: datetime) -> str:
    """One UTC form of aware and naive (SQLite) times, for the chain hash."""
    return as_utc(at).isoformat()


@dataclass(frozen=True)
class EventRecord:
    """What the workflow hands the log for one finished transaction."""

    event_id: str
    kiosk_id: str
    port: str
    lane: int
    direction: str
    started_at: datetime
    finished_at: datetime
    stages: dict[str, str]
    outcome: str
    decision: str | None
    basis: str | None
    reasons: Sequence[str]
    policy_pack: str | None
    policy_version: str | None
    document: dict[str, Any]
    checks: dict[str, Any]
    transaction_ms: float | None
    error: str | None

    def canonical(self) -> bytes:
        body: dict[str, Any] = {name: getattr(self, name) for name in RECORD_FIELDS}
        body["started_at"] = utc_iso(self.started_at)
        body["finished_at"] = utc_iso(self.finished_at)
        body["reasons"] = list(self.reasons)
        return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


# Every field of the record is a column of the same name (kiosk.store.models).
RECORD_FIELDS = tuple(f.name for f in fields(EventRecord))


def chain(previous: str, record: EventRecord) -> str:
    return hashlib.sha256(previous.encode() + record.canonical()).hexdigest()


class EventLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(self, record: EventRecord) -> str:
        """Store the event and its outbox entry in one transaction; returns the chain hash."""
        with Session(self.engine) as session, session.begin():
            last = session.scalars(
                select(TransactionEvent.chain_hash).order_by(TransactionEvent.seq.desc()).limit(1)
            ).first()
            digest = chain(last or GENESIS, record)
            values = {name: getattr(record, name) for name in RECORD_FIELDS}
            # Stored as UTC: SQLite keeps no zone, and readers (the chain check,
            # the sync) take what it returns as UTC.
            values["started_at"] = as_utc(record.started_at)
            values["finished_at"] = as_utc(record.finished_at)
            values["reasons"] = list(record.reasons)
            session.add(TransactionEvent(**values, chain_hash=digest))
            session.add(OutboxEntry(event_id=record.event_id, attempts=0))
        return digest

    def count(self) -> int:
        with Session(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(TransactionEvent)) or 0)

    def events(self) -> list[TransactionEvent]:
        with Session(self.engine, expire_on_commit=False) as session:
            return list(session.scalars(select(TransactionEvent).order_by(TransactionEvent.seq)))

    def verify_chain(self) -> bool:
        """Recompute the hash chain; False when any row was altered or removed."""
        previous = GENESIS
        for row in self.events():
            record = EventRecord(**{name: getattr(row, name) for name in RECORD_FIELDS})
            previous = chain(previous, record)
            if previous != row.chain_hash:
                return False
        return True
