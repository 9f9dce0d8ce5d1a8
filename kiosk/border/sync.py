"""The kiosk's sync with the border database.

push: outbox events go up in batches, idempotently. Each batch is one border
transaction of INSERT ... ON CONFLICT (event_id) DO NOTHING RETURNING event_id;
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
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError, StatementError
from sqlalchemy.orm import Session

from kiosk.border.errors import BorderError
from kiosk.border.models import BorderEvent, BorderReferenceItem
from kiosk.clock import as_utc
from kiosk.store.models import OutboxEntry, TransactionEvent
from kiosk.store.models import ReferenceItem as LocalReferenceRow
from kiosk.store.reference import ReferenceStore
from kiosk.trust.store import key_problem

log = logging.getLogger(__name__)

PROVENANCE_PREFIX = "border:"
HEARTBEAT_KIND = "border_sync"
HEARTBEAT_KEY = "last_pull"
DEFAULT_BATCH = 200
PULL_CHUNK = 500
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


def _permitted_until(row: TransactionEvent) -> datetime | None:
    """The transit stay limit when the local record carries one (a column if the
    local schema grows one, else checks["permitted_until"] as an ISO string)."""
    value: Any = getattr(row, "permitted_until", None)
    if value is None and isinstance(row.checks, dict):
        value = row.checks.get("permitted_until")
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


def border_row(row: TransactionEvent, kiosk_id: str) -> dict[str, Any]:
    """The border `events` row for one local event; raises EventRejected."""
    if row.kiosk_id != kiosk_id:
        raise EventRejected(
            f"event belongs to kiosk {row.kiosk_id!r}; this kiosk syncs as {kiosk_id!r}"
        )
    try:
        event_id = uuid.UUID(row.event_id)
    except ValueError as exc:
        raise EventRejected(f"event id {row.event_id!r} is not a UUID") from exc
    document = row.document if isinstance(row.document, dict) else {}
    return {
        "event_id": event_id,
        "kiosk_id": row.kiosk_id,
        "port": row.port,
        "lane": row.lane,
        "direction": row.direction,
        "outcome": row.outcome,
        "decision": row.decision,
        "basis": row.basis,
        "reasons": list(row.reasons),
        "policy_pack": row.policy_pack,
        "policy_version": row.policy_version,
        "document": document,
        "document_number": _text_or_none(document.get("document_number"), 40),
        "issuing_state": _text_or_none(document.get("issuing_state"), 3),
        "nationality": _text_or_none(document.get("nationality"), 3),
        "checks": row.checks,
        "stages": row.stages,
        "started_at": as_utc(row.started_at),
        "finished_at": as_utc(row.finished_at),
        "permitted_until": _permitted_until(row),
        "transaction_ms": row.transaction_ms,
        "error": row.error,
        "chain_hash": row.chain_hash,
    }


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
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.local_engine = local_engine
        self.border_engine = border_engine
        self.kiosk_id = kiosk_id
        self.batch_size = batch_size
        self.interval_s = interval_s
        self.references = ReferenceStore(local_engine)
        self.last_result: SyncResult | None = None
        self._lock = threading.Lock()  # one cycle at a time per instance

    # -- push -----------------------------------------------------------------
    def pending(self) -> int:
        with Session(self.local_engine) as s:
            count = s.scalar(
                select(func.count()).select_from(OutboxEntry).where(OutboxEntry.sent_at.is_(None))
            )
            return int(count or 0)

    def _next_batch(self, after_seq: int) -> list[TransactionEvent]:
        """The next unsent events in log order (keyset paging on the log's seq)."""
        with Session(self.local_engine, expire_on_commit=False) as s:
            query = (
                select(TransactionEvent)
                .join(OutboxEntry, OutboxEntry.event_id == TransactionEvent.event_id)
                .where(OutboxEntry.sent_at.is_(None), TransactionEvent.seq > after_seq)
                .order_by(TransactionEvent.seq)
                .limit(self.batch_size)
            )
            return list(s.scalars(query))

    def push(self) -> SyncResult:
        """Send every pending event; stops at the first failure of the border
        database itself (a row it refuses only holds back that row)."""
        result = SyncResult()
        after_seq = 0
        while True:
            batch = self._next_batch(after_seq)
            if not batch:
                break
            after_seq = batch[-1].seq
            rows: list[tuple[str, dict[str, Any]]] = []
            failed: dict[str, str] = {}
            for r in batch:
                try:
                    rows.append((r.event_id, border_row(r, self.kiosk_id)))
                except EventRejected as exc:
                    failed[r.event_id] = str(exc)
            delivered: set[str] = set()
            duplicates = 0
            outage: str | None = None
            try:
                delivered, duplicates, conflicts = self._deliver(rows) if rows else (set(), 0, {})
                failed.update(conflicts)
            except SQLAlchemyError as exc:
                if not _row_specific(exc):
                    outage = f"push: {_short(exc)}"
                else:
                    # One bad row must not hold back the others: find it alone.
                    for local_id, row in rows:
                        try:
                            one, dup, conflict = self._deliver([(local_id, row)])
                        except SQLAlchemyError as single:
                            if not _row_specific(single):
                                outage = f"push: {_short(single)}"
                                break
                            failed[local_id] = f"refused by the border database: {_short(single)}"
                            continue
                        delivered |= one
                        duplicates += dup
                        failed.update(conflict)
            result.pushed += len(delivered)
            result.duplicates += duplicates
            result.rejected += len(failed)
            if outage is not None:
                # The rows not yet settled wait for the next cycle, counting the attempt.
                waiting = {r.event_id for r in batch} - delivered - set(failed)
                failed.update(dict.fromkeys(waiting, outage))
                self._mark(delivered, failed)
                result.error = outage
                log.warning("border push failed, %d events stay queued: %s", len(waiting), outage)
                break
            self._mark(delivered, failed)
            if failed and result.error is None:
                first = next(iter(failed.values()))
                result.error = f"push: {len(failed)} event(s) refused: {first}"
        result.pending = self.pending()
        return result

    def _deliver(
        self, rows: Sequence[tuple[str, dict[str, Any]]]
    ) -> tuple[set[str], int, dict[str, str]]:
        """Insert one batch in one border transaction; returns the local ids
        delivered, how many of them were confirmed re-deliveries, and refusals."""
        table = cast(Table, BorderEvent.__table__)
        dialect = self.border_engine.dialect.name
        if dialect == "postgresql":
            stmt: Any = postgresql.insert(table)
        elif dialect == "sqlite":
            stmt = sqlite.insert(table)
        else:
            raise SQLAlchemyError(f"unsupported border backend {dialect!r}")
        stmt = stmt.on_conflict_do_nothing(index_elements=["event_id"]).returning(table.c.event_id)
        # uuid -> (local spelling of the id, chain hash)
        wanted = {row["event_id"]: (local, row["chain_hash"]) for local, row in rows}
        delivered: set[str] = set()
        conflicts: dict[str, str] = {}
        confirmed = 0
        with self.border_engine.begin() as c:
            inserted = {r[0] for r in c.execute(stmt, [row for _, row in rows])}
            skipped = [eid for eid in wanted if eid not in inserted]
            seen: dict[uuid.UUID, tuple[str, str]] = {}
            if skipped:
                # Row-level security shows a kiosk its own rows only: an id held by
                # another kiosk's event is invisible here and reported, not "sent".
                known = c.execute(
                    select(table.c.event_id, table.c.kiosk_id, table.c.chain_hash).where(
                        table.c.event_id.in_(skipped)
                    )
                )
                seen = {r[0]: (r[1], r[2]) for r in known}
        for eid, (local, chain_hash) in wanted.items():
            if eid in inserted:
                delivered.add(local)
            elif seen.get(eid) == (self.kiosk_id, chain_hash):
                delivered.add(local)
                confirmed += 1
            else:
                conflicts[local] = (
                    "event id already used by a different event in the border database"
                )
        return delivered, confirmed, conflicts

    def _mark(self, delivered: set[str], failed: dict[str, str]) -> None:
        now = datetime.now(UTC)
        with self.local_engine.begin() as c:
            t = cast(Table, OutboxEntry.__table__)
            if delivered:
                c.execute(
                    update(t)
                    .where(t.c.event_id == bindparam("eid"))
                    .values(attempts=t.c.attempts + 1, sent_at=now, last_error=None),
                    [{"eid": e} for e in delivered],
                )
            if failed:
                c.execute(
                    update(t)
                    .where(t.c.event_id == bindparam("eid"))
                    .values(attempts=t.c.attempts + 1, last_error=bindparam("err")),
                    [{"eid": e, "err": m[:_ERROR_MAX]} for e, m in failed.items()],
                )

    # -- pull -----------------------------------------------------------------
    def pull(self) -> SyncResult:
        result = SyncResult()
        try:
            result.pulled, result.withdrawn = self._pull()
        except (SQLAlchemyError, BorderError) as exc:
            result.error = f"pull: {_short(exc)}"
            log.warning("border pull failed, local reference data unchanged: %s", result.error)
        try:
            result.pending = self.pending()
        except SQLAlchemyError as exc:
            result.pending = -1
            result.error = result.error or f"local: {_short(exc)}"
        return result

    def _pull(self) -> tuple[int, int]:
        b = BorderReferenceItem.__table__
        with self.border_engine.connect() as c:
            listing = c.execute(
                select(b.c.id, b.c.kind, b.c.key, b.c.sha256, b.c.published_at, b.c.withdrawn_at)
            ).all()
        local = self._local_index()
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
        # Heartbeat: the reference data was confirmed current just now.
        now = datetime.now(UTC).isoformat()
        self.references.put(
            HEARTBEAT_KIND, HEARTBEAT_KEY, now.encode(), f"{PROVENANCE_PREFIX}{now}"
        )
        return changed, removed

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

    def _local_index(self) -> dict[tuple[str, str], tuple[str, str, datetime]]:
        t = LocalReferenceRow.__table__
        with self.local_engine.connect() as c:
            rows = c.execute(select(t.c.kind, t.c.key, t.c.sha256, t.c.provenance, t.c.imported_at))
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
            try:
                pushed = self.push()
            except SQLAlchemyError as exc:
                pushed = SyncResult(error=f"local: {_short(exc)}")
                log.error("sync push stopped by the local database: %s", pushed.error)
            pulled = self.pull()
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


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
