"""The local side of the push: where the kiosk's hash chain continues after the
border's head, and the next batch read from the local log and verified link by
link (chain hash, seal) before it becomes border rows (mapping.py). A fault is a
ChainFault: the push stops there and the border files an alert."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from kiosk.border.sync.mapping import EventRejected, border_json, border_row
from kiosk.store.event_log import (
    GENESIS,
    RECORD_FIELDS,
    canonical_of,
    chain_of,
    decode_fields,
    text_columns,
)
from kiosk.store.models import LogSeal, OutboxEntry, TransactionEvent
from kiosk.store.seal import LogSealer


class ChainFault(Exception):
    """The local log or outbox does not verify where the push would continue, or
    the border refused an event: the push stops there and an alert is filed.
    `kind` is one of kiosk.border.chain.KIOSK_ALERT_KINDS."""

    def __init__(
        self, kind: str, seq: int | None, detail: str, event_id: str | None = None
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        self.seq = seq
        self.event_id = event_id  # the event held back, when it is one event


@dataclass(frozen=True)
class Outgoing:
    """One verified local event on its way up: its chain position and its border
    row, as JSON text for PostgreSQL (`json`) or as values for SQLite (`data`)."""

    seq: int
    event_id: str
    uid: uuid.UUID
    chain_hash: str
    json: str | None = None
    data: dict[str, Any] | None = None


class LocalChain:
    """Reads one kiosk's local log for the push, verifying as it goes."""

    def __init__(
        self,
        local_engine: Engine,
        kiosk_id: str,
        *,
        batch_size: int,
        sealer: LogSealer | None,
        as_json: bool,
    ) -> None:
        self.local_engine = local_engine
        self.kiosk_id = kiosk_id
        self.batch_size = batch_size
        self.sealer = sealer
        self.as_json = as_json  # border rows as JSON text (PostgreSQL) or values

    def next_verified(self, after: int, previous: str) -> tuple[list[Outgoing], ChainFault | None]:
        """The next batch after `after`, verified link by link from `previous`:
        the rows that verify, and the fault that ended the batch early."""
        e, o, s = TransactionEvent.__table__, OutboxEntry.__table__, LogSeal.__table__
        columns = text_columns(e)
        query = (
            select(e.c.seq, e.c.chain_hash, o.c.event_id, s.c.mac, *columns)
            .select_from(
                e.outerjoin(o, o.c.event_id == e.c.event_id).outerjoin(s, s.c.seq == e.c.seq)
            )
            .where(e.c.seq > after)
            .order_by(e.c.seq)
            .limit(self.batch_size)
        )
        with self.local_engine.connect() as c:
            rows = c.execute(query).all()
        out: list[Outgoing] = []
        expected = after + 1
        for seq, chain_hash, outbox_id, mac, *fields in rows:
            if seq != expected:
                return out, ChainFault("local_log", expected, f"event {expected} is missing")
            if outbox_id is None:
                return out, ChainFault("outbox", seq, f"event {seq} has no outbox row")
            values = dict(zip(RECORD_FIELDS, fields, strict=True))
            fault = self._verify(values, seq, chain_hash, mac, previous)
            if fault is not None:
                return out, fault
            values["chain_hash"] = chain_hash
            try:
                out.append(self._outgoing(values, seq, chain_hash, previous))
            except EventRejected as exc:
                return out, ChainFault(
                    "refused", seq, f"event {seq} cannot be sent: {exc}", values["event_id"]
                )
            previous, expected = chain_hash, seq + 1
        return out, None

    def _verify(
        self, values: dict[str, Any], seq: int, chain_hash: str, mac: Any, previous: str
    ) -> ChainFault | None:
        """Decode `values` in place and check its link and seal; the fault, if any."""
        try:
            decode_fields(values)
            canonical = canonical_of(values)
        except (ValueError, TypeError) as exc:  # not JSON, a time that is no time
            return ChainFault(
                "local_log", seq, f"event {seq} cannot be read ({type(exc).__name__}): altered"
            )
        if chain_of(previous, canonical) != chain_hash:
            return ChainFault(
                "local_log", seq, f"event {seq} does not match its chain hash (altered)"
            )
        if self.sealer is not None and (
            mac is None or not self.sealer.check(values["kiosk_id"], seq, chain_hash, mac)
        ):
            return ChainFault(
                "local_log", seq, f"event {seq} has no valid seal (inserted or rewritten)"
            )
        return None

    def _outgoing(
        self, values: dict[str, Any], seq: int, chain_hash: str, previous: str
    ) -> Outgoing:
        """The border row of a verified event; raises EventRejected."""
        if self.as_json:
            uid, text_row = border_json(values, self.kiosk_id, seq, previous)
            return Outgoing(seq, values["event_id"], uid, chain_hash, json=text_row)
        data = border_row(values, self.kiosk_id)
        data["log_seq"], data["prev_hash"] = seq, previous
        return Outgoing(seq, values["event_id"], data["event_id"], chain_hash, data=data)


def check_no_orphan(c: Connection) -> None:
    """Raise ChainFault for an unsent outbox row whose event was deleted."""
    e, o = TransactionEvent.__table__.c, OutboxEntry.__table__.c
    orphan = c.execute(
        select(o.event_id)
        .select_from(
            OutboxEntry.__table__.outerjoin(TransactionEvent.__table__, e.event_id == o.event_id)
        )
        .where(o.sent_at.is_(None), e.seq.is_(None))
        .limit(1)
    ).first()
    if orphan is not None:
        raise ChainFault(
            "outbox", None, f"outbox row {orphan[0]} has no event: the event was deleted"
        )


def behind_head(c: Connection, seq: int, chain_hash: str) -> list[str]:
    """Check the local event at the border's head; the unsent ids at or behind it.
    Raises ChainFault when the local log lost or changed that event."""
    e, o = TransactionEvent.__table__.c, OutboxEntry.__table__.c
    mine = c.execute(select(e.chain_hash).where(e.seq == seq)).first()
    if mine is None:
        raise ChainFault(
            "diverged",
            seq,
            f"the border holds seq {seq}, the local log does not (deleted or truncated)",
        )
    if mine[0] != chain_hash:
        raise ChainFault("diverged", seq, f"seq {seq} differs from the border's copy")
    return [
        r[0]
        for r in c.execute(
            select(o.event_id)
            .join(TransactionEvent.__table__, e.event_id == o.event_id)
            .where(o.sent_at.is_(None), e.seq <= seq)
        )
    ]


def first_anchor(c: Connection) -> tuple[int, str]:
    """Nothing chained at the border yet: start at the first unsent event, or
    after the newest when all are sent. Both come from one statement, one
    snapshot: read apart, an event the lane logged in between was taken for the
    newest sent one and the push skipped it (issue 10)."""
    e, o = TransactionEvent.__table__.c, OutboxEntry.__table__.c
    unsent = (
        select(func.min(e.seq))
        .select_from(TransactionEvent.__table__)
        .join(OutboxEntry.__table__, e.event_id == o.event_id)
        .where(o.sent_at.is_(None))
        .scalar_subquery()
    )
    newest = select(func.max(e.seq)).scalar_subquery()
    first, last = c.execute(select(unsent, newest)).one()
    if first is None:
        first = (last or 0) + 1
    after = int(first) - 1
    if after == 0:
        return 0, GENESIS
    before = c.execute(select(e.chain_hash).where(e.seq == after)).first()
    if before is None:
        raise ChainFault("local_log", after, f"event {after} is missing from the log")
    return after, str(before[0])
