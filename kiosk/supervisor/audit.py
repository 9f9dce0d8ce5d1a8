"""The border's log of officer actions: append-only rows, hash-chained like the
kiosk's event log, so a removed or altered action breaks the chain."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text

from kiosk.clock import as_utc
from kiosk.supervisor.tables import officer_actions

GENESIS = "0" * 64
# pg_advisory_xact_lock key: one writer of the chain at a time across stations.
_CHAIN_LOCK = 0x65676174


@dataclass(frozen=True)
class ActionRecord:
    kind: str  # admit, refuse, manual, reset, close, open, admit_requested, sign_in ...
    kiosk_id: str
    officer_id: str
    reason_code: str
    reason_text: str
    at: datetime
    referral_id: uuid.UUID | None = None
    second_officer_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    action_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def canonical(self) -> bytes:
        body = {
            "action_id": str(self.action_id),
            "kind": self.kind,
            "kiosk_id": self.kiosk_id,
            "officer_id": self.officer_id,
            "second_officer_id": self.second_officer_id,
            "reason_code": self.reason_code,
            "reason_text": self.reason_text,
            "at": as_utc(self.at).isoformat(),
            "referral_id": str(self.referral_id) if self.referral_id else None,
            "detail": self.detail,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def chain(previous: str, record: ActionRecord) -> str:
    return hashlib.sha256(previous.encode() + record.canonical()).hexdigest()


_local_lock = threading.Lock()


def append_action(c: Connection, record: ActionRecord) -> str:
    """Append inside the caller's transaction; returns the chain hash."""
    if c.dialect.name == "postgresql":
        c.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})
    last = c.execute(
        select(officer_actions.c.chain_hash).order_by(officer_actions.c.seq.desc()).limit(1)
    ).scalar()
    digest = chain(last or GENESIS, record)
    c.execute(
        insert(officer_actions),
        {
            "action_id": record.action_id,
            "kind": record.kind,
            "referral_id": record.referral_id,
            "kiosk_id": record.kiosk_id,
            "officer_id": record.officer_id,
            "second_officer_id": record.second_officer_id,
            "reason_code": record.reason_code,
            "reason_text": record.reason_text,
            "at": record.at,
            "detail": record.detail,
            "chain_hash": digest,
        },
    )
    return digest


def record_action(engine: Engine, record: ActionRecord) -> str:
    with _local_lock, engine.begin() as c:
        return append_action(c, record)


def _record(row: Any) -> ActionRecord:
    return ActionRecord(
        kind=row.kind,
        kiosk_id=row.kiosk_id,
        officer_id=row.officer_id,
        reason_code=row.reason_code,
        reason_text=row.reason_text,
        at=row.at,
        referral_id=row.referral_id,
        second_officer_id=row.second_officer_id,
        detail=dict(row.detail),
        action_id=row.action_id,
    )


def actions(engine: Engine, referral_id: uuid.UUID | None = None) -> list[ActionRecord]:
    query = select(officer_actions).order_by(officer_actions.c.seq)
    if referral_id is not None:
        query = query.where(officer_actions.c.referral_id == referral_id)
    with engine.connect() as c:
        return [_record(r) for r in c.execute(query)]


def verify_actions(engine: Engine) -> bool:
    """Recompute the chain; False when any action was altered or removed."""
    previous = GENESIS
    with engine.connect() as c:
        rows = c.execute(select(officer_actions).order_by(officer_actions.c.seq)).all()
    for row in rows:
        previous = chain(previous, _record(row))
        if previous != row.chain_hash:
            return False
    return True
