"""The append-only, hash-chained event log and its outbox."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kiosk.store.models import OutboxEntry, TransactionEvent

GENESIS = "0" * 64


def _as_utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def utc_iso(at: datetime) -> str:
    """SQLite returns naive datetimes; the chain hashes one UTC form of both."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat()


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
        body = {
            "event_id": self.event_id,
            "kiosk_id": self.kiosk_id,
            "port": self.port,
            "lane": self.lane,
            "direction": self.direction,
            "started_at": utc_iso(self.started_at),
            "finished_at": utc_iso(self.finished_at),
            "stages": self.stages,
            "outcome": self.outcome,
            "decision": self.decision,
            "basis": self.basis,
            "reasons": list(self.reasons),
            "policy_pack": self.policy_pack,
            "policy_version": self.policy_version,
            "document": self.document,
            "checks": self.checks,
            "transaction_ms": self.transaction_ms,
            "error": self.error,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


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
            session.add(
                TransactionEvent(
                    event_id=record.event_id,
                    kiosk_id=record.kiosk_id,
                    port=record.port,
                    lane=record.lane,
                    direction=record.direction,
                    # Stored as UTC: SQLite keeps no zone, and readers (the chain
                    # check, the sync) take what it returns as UTC.
                    started_at=_as_utc(record.started_at),
                    finished_at=_as_utc(record.finished_at),
                    stages=record.stages,
                    outcome=record.outcome,
                    decision=record.decision,
                    basis=record.basis,
                    reasons=list(record.reasons),
                    policy_pack=record.policy_pack,
                    policy_version=record.policy_version,
                    document=record.document,
                    checks=record.checks,
                    transaction_ms=record.transaction_ms,
                    error=record.error,
                    chain_hash=digest,
                )
            )
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
            record = EventRecord(
                event_id=row.event_id,
                kiosk_id=row.kiosk_id,
                port=row.port,
                lane=row.lane,
                direction=row.direction,
                started_at=row.started_at,
                finished_at=row.finished_at,
                stages=row.stages,
                outcome=row.outcome,
                decision=row.decision,
                basis=row.basis,
                reasons=row.reasons,
                policy_pack=row.policy_pack,
                policy_version=row.policy_version,
                document=row.document,
                checks=row.checks,
                transaction_ms=row.transaction_ms,
                error=row.error,
            )
            previous = chain(previous, record)
            if previous != row.chain_hash:
                return False
        return True
