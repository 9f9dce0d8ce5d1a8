"""push: outbox events go up to the border in batches, idempotently.

Each batch is one border transaction of INSERT ... ON CONFLICT DO NOTHING
RETURNING log_seq (no conflict target: on the partitioned PostgreSQL border no
unique index is on event_id alone and its trigger skips a re-delivery, b0008p);
an event the insert skipped is confirmed by reading back its chain hash (a
kiosk can read only its own rows), so a re-delivery after
a lost acknowledgement is recognised and an event id taken by another kiosk's
event is not mistaken for a delivery. Only after the border commit are the
outbox rows marked sent: a crash in between means one harmless re-delivery,
never a loss. What is sent is read and verified by local_chain.LocalChain.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, bindparam, func, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError, StatementError
from sqlalchemy.orm import Session

from kiosk.border.chain import ATTEST_OK, BorderHead, attest, raise_alert, read_head
from kiosk.border.models import BorderEvent, BorderReferenceItem
from kiosk.border.roles import KIOSK_INSERT_COLUMNS
from kiosk.border.sync.common import ERROR_MAX, SyncResult, chunks, short
from kiosk.border.sync.local_chain import (
    ChainFault,
    LocalChain,
    Outgoing,
    behind_head,
    check_no_orphan,
    first_anchor,
)
from kiosk.store.models import LogSeal, OutboxEntry, TransactionEvent
from kiosk.store.seal import LogSealer

log = logging.getLogger(__name__)

DEFAULT_BATCH = 500
MAX_BATCH = 10_000
# Outbox rows marked per statement (SQLite allows 32 766 parameters).
_MARK_CHUNK = 5000


class AttestRefused(SQLAlchemyError):
    """The border did not accept this kiosk's head or key in the push's own
    transaction (it changed since the cycle's probe): the batch waits."""


@dataclass(frozen=True)
class Probe:
    """What a cycle reads from the border first (Pusher.probe)."""

    head: BorderHead | None
    top: int | None  # newest reference change_seq
    error: SQLAlchemyError | None
    attested: str = ATTEST_OK  # border_log_attest()'s answer to the local head
    local_error: SQLAlchemyError | None = None  # the local head could not be read


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


class Pusher:
    """Sends one kiosk's hash chain from its local outbox to the border."""

    def __init__(
        self,
        local_engine: Engine,
        border_engine: Engine,
        kiosk_id: str,
        *,
        batch_size: int,
        sealer: LogSealer | None,
    ) -> None:
        self.local_engine = local_engine
        self.border_engine = border_engine
        self.kiosk_id = kiosk_id
        self.batch_size = batch_size
        self.sealer = sealer  # with the kiosk's log key, seals are checked too
        self._head: tuple[int, str | None] = (0, None)  # local head, read by each probe
        self.chain = LocalChain(
            local_engine,
            kiosk_id,
            batch_size=batch_size,
            sealer=sealer,
            as_json=border_engine.dialect.name == "postgresql",
        )

    def pending(self) -> int:
        with Session(self.local_engine) as s:
            count = s.scalar(
                select(func.count()).select_from(OutboxEntry).where(OutboxEntry.sent_at.is_(None))
            )
            return int(count or 0)

    # -- probe ------------------------------------------------------------------
    def probe(self) -> Probe:
        """The border's head of this kiosk's chain and its newest reference
        change, on one connection, after reporting the local head and key proof
        (the heartbeat of the log: a head that went back or forked, a missing
        or different key, raises an alert at the border)."""
        b = BorderReferenceItem.__table__
        try:
            local = self._local_head()
        except SQLAlchemyError as exc:  # no head to report: the push reports it
            return Probe(None, None, None, local_error=exc)
        try:
            with self.border_engine.begin() as c:
                attested = attest(c, self._proof(), *local)
                head = read_head(c, self.kiosk_id)
                top = int(c.execute(select(func.max(b.c.change_seq))).scalar() or 0)
        except SQLAlchemyError as exc:
            return Probe(None, None, exc)
        return Probe(head, top, None, attested)

    def _proof(self) -> str | None:
        return self.sealer.proof(self.kiosk_id) if self.sealer is not None else None

    def _local_head(self) -> tuple[int, str | None]:
        e = TransactionEvent.__table__.c
        with self.local_engine.connect() as c:
            row = c.execute(select(e.seq, e.chain_hash).order_by(e.seq.desc()).limit(1)).first()
        self._head = (int(row[0]), str(row[1])) if row is not None else (0, None)
        return self._head

    def _unkeyed(self) -> bool:
        """The log holds seals but this sync has no key: it was sealed."""
        if self.sealer is not None:
            return False
        with self.local_engine.connect() as c:
            return c.execute(select(LogSeal.seq).limit(1)).first() is not None

    # -- push -------------------------------------------------------------------
    def push(self, probe: Probe) -> SyncResult:
        """Send the events after the border's head of this kiosk's chain, each
        verified against its predecessor first; stops at the first event that
        does not verify or that the border refuses, and at a border outage.
        Raises SQLAlchemyError for a fault of the local database."""
        result = SyncResult()
        if probe.local_error is not None:
            raise probe.local_error
        if probe.error is not None:
            self._outage(self._next_pending(), probe.error, result)
        else:
            result.error = self._held(probe)
            if result.error is None:
                self._push_chain(probe.head, result)
        result.pending = self.pending()
        return result

    def _held(self, probe: Probe) -> str | None:
        """Why the push may not start at all this cycle, or None."""
        if probe.attested != ATTEST_OK:
            # The border filed the alert and holds the kiosk (docs/border.md).
            error = f"push: the border refused this kiosk's log head or key: {probe.attested}"
            log.error("border push refused: %s", error)
            return error
        if self._unkeyed():
            unkeyed = ChainFault("local_log", None, "the log is sealed but its key is missing")
            self._alert(unkeyed)
            return f"push: {unkeyed}"
        head = probe.head
        if head is not None and head.stopped_at is not None:
            return (
                f"push: the border stopped this kiosk's push after seq {head.seq}: "
                f"{head.stop_reason}"
            )
        return None

    def _push_chain(self, head: BorderHead | None, result: SyncResult) -> None:
        """Send batch after batch from where the border's chain ends."""
        # The next batch is read and verified locally while the border inserts
        # this one (the border's work runs in its own process).
        ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-verify")
        try:
            after, previous = self._anchor(head, result)
            rows, fault = self.chain.next_verified(after, previous)
            while rows:
                upcoming = None
                if fault is None and len(rows) == self.batch_size:
                    upcoming = ahead.submit(
                        self.chain.next_verified, rows[-1].seq, rows[-1].chain_hash
                    )
                settled = self._send(rows, result)
                if settled < len(rows):
                    if upcoming is not None:
                        upcoming.result()  # let it finish; its rows wait for next cycle
                    fault = None  # result.error says why
                    break
                rows, fault = upcoming.result() if upcoming is not None else ([], fault)
            if fault is not None:
                raise fault
        except ChainFault as fault:
            if fault.event_id is not None:  # it waits in the outbox with the reason
                self._mark(set(), {fault.event_id: str(fault)})
                result.rejected += 1
            self._alert(fault)
            result.error = f"push: {fault}"
            log.error("border push stopped: %s", fault)
        finally:
            ahead.shutdown(wait=True)

    def _next_pending(self) -> list[str]:
        """The ids of the next batch of unsent events, in log order."""
        e, o = TransactionEvent.__table__.c, OutboxEntry.__table__.c
        with self.local_engine.connect() as c:
            return [
                r[0]
                for r in c.execute(
                    select(o.event_id)
                    .join(TransactionEvent.__table__, e.event_id == o.event_id)
                    .where(o.sent_at.is_(None))
                    .order_by(e.seq)
                    .limit(self.batch_size)
                )
            ]

    # -- anchor -----------------------------------------------------------------
    def _anchor(self, head: BorderHead | None, result: SyncResult) -> tuple[int, str]:
        """Where the push continues: (seq, chain hash) of the last event the
        border holds, checked against the local log; raises ChainFault."""
        with self.local_engine.connect() as c:
            check_no_orphan(c)
            if head is not None and head.chain_hash is not None:
                behind = behind_head(c, head.seq, head.chain_hash)
                if behind:  # at the border already: the acknowledgement was lost
                    self._confirm(behind, result)
                return head.seq, head.chain_hash
            return first_anchor(c)

    def _confirm(self, local_ids: list[str], result: SyncResult) -> None:
        """Mark sent the events the border already holds (read back by id)."""
        wanted = {uuid.UUID(i): i for i in local_ids if _is_uuid(i)}
        t = BorderEvent.__table__.c
        with self.border_engine.connect() as c:
            held = {
                r[0]
                for r in c.execute(
                    select(t.event_id).where(t.event_id.in_(wanted), t.kiosk_id == self.kiosk_id)
                )
            }
        confirmed = {wanted[u] for u in held}
        missing = set(local_ids) - confirmed
        if missing:
            raise ChainFault(
                "outbox",
                None,
                f"{len(missing)} unsent event(s) lie behind the border's head but the border "
                f"does not hold them (e.g. {sorted(missing)[0]})",
            )
        self._mark(confirmed, {})
        result.pushed += len(confirmed)
        result.duplicates += len(confirmed)

    # -- verify -----------------------------------------------------------------
    # -- deliver ----------------------------------------------------------------
    def _send(self, rows: list[Outgoing], result: SyncResult) -> int:
        """Deliver verified rows in order; returns how many were settled. Fewer
        than all means the push stops (result.error is set, or ChainFault)."""
        try:
            delivered, duplicates = self._deliver(rows)
        except SQLAlchemyError as exc:
            if not _row_specific(exc):
                return self._outage([r.event_id for r in rows], exc, result)
            # One row's values were refused: deliver those before it, stop at it.
            delivered, duplicates = [], 0
            for row in rows:
                try:
                    one, dup = self._deliver([row])
                except SQLAlchemyError as single:
                    self._mark(set(delivered), {})
                    result.pushed += len(delivered)
                    result.duplicates += duplicates
                    if not _row_specific(single):
                        rest = [r.event_id for r in rows[len(delivered) :]]
                        return len(delivered) + self._outage(rest, single, result)
                    reason = f"refused by the border database: {short(single)}"
                    raise ChainFault(
                        "refused", row.seq, f"event {row.seq} {reason}", row.event_id
                    ) from single
                delivered += one
                duplicates += dup
                if not one:
                    break
        self._mark(set(delivered), {})
        result.pushed += len(delivered)
        result.duplicates += duplicates
        if len(delivered) < len(rows):
            refused = rows[len(delivered)]
            result.error = self._refusal(refused)
            self._mark(set(), {refused.event_id: result.error})
            result.rejected += 1
        return len(delivered)

    def _outage(self, local_ids: list[str], exc: BaseException, result: SyncResult) -> int:
        """The border failed as a whole: the rows wait for the next cycle, counting
        the attempt. Returns 0 (nothing more settled)."""
        outage = f"push: {short(exc)}"
        self._mark(set(), dict.fromkeys(local_ids, outage))
        result.error = outage
        log.warning("border push failed, %d events stay queued: %s", len(local_ids), outage)
        return 0

    def _refusal(self, row: Outgoing) -> str:
        try:
            with self.border_engine.connect() as c:
                head = read_head(c, self.kiosk_id)
        except SQLAlchemyError as exc:
            return (
                f"push: event {row.seq} was not taken; the border's head is unknown: {short(exc)}"
            )
        if head is not None and head.stopped_at is not None:
            return (
                f"push: the border stopped this kiosk's push at seq {row.seq}: {head.stop_reason}"
            )
        return f"push: event {row.seq} was not taken by the border"

    def _deliver(self, rows: Sequence[Outgoing]) -> tuple[list[str], int]:
        """Insert rows in one border transaction and one statement; returns the
        local ids delivered, in order and without a gap, and how many of them
        were confirmed re-deliveries."""
        table = cast(Table, BorderEvent.__table__)
        dialect = self.border_engine.dialect.name
        if dialect not in ("postgresql", "sqlite"):
            raise SQLAlchemyError(f"unsupported border backend {dialect!r}")
        with self.border_engine.begin() as c:
            # The events guard takes an enrolled kiosk's events only in a
            # transaction that attested its head and key.
            answer = attest(c, self._proof(), *self._head)
            if answer != ATTEST_OK:
                raise AttestRefused(f"the border refused the log head or key: {answer}")
            # What the border inserted, by log_seq (unique per kiosk, one per row).
            if dialect == "postgresql":
                inserted = _insert_jsonb(c, [cast(str, row.json) for row in rows])
            else:
                inserted = _insert_sqlite(c, table, rows)
            skipped = [r.uid for r in rows if r.seq not in inserted]
            # Row-level security shows a kiosk its own rows only: an id held by
            # another kiosk's event is invisible here and is not "sent".
            seen = _read_back(c, table, skipped) if skipped else {}
        delivered: list[str] = []
        confirmed = 0
        for row in rows:
            if row.seq in inserted:
                delivered.append(row.event_id)
            elif seen.get(row.uid) == (self.kiosk_id, row.chain_hash):
                delivered.append(row.event_id)
                confirmed += 1
            else:
                break  # the border skipped it: its chain stops here
        return delivered, confirmed

    def _alert(self, fault: ChainFault) -> None:
        raise_alert(self.border_engine, self.kiosk_id, fault.kind, str(fault), fault.seq)

    def _mark(self, delivered: set[str], failed: dict[str, str]) -> None:
        now = datetime.now(UTC)
        with self.local_engine.begin() as c:
            t = cast(Table, OutboxEntry.__table__)
            # One statement per chunk rather than one per row (executemany).
            for chunk in chunks(sorted(delivered), _MARK_CHUNK):
                c.execute(
                    update(t)
                    .where(t.c.event_id.in_(chunk), t.c.sent_at.is_(None))
                    .values(attempts=t.c.attempts + 1, sent_at=now, last_error=None)
                )
            if failed:
                c.execute(
                    update(t)
                    .where(t.c.event_id == bindparam("eid"))
                    .values(attempts=t.c.attempts + 1, last_error=bindparam("err")),
                    [{"eid": e, "err": m[:ERROR_MAX]} for e, m in failed.items()],
                )


# -- border statements ----------------------------------------------------------
# PostgreSQL: the whole batch is one JSON parameter, expanded server-side into
# rows of the events type, in order. One short statement whose plan is cached,
# instead of a statement with thousands of placeholders to build and parse.
_INSERT_COLUMNS = ", ".join(KIOSK_INSERT_COLUMNS)
# The inserted rows' log_seq come back as one array in one row (no per-row
# result handling on the kiosk).
_JSONB_INSERT = text(
    f"WITH inserted AS (INSERT INTO events ({_INSERT_COLUMNS}) "
    f"SELECT {', '.join('r.' + c for c in KIOSK_INSERT_COLUMNS)} "
    "FROM jsonb_array_elements(CAST(:rows AS jsonb)) WITH ORDINALITY AS a(doc, n) "
    "CROSS JOIN LATERAL jsonb_populate_record(NULL::events, a.doc) AS r "
    "ORDER BY a.n "
    "ON CONFLICT DO NOTHING RETURNING log_seq) "
    "SELECT array_agg(log_seq) FROM inserted"
)


def _insert_jsonb(c: Connection, rows: list[str]) -> set[int]:
    """`rows`: each a JSON object (border_json); returns the inserted log_seq."""
    payload = "[" + ",".join(rows) + "]"
    return {int(seq) for seq in c.execute(_JSONB_INSERT, {"rows": payload}).scalar() or ()}


def _insert_sqlite(c: Connection, table: Table, rows: Sequence[Outgoing]) -> set[int]:
    """The SQLite stand-in: one executemany; returns the inserted log_seq."""
    stmt = (
        sqlite.insert(table)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(table.c.log_seq)
    )
    return {int(r[0]) for r in c.execute(stmt, [cast("dict[str, Any]", row.data) for row in rows])}


def _read_back(
    c: Connection, table: Table, ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, str]]:
    """(kiosk_id, chain_hash) of the events with these ids that this kiosk may see."""
    known = c.execute(
        select(table.c.event_id, table.c.kiosk_id, table.c.chain_hash).where(
            table.c.event_id.in_(ids)
        )
    )
    return {r[0]: (r[1], r[2]) for r in known}


def _row_specific(exc: SQLAlchemyError) -> bool:
    """Errors caused by one row's values (too long, out of range, not JSON, a
    constraint) rather than by the database being unreachable or misconfigured."""
    return isinstance(exc, DataError | IntegrityError) or type(exc) is StatementError
