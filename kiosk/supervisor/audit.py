"""The border's log of officer actions: append-only rows in a keyed chain.

Each row's chain_hash is HMAC-SHA256(key, previous chain_hash || canonical row)
with a key (table officer_log_key) that only the border's SECURITY DEFINER
functions read on PostgreSQL: they alone append (migration b0004o,
border__log) and border_officer_log_verify() recomputes the chain. Whoever can
write rows but not read the key cannot make one that verifies, and a removed
or altered row breaks every later link. On the SQLite stand-in (no roles) the
same chain is computed here in Python.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text

from kiosk.border.station_tables import officer_actions, officer_log_key
from kiosk.clock import as_utc

GENESIS = "0" * 64


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

    def as_json(self) -> dict[str, Any]:
        return {
            "action_id": str(self.action_id),
            "at": as_utc(self.at).isoformat(),
            "kind": self.kind,
            "kiosk_id": self.kiosk_id,
            "referral_id": str(self.referral_id) if self.referral_id else None,
            "officer_id": self.officer_id,
            "second_officer_id": self.second_officer_id,
            "reason_code": self.reason_code,
            "reason_text": self.reason_text,
            "detail": self.detail,
        }


def chain(key: bytes, previous: str, record: ActionRecord) -> str:
    return hmac.new(key, previous.encode() + record.canonical(), hashlib.sha256).hexdigest()


def local_log_key(c: Connection) -> bytes:
    return bytes(
        c.execute(select(officer_log_key.c.key).where(officer_log_key.c.id == 1)).scalar_one()
    )


def append_action(c: Connection, record: ActionRecord) -> str:
    """Append inside the caller's transaction (SQLite stand-in; PostgreSQL appends only
    through its definer functions); returns the chain hash."""
    if c.dialect.name == "postgresql":
        raise RuntimeError("on PostgreSQL only the border's functions write the officer log")
    last = c.execute(
        select(officer_actions.c.chain_hash).order_by(officer_actions.c.seq.desc()).limit(1)
    ).scalar()
    digest = chain(local_log_key(c), last or GENESIS, record)
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
    """The log in order (one referral's entries when given): `case_log` of a case."""
    query = select(officer_actions).order_by(officer_actions.c.seq)
    if referral_id is not None:
        query = query.where(officer_actions.c.referral_id == referral_id)
    with engine.connect() as c:
        return [_record(r) for r in c.execute(query)]


def verify_actions(engine: Engine) -> dict[str, Any]:
    """{"valid", "entries", "first_bad_seq"}: the chain recomputed with the log key."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as c:
            return dict(c.execute(text("SELECT border_officer_log_verify()")).scalar_one())
    previous, n = GENESIS, 0
    with engine.connect() as c:
        key = local_log_key(c)
        rows = c.execute(select(officer_actions).order_by(officer_actions.c.seq)).all()
    for row in rows:
        previous = chain(key, previous, _record(row))
        if not hmac.compare_digest(previous, row.chain_hash):
            return {"valid": False, "entries": n, "first_bad_seq": row.seq}
        n += 1
    return {"valid": True, "entries": n, "first_bad_seq": None}
