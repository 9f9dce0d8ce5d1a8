"""The append-only, hash-chained event log and its outbox."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Text, func, select, text, type_coerce
from sqlalchemy.orm import Session

from kiosk.clock import as_utc
from kiosk.store.models import LogSeal, OutboxEntry, TransactionEvent
from kiosk.store.seal import LogKeyError, LogSealer

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
        return canonical_of({name: getattr(self, name) for name in RECORD_FIELDS})


# Every field of the record is a column of the same name (kiosk.store.models).
RECORD_FIELDS = tuple(f.name for f in fields(EventRecord))
# The canonical form: json.dumps(record, sort_keys=True, separators=(",", ":"),
# default=str) with the times as UTC ISO text and reasons a list.
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str).encode
# json's own C encoder with those settings, made once (JSONEncoder.encode makes
# one per call): the same text, faster. No circular-reference check: the values
# are decoded JSON or the workflow's plain data.
_MAKE_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODE = (
    _MAKE_ENCODER(
        None, str, json.encoder.encode_basestring_ascii, None, ":", ",", True, False, True
    )
    if _MAKE_ENCODER is not None
    else None
)


def encode_value(value: Any) -> str:
    """A value as canonical JSON text (what _ENCODE gives). Equal values encode to
    equal text, alone or inside a larger object (kiosk.border.sync relies on it)."""
    if _C_ENCODE is None:
        return _ENCODE(value)
    return "".join(_C_ENCODE(value, 0))


def canonical_of(values: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a record's fields (an EventRecord's, or a stored
    row's as read back)."""
    body = {name: values[name] for name in RECORD_FIELDS}
    body["started_at"] = utc_iso(values["started_at"])
    body["finished_at"] = utc_iso(values["finished_at"])
    body["reasons"] = list(values["reasons"])
    return encode_value(body).encode()


def chain(previous: str, record: EventRecord) -> str:
    return chain_of(previous, record.canonical())


def chain_of(previous: str, canonical: bytes) -> str:
    return hashlib.sha256(previous.encode() + canonical).hexdigest()


# Columns stored as JSON text. Readers that check the chain select them as text
# (type_coerce(..., Text)) and decode them with readable_values (json.loads, as
# SQLAlchemy's JSON type does), so that a column that is not JSON is a fault of
# that event rather than an exception out of the whole read. The two times are
# read as text too and parsed here: a time that does not parse is an altered
# event, not an exception (SQLite keeps whatever text was written).
JSON_FIELDS = frozenset({"stages", "reasons", "document", "checks"})
TIME_FIELDS = frozenset({"started_at", "finished_at"})
TEXT_FIELDS = JSON_FIELDS | TIME_FIELDS


def text_columns(table: Any) -> list[Any]:
    """The record's columns of `table`, the JSON and time ones as text."""
    return [
        type_coerce(table.c[name], Text) if name in TEXT_FIELDS else table.c[name]
        for name in RECORD_FIELDS
    ]


def decode_fields(values: dict[str, Any]) -> None:
    """Decode in place what text_columns read as text; ValueError or TypeError
    when a field does not decode."""
    for name in JSON_FIELDS:
        if values[name] is not None:
            values[name] = json.loads(values[name])
    for name in TIME_FIELDS:
        if isinstance(values[name], str):
            values[name] = datetime.fromisoformat(values[name])
        elif not isinstance(values[name], datetime):
            raise TypeError(f"{name} is not a time")


def readable_values(row: Any) -> dict[str, Any] | None:
    """The record fields of a row read with text_columns, decoded; None when a
    field does not decode."""
    values = {name: getattr(row, name) for name in RECORD_FIELDS}
    try:
        decode_fields(values)
    except (ValueError, TypeError):
        return None
    return values


class EventLog:
    """`sealer`: the kiosk's log key (kiosk.store.seal); with it every append
    also writes the event's seal, in the same transaction."""

    def __init__(self, engine: Engine, sealer: LogSealer | None = None) -> None:
        self.engine = engine
        self.sealer = sealer

    def append(self, record: EventRecord) -> str:
        """Store the event, its outbox entry (and its seal) in one transaction;
        returns the chain hash."""
        with Session(self.engine) as session, session.begin():
            if self.engine.dialect.name == "sqlite":
                # pysqlite opens its transaction only at the first write, so the
                # read of the predecessor's hash below would run outside it and
                # two writers could chain onto the same event (issue 10). Take
                # the write lock first; the second writer waits (busy_timeout).
                session.execute(text("BEGIN IMMEDIATE"))
            newest = session.execute(
                select(
                    TransactionEvent.seq,
                    TransactionEvent.kiosk_id,
                    TransactionEvent.chain_hash,
                    LogSeal.mac,
                )
                .outerjoin(LogSeal, LogSeal.seq == TransactionEvent.seq)
                .order_by(TransactionEvent.seq.desc())
                .limit(1)
            ).first()
            self._check_key(session, newest)
            last = newest.chain_hash if newest is not None else None
            digest = chain(last or GENESIS, record)
            values = {name: getattr(record, name) for name in RECORD_FIELDS}
            # Stored as UTC: SQLite keeps no zone, and readers (the chain check,
            # the sync) take what it returns as UTC.
            values["started_at"] = as_utc(record.started_at)
            values["finished_at"] = as_utc(record.finished_at)
            values["reasons"] = list(record.reasons)
            row = TransactionEvent(**values, chain_hash=digest)
            session.add(row)
            session.flush()  # the outbox and seal triggers want the event first
            session.add(OutboxEntry(event_id=record.event_id, attempts=0))
            if self.sealer is not None:
                mac = self.sealer.seal(record.kiosk_id, row.seq, digest)
                session.add(LogSeal(seq=row.seq, mac=mac))
        return digest

    def _check_key(self, session: Session, newest: Any) -> None:
        """Refuse to write on a sealed log without its key, or with another key:
        the lane's append fails, so it refers with the event-log alarm up and the
        gate shut (docs/border.md, "Tamper evidence")."""
        if self.sealer is None:
            if session.scalar(select(LogSeal.seq).limit(1)) is not None:
                raise LogKeyError(
                    "the event log is sealed but the log key is missing: refusing to "
                    "write an unsealed event (restore the key; docs/deployment.md)"
                )
            return
        if (
            newest is not None
            and newest.mac is not None
            and not self.sealer.check(newest.kiosk_id, newest.seq, newest.chain_hash, newest.mac)
        ):
            raise LogKeyError(
                f"the log key does not match the seal of event {newest.seq}: "
                "refusing to seal with a different key (docs/deployment.md)"
            )

    def count(self) -> int:
        with Session(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(TransactionEvent)) or 0)

    def events(self) -> list[TransactionEvent]:
        with Session(self.engine, expire_on_commit=False) as session:
            return list(session.scalars(select(TransactionEvent).order_by(TransactionEvent.seq)))
