"""The kiosk's sync with the border database.

push: outbox events go up in batches, idempotently. Each batch is one border
transaction of INSERT ... ON CONFLICT (event_id) DO NOTHING RETURNING log_seq;
an event the insert skipped is confirmed by reading back its chain hash (a kiosk
can read only its own rows), so a re-delivery after a lost acknowledgement is
recognised and an event id taken by another kiosk's event is not mistaken for
a delivery. Only after the border commit are the outbox rows marked sent: a
crash in between means one harmless re-delivery, never a loss.

pull: reference items whose digest differs from the local copy are copied into
the local ReferenceStore with provenance "border:<published_at>"; withdrawn
items are removed locally. Every successful pull also refreshes the heartbeat
item (kind "border_sync", key "last_pull") so the age of the reference data
reflects the last confirmation, not the last change.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError, StatementError
from sqlalchemy.orm import Session

from kiosk.border.chain import ATTEST_OK, BorderHead, attest, raise_alert, read_head
from kiosk.border.database import redact
from kiosk.border.errors import BorderError
from kiosk.border.models import BorderEvent, BorderReferenceItem
from kiosk.border.roles import KIOSK_INSERT_COLUMNS
from kiosk.clock import as_utc
from kiosk.store.event_log import (
    GENESIS,
    RECORD_FIELDS,
    canonical_of,
    chain_of,
    decode_fields,
    encode_value,
    text_columns,
    utc_iso,
)
from kiosk.store.models import LogSeal, OutboxEntry, SyncState, TransactionEvent
from kiosk.store.models import ReferenceItem as LocalReferenceRow
from kiosk.store.reference import ReferenceStore
from kiosk.store.seal import LogSealer
from kiosk.trust.store import key_problem

log = logging.getLogger(__name__)

PROVENANCE_PREFIX = "border:"
HEARTBEAT_KIND = "border_sync"
HEARTBEAT_KEY = "last_pull"
# An idle pull refreshes the heartbeat at most this often: the staleness rule
# counts hours, and an idle cycle then writes nothing locally (no fsync).
HEARTBEAT_EVERY_S = 60.0
# Between full comparisons of the reference data a pull reads only changes.
FULL_PULL_EVERY_S = 3600.0
# sync_state name of the reference-data watermark, per border database URL.
WATERMARK_PREFIX = "reference_watermark:"
DEFAULT_BATCH = 500
MAX_BATCH = 10_000
PULL_CHUNK = 500
# Outbox rows marked per statement (SQLite allows 32 766 parameters).
_MARK_CHUNK = 5000
_ERROR_MAX = 500


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, SQLAlchemyError) and getattr(exc, "orig", None) is not None:
        text = " ".join(str(exc.orig).split()) or text  # type: ignore[attr-defined]
    return f"{type(exc).__name__}: {text}"[:_ERROR_MAX]


def normalise_document_number(number: str) -> str:
    return number.strip().upper().rstrip("<")


def _text_or_none(value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    cleaned = value.strip().upper().rstrip("<")
    return cleaned[:limit] if cleaned else None


def _permitted_until(values: Mapping[str, Any]) -> datetime | None:
    """The transit stay limit when the local record carries one (a column if the
    local schema grows one, else checks["permitted_until"] as an ISO string)."""
    value: Any = values.get("permitted_until")
    checks = values.get("checks")
    if value is None and isinstance(checks, dict):
        value = checks.get("permitted_until")
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed.astimezone(UTC) if parsed.tzinfo is not None else None
    return None


class EventRejected(ValueError):
    """A local event that cannot be sent as it is (it stays in the outbox)."""


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


class AttestRefused(SQLAlchemyError):
    """The border did not accept this kiosk's head or key in the push's own
    transaction (it changed since the cycle's probe): the batch waits."""


@dataclass(frozen=True)
class _Probe:
    head: BorderHead | None
    top: int | None  # newest reference change_seq
    error: SQLAlchemyError | None
    attested: str = ATTEST_OK  # border_log_attest()'s answer to the local head
    local_error: SQLAlchemyError | None = None  # the local head could not be read


@dataclass(frozen=True)
class _Outgoing:
    """One verified local event on its way up: its chain position and its border
    row, as JSON text for PostgreSQL (`json`) or as values for SQLite (`data`)."""

    seq: int
    event_id: str
    uid: uuid.UUID
    chain_hash: str
    json: str | None = None
    data: dict[str, Any] | None = None


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class _Derived:
    """What the border row adds to or changes in a local event's fields."""

    uid: uuid.UUID
    document: dict[str, Any]
    document_number: str | None
    issuing_state: str | None
    nationality: str | None
    permitted_until: datetime | None


def _derived(values: Mapping[str, Any], kiosk_id: str) -> _Derived:
    """Raises EventRejected for an event the border cannot take."""
    if values["kiosk_id"] != kiosk_id:
        raise EventRejected(
            f"event belongs to kiosk {values['kiosk_id']!r}; this kiosk syncs as {kiosk_id!r}"
        )
    try:
        uid = uuid.UUID(values["event_id"])
    except (ValueError, TypeError, AttributeError) as exc:
        raise EventRejected(f"event id {values['event_id']!r} is not a UUID") from exc
    document = values["document"] if isinstance(values["document"], dict) else {}
    return _Derived(
        uid,
        document,
        _text_or_none(document.get("document_number"), 40),
        _text_or_none(document.get("issuing_state"), 3),
        _text_or_none(document.get("nationality"), 3),
        _permitted_until(values),
    )


def border_row(values: Mapping[str, Any], kiosk_id: str) -> dict[str, Any]:
    """The border `events` row for one local event's fields (without its chain
    position); raises EventRejected."""
    d = _derived(values, kiosk_id)
    row = _shared_fields(values, d)
    row.update(
        event_id=d.uid,
        started_at=as_utc(values["started_at"]),
        finished_at=as_utc(values["finished_at"]),
        permitted_until=d.permitted_until,
    )
    return row


def border_json(
    values: Mapping[str, Any], kiosk_id: str, seq: int, previous: str
) -> tuple[uuid.UUID, str]:
    """The border row of a verified event as one JSON object, encoded with the
    encoder of its canonical form (kiosk.store.event_log.encode_value): the
    border gets each field as the very text its chain hash was checked over.
    Raises EventRejected."""
    d = _derived(values, kiosk_id)
    row = _shared_fields(values, d)
    row.update(
        event_id=str(d.uid),
        started_at=utc_iso(values["started_at"]),
        finished_at=utc_iso(values["finished_at"]),
        permitted_until=d.permitted_until.isoformat() if d.permitted_until else None,
        log_seq=int(seq),
        prev_hash=previous,
    )
    return d.uid, encode_value(row)


def _shared_fields(values: Mapping[str, Any], d: _Derived) -> dict[str, Any]:
    """The border row's fields that border_row and border_json encode alike."""
    row = {name: values[name] for name in _PLAIN_FIELDS}
    row.update(
        reasons=list(values["reasons"]),
        document=d.document,
        document_number=d.document_number,
        issuing_state=d.issuing_state,
        nationality=d.nationality,
        chain_hash=values["chain_hash"],
    )
    return row


# Record fields the border row takes as they are.
_PLAIN_FIELDS = (
    "kiosk_id", "port", "lane", "direction", "outcome", "decision", "basis", "policy_pack",
    "policy_version", "checks", "stages", "transaction_ms", "error",
)  # fmt: skip


@dataclass
class SyncResult:
    """One cycle: `pushed` events confirmed in the border database (new plus
    confirmed re-deliveries), `pending` still in the outbox, `pulled` reference
    items changed locally, `error` the first failure (None when all went well)."""

    pushed: int = 0
    duplicates: int = 0
    rejected: int = 0
    pending: int = 0
    pulled: int = 0
    withdrawn: int = 0
    error: str | None = None
    finished_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_json(self) -> dict[str, Any]:
        return {
            "pushed": self.pushed,
            "pending": self.pending,
            "pulled": self.pulled,
            "error": self.error,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "withdrawn": self.withdrawn,
        }


class BorderSync:
    """Moves events up and reference data down between one kiosk and the border."""

    def __init__(
        self,
        local_engine: Engine,
        border_engine: Engine,
        kiosk_id: str,
        *,
        batch_size: int = DEFAULT_BATCH,
        interval_s: float = 10.0,
        sealer: LogSealer | None = None,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1 to {MAX_BATCH}")
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.local_engine = local_engine
        self.border_engine = border_engine
        self.kiosk_id = kiosk_id
        self.batch_size = batch_size
        self.interval_s = interval_s
        self.sealer = sealer  # with the kiosk's log key, seals are checked too
        self.references = ReferenceStore(local_engine)
        self.last_result: SyncResult | None = None
        self._heartbeat_at: float | None = None  # monotonic time of our last heartbeat
        self._full_at: float | None = None  # ... and of our last full comparison
        self._head: tuple[int, str | None] = (0, None)  # local head, read by each probe
        self._lock = threading.Lock()  # one cycle at a time per instance

    # -- push -----------------------------------------------------------------
    def pending(self) -> int:
        with Session(self.local_engine) as s:
            count = s.scalar(
                select(func.count()).select_from(OutboxEntry).where(OutboxEntry.sent_at.is_(None))
            )
            return int(count or 0)

    def push(self) -> SyncResult:
        """Send the events after the border's head of this kiosk's chain, each
        verified against its predecessor first; stops at the first event that
        does not verify or that the border refuses, and at a border outage."""
        return self._push(self._probe())

    def _probe(self) -> _Probe:
        """The border's head of this kiosk's chain and its newest reference
        change, on one connection, after reporting the local head and key proof
        (the heartbeat of the log: a head that went back or forked, a missing
        or different key, raises an alert at the border)."""
        b = BorderReferenceItem.__table__
        try:
            local = self._local_head()
        except SQLAlchemyError as exc:  # no head to report: the push reports it
            return _Probe(None, None, None, local_error=exc)
        try:
            with self.border_engine.begin() as c:
                attested = attest(c, self._proof(), *local)
                head = read_head(c, self.kiosk_id)
                top = int(c.execute(select(func.max(b.c.change_seq))).scalar() or 0)
        except SQLAlchemyError as exc:
            return _Probe(None, None, exc)
        return _Probe(head, top, None, attested)

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

    def _push(self, probe: _Probe) -> SyncResult:
        result = SyncResult()
        if probe.local_error is not None:
            raise probe.local_error
        if probe.error is not None:
            self._outage(self._next_pending(), probe.error, result)
            result.pending = self.pending()
            return result
        if probe.attested != ATTEST_OK:
            # The border filed the alert and holds the kiosk (docs/border.md).
            result.error = (
                f"push: the border refused this kiosk's log head or key: {probe.attested}"
            )
            log.error("border push refused: %s", result.error)
            result.pending = self.pending()
            return result
        if self._unkeyed():
            unkeyed = ChainFault("local_log", None, "the log is sealed but its key is missing")
            self._alert(unkeyed)
            result.error = f"push: {unkeyed}"
            result.pending = self.pending()
            return result
        head = probe.head
        if head is not None and head.stopped_at is not None:
            result.error = (
                f"push: the border stopped this kiosk's push after seq {head.seq}: "
                f"{head.stop_reason}"
            )
            result.pending = self.pending()
            return result
        # The next batch is read and verified locally while the border inserts
        # this one (the border's work runs in its own process).
        ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-verify")
        try:
            after, previous = self._anchor(head, result)
            rows, fault = self._next_verified(after, previous)
            while rows:
                upcoming = None
                if fault is None and len(rows) == self.batch_size:
                    upcoming = ahead.submit(self._next_verified, rows[-1].seq, rows[-1].chain_hash)
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
        result.pending = self.pending()
        return result

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

    def _anchor(self, head: BorderHead | None, result: SyncResult) -> tuple[int, str]:
        """Where the push continues: (seq, chain hash) of the last event the
        border holds, checked against the local log; raises ChainFault."""
        e, o = TransactionEvent.__table__.c, OutboxEntry.__table__.c
        with self.local_engine.connect() as c:
            orphan = c.execute(
                select(o.event_id)
                .select_from(
                    OutboxEntry.__table__.outerjoin(
                        TransactionEvent.__table__, e.event_id == o.event_id
                    )
                )
                .where(o.sent_at.is_(None), e.seq.is_(None))
                .limit(1)
            ).first()
            if orphan is not None:
                raise ChainFault(
                    "outbox", None, f"outbox row {orphan[0]} has no event: the event was deleted"
                )
            if head is not None and head.chain_hash is not None:
                mine = c.execute(select(e.chain_hash).where(e.seq == head.seq)).first()
                if mine is None:
                    raise ChainFault(
                        "diverged",
                        head.seq,
                        f"the border holds seq {head.seq}, the local log does not "
                        "(deleted or truncated)",
                    )
                if mine[0] != head.chain_hash:
                    raise ChainFault(
                        "diverged", head.seq, f"seq {head.seq} differs from the border's copy"
                    )
                behind = [
                    r[0]
                    for r in c.execute(
                        select(o.event_id)
                        .join(TransactionEvent.__table__, e.event_id == o.event_id)
                        .where(o.sent_at.is_(None), e.seq <= head.seq)
                    )
                ]
                if behind:  # at the border already: the acknowledgement was lost
                    self._confirm(behind, result)
                return head.seq, head.chain_hash
            # Nothing chained at the border yet: start at the first unsent event,
            # or after the newest when all are sent. Both come from one statement,
            # one snapshot: read apart, an event the lane logged in between was
            # taken for the newest sent one and the push skipped it (issue 10).
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

    def _next_verified(
        self, after: int, previous: str
    ) -> tuple[list[_Outgoing], ChainFault | None]:
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
        as_json = self.border_engine.dialect.name == "postgresql"
        out: list[_Outgoing] = []
        expected = after + 1
        for seq, chain_hash, outbox_id, mac, *fields in rows:
            if seq != expected:
                return out, ChainFault("local_log", expected, f"event {expected} is missing")
            if outbox_id is None:
                return out, ChainFault("outbox", seq, f"event {seq} has no outbox row")
            values = dict(zip(RECORD_FIELDS, fields, strict=True))
            try:
                decode_fields(values)
                canonical = canonical_of(values)
            except (ValueError, TypeError) as exc:  # not JSON, a time that is no time
                return out, ChainFault(
                    "local_log", seq, f"event {seq} cannot be read ({type(exc).__name__}): altered"
                )
            if chain_of(previous, canonical) != chain_hash:
                return out, ChainFault(
                    "local_log", seq, f"event {seq} does not match its chain hash (altered)"
                )
            if self.sealer is not None and (
                mac is None or not self.sealer.check(values["kiosk_id"], seq, chain_hash, mac)
            ):
                return out, ChainFault(
                    "local_log", seq, f"event {seq} has no valid seal (inserted or rewritten)"
                )
            values["chain_hash"] = chain_hash
            try:
                if as_json:
                    uid, text_row = border_json(values, self.kiosk_id, seq, previous)
                    item = _Outgoing(seq, values["event_id"], uid, chain_hash, json=text_row)
                else:
                    data = border_row(values, self.kiosk_id)
                    data["log_seq"], data["prev_hash"] = seq, previous
                    item = _Outgoing(
                        seq, values["event_id"], data["event_id"], chain_hash, data=data
                    )
            except EventRejected as exc:
                return out, ChainFault(
                    "refused", seq, f"event {seq} cannot be sent: {exc}", values["event_id"]
                )
            out.append(item)
            previous, expected = chain_hash, seq + 1
        return out, None

    def _send(self, rows: list[_Outgoing], result: SyncResult) -> int:
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
                    reason = f"refused by the border database: {_short(single)}"
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
        outage = f"push: {_short(exc)}"
        self._mark(set(), dict.fromkeys(local_ids, outage))
        result.error = outage
        log.warning("border push failed, %d events stay queued: %s", len(local_ids), outage)
        return 0

    def _refusal(self, row: _Outgoing) -> str:
        try:
            with self.border_engine.connect() as c:
                head = read_head(c, self.kiosk_id)
        except SQLAlchemyError as exc:
            return (
                f"push: event {row.seq} was not taken; the border's head is unknown: {_short(exc)}"
            )
        if head is not None and head.stopped_at is not None:
            return (
                f"push: the border stopped this kiosk's push at seq {row.seq}: {head.stop_reason}"
            )
        return f"push: event {row.seq} was not taken by the border"

    def _deliver(self, rows: Sequence[_Outgoing]) -> tuple[list[str], int]:
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
                stmt = (
                    sqlite.insert(table)
                    .on_conflict_do_nothing(index_elements=["event_id"])
                    .returning(table.c.log_seq)
                )
                inserted = {
                    int(r[0])
                    for r in c.execute(stmt, [cast("dict[str, Any]", row.data) for row in rows])
                }
            skipped = [r.uid for r in rows if r.seq not in inserted]
            seen: dict[uuid.UUID, tuple[str, str]] = {}
            if skipped:
                # Row-level security shows a kiosk its own rows only: an id held by
                # another kiosk's event is invisible here and is not "sent".
                known = c.execute(
                    select(table.c.event_id, table.c.kiosk_id, table.c.chain_hash).where(
                        table.c.event_id.in_(skipped)
                    )
                )
                seen = {r[0]: (r[1], r[2]) for r in known}
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
            for chunk in _chunks(sorted(delivered), _MARK_CHUNK):
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
                    [{"eid": e, "err": m[:_ERROR_MAX]} for e, m in failed.items()],
                )

    # -- pull -----------------------------------------------------------------
    def pull(self, top: int | None = None) -> SyncResult:
        """`top`: the border's newest change_seq when the caller just read it."""
        result = SyncResult()
        try:
            result.pulled, result.withdrawn = self._pull(top)
        except (SQLAlchemyError, BorderError) as exc:
            result.error = f"pull: {_short(exc)}"
            log.warning("border pull failed, local reference data unchanged: %s", result.error)
        try:
            result.pending = self.pending()
        except SQLAlchemyError as exc:
            result.pending = -1
            result.error = result.error or f"local: {_short(exc)}"
        return result

    def _pull(self, known_top: int | None) -> tuple[int, int]:
        b = BorderReferenceItem.__table__
        name = f"{WATERMARK_PREFIX}{redact(self.border_engine.url)}"
        mark = self._watermark(name)
        started = time.monotonic()
        if self._full_at is None or started - self._full_at >= FULL_PULL_EVERY_S:
            # Now and then compare everything, so that a local copy lost or
            # changed outside the sync comes back without a new publication.
            mark, self._full_at = 0, started
        top = known_top
        if top is None:
            with self.border_engine.connect() as c:
                top = int(c.execute(select(func.max(b.c.change_seq))).scalar() or 0)
        if top < mark:  # another or a re-created border database
            mark = 0
        changes: Sequence[Any] = []
        if top != mark:  # an idle cycle ends here, after one indexed read
            with self.border_engine.connect() as c:
                changes = c.execute(
                    select(
                        b.c.id, b.c.kind, b.c.key, b.c.sha256, b.c.published_at,
                        b.c.withdrawn_at, b.c.change_seq,
                    ).where(b.c.change_seq > mark)
                ).all()  # fmt: skip
        newest = max((int(r[6]) for r in changes), default=mark)
        listing = [tuple(r[:6]) for r in changes]
        local = self._local_index({(str(r[1]), str(r[2])) for r in listing})
        wanted: dict[int, tuple[str, str, str, datetime]] = {}
        withdraw: list[tuple[str, str]] = []
        for item_id, kind, key, digest, published, withdrawn in listing:
            mine = local.get((kind, key))
            if withdrawn is not None:
                if mine is not None and mine[1].startswith(PROVENANCE_PREFIX):
                    withdraw.append((kind, key))
                continue
            if mine is None or _border_is_newer(mine, digest, published):
                wanted[item_id] = (kind, key, digest, published)
        changed = 0
        corrupt = 0
        for chunk in _chunks(list(wanted), PULL_CHUNK):
            with self.border_engine.connect() as c:
                payloads = c.execute(select(b.c.id, b.c.payload).where(b.c.id.in_(chunk))).all()
            verified: list[tuple[str, str, bytes, str, str]] = []
            for item_id, payload in payloads:
                kind, key, digest, published = wanted[item_id]
                data = bytes(payload)
                if hashlib.sha256(data).hexdigest() != digest:
                    log.error(
                        "border reference item %s/%s fails its sha256; not imported", kind, key
                    )
                    corrupt += 1
                    continue
                refused = key_problem(kind, key, data)  # no anchors; trust keys = digests
                if refused is not None:
                    log.error("border reference item refused, not imported: %s", refused)
                    corrupt += 1
                    continue
                provenance = f"{PROVENANCE_PREFIX}{as_utc(published).isoformat()}"
                verified.append((kind, key, data, digest, provenance))
            changed += self._store(verified)
        removed = self._remove_local(withdraw)
        if corrupt:
            # Not current: a CRL or watchlist entry may be among what failed. Without
            # a fresh heartbeat the data ages and the policy refers as stale.
            raise BorderError(f"{corrupt} reference item(s) failed their sha256 check")
        if newest != mark:
            self._set_watermark(name, newest)
        # Heartbeat: the reference data was confirmed current just now.
        beat = time.monotonic()
        if (
            changed
            or removed
            or self._heartbeat_at is None
            or (beat - self._heartbeat_at >= HEARTBEAT_EVERY_S)
        ):
            now = datetime.now(UTC).isoformat()
            self.references.put(
                HEARTBEAT_KIND, HEARTBEAT_KEY, now.encode(), f"{PROVENANCE_PREFIX}{now}"
            )
            self._heartbeat_at = beat
        return changed, removed

    def _watermark(self, name: str) -> int:
        with self.local_engine.connect() as c:
            value = c.execute(select(SyncState.value).where(SyncState.name == name)).scalar()
        try:
            return int(value) if value is not None else 0
        except ValueError:
            return 0  # unreadable: pull everything once

    def _set_watermark(self, name: str, value: int) -> None:
        with Session(self.local_engine) as s, s.begin():
            s.merge(SyncState(name=name, value=str(value)))

    def _store(self, items: Sequence[tuple[str, str, bytes, str, str]]) -> int:
        """Insert or replace items in one local transaction (the same rows that
        ReferenceStore.put writes; one fsync per chunk instead of one per item,
        which matters for a first pull of a large watchlist)."""
        if not items:
            return 0
        now = datetime.now(UTC)
        changed = 0
        with Session(self.local_engine) as s, s.begin():
            keys = {(kind, key) for kind, key, *_ in items}
            existing = {
                (r.kind, r.key): r
                for kind in {k for k, _ in keys}
                for r in s.scalars(
                    select(LocalReferenceRow).where(
                        LocalReferenceRow.kind == kind,
                        LocalReferenceRow.key.in_([key for k, key in keys if k == kind]),
                    )
                )
            }
            for kind, key, data, digest, provenance in items:
                row = existing.get((kind, key))
                if row is not None and row.sha256 == digest:
                    continue
                if row is None:
                    row = LocalReferenceRow(kind=kind, key=key)
                    s.add(row)
                    existing[(kind, key)] = row
                row.payload = data
                row.sha256 = digest
                row.provenance = provenance
                row.imported_at = now
                changed += 1
        return changed

    def _local_index(
        self, pairs: set[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[str, str, datetime]]:
        """The local (sha256, provenance, imported_at) of the (kind, key) pairs."""
        t = LocalReferenceRow.__table__
        columns = select(t.c.kind, t.c.key, t.c.sha256, t.c.provenance, t.c.imported_at)
        if not pairs:
            return {}
        with self.local_engine.connect() as c:
            if len(pairs) > PULL_CHUNK * 4:  # a first pull: read it all at once
                rows: Iterable[Any] = c.execute(columns).all()
            else:
                rows = []
                for kind in {k for k, _ in pairs}:
                    keys = sorted(key for k, key in pairs if k == kind)
                    for chunk in _chunks(keys, PULL_CHUNK):
                        rows += c.execute(columns.where(t.c.kind == kind, t.c.key.in_(chunk))).all()
            return {(r[0], r[1]): (r[2], r[3], as_utc(r[4])) for r in rows}

    def _remove_local(self, items: Iterable[tuple[str, str]]) -> int:
        removed = 0
        t = cast(Table, LocalReferenceRow.__table__)
        with self.local_engine.begin() as c:
            for kind, key in items:
                removed += c.execute(
                    delete(t).where(
                        t.c.kind == kind,
                        t.c.key == key,
                        t.c.provenance.startswith(PROVENANCE_PREFIX),
                    )
                ).rowcount
        return removed

    # -- cycles ---------------------------------------------------------------
    def run_once(self) -> SyncResult:
        """push then pull; the result carries the first error of either. A fault
        of the local database is reported too (error "local: ..."), not raised:
        the outbox is only written after the border commit, so nothing is lost."""
        with self._lock:
            probe = self._probe()
            try:
                pushed = self._push(probe)
            except SQLAlchemyError as exc:
                pushed = SyncResult(error=f"local: {_short(exc)}")
                log.error("sync push stopped by the local database: %s", pushed.error)
            pulled = self.pull(probe.top)
        result = SyncResult(
            pushed=pushed.pushed,
            duplicates=pushed.duplicates,
            rejected=pushed.rejected,
            pending=pulled.pending,
            pulled=pulled.pulled,
            withdrawn=pulled.withdrawn,
            error=pushed.error or pulled.error,
        )
        self.last_result = result
        return result

    def run_forever(self, stop: threading.Event) -> None:
        """Sync every interval_s until `stop` is set (call on a worker thread).
        A failing cycle is logged and retried next interval; nothing is lost."""
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # a local database fault must not kill the worker
                log.exception("sync cycle failed")
            # Beyond TIMEOUT_MAX the wait itself raises OverflowError, outside the try.
            stop.wait(min(self.interval_s, threading.TIMEOUT_MAX))

    def start(self, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(
            target=self.run_forever, args=(stop,), name="border-sync", daemon=True
        )
        thread.start()
        return thread


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
    "ON CONFLICT (event_id) DO NOTHING RETURNING log_seq) "
    "SELECT array_agg(log_seq) FROM inserted"
)


def _insert_jsonb(c: Connection, rows: list[str]) -> set[int]:
    """`rows`: each a JSON object (border_json); returns the inserted log_seq."""
    payload = "[" + ",".join(rows) + "]"
    return {int(seq) for seq in c.execute(_JSONB_INSERT, {"rows": payload}).scalar() or ()}


def _row_specific(exc: SQLAlchemyError) -> bool:
    """Errors caused by one row's values (too long, out of range, not JSON, a
    constraint) rather than by the database being unreachable or misconfigured."""
    return isinstance(exc, DataError | IntegrityError) or type(exc) is StatementError


def _border_is_newer(mine: tuple[str, str, datetime], digest: str, published: datetime) -> bool:
    local_digest, provenance, imported_at = mine
    if local_digest == digest:
        return False
    if provenance.startswith(PROVENANCE_PREFIX):
        return True  # the border is the authority for what it published
    # An operator's local import stands until the border publishes something newer.
    return as_utc(published) > imported_at


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
