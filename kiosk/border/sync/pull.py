"""pull: reference data down from the border. Items whose digest differs from the
local copy are copied into the local ReferenceStore with provenance
"border:<published_at>"; withdrawn items are removed locally. Every successful
pull also refreshes the heartbeat item (kind "border_sync", key "last_pull") so
the age of the reference data reflects the last confirmation, not the last
change. Between full comparisons only changes after a watermark are read."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, delete, func, select
from sqlalchemy.orm import Session

from kiosk.border.database import redact
from kiosk.border.errors import BorderError
from kiosk.border.models import BorderReferenceItem
from kiosk.border.sync.common import chunks
from kiosk.clock import as_utc
from kiosk.store.models import ReferenceItem as LocalReferenceRow
from kiosk.store.models import SyncState
from kiosk.store.reference import ReferenceStore
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
PULL_CHUNK = 500

# A listed border change: id, kind, key, sha256, published_at, withdrawn_at.
_Listed = tuple[int, str, str, str, datetime, datetime | None]
# A border item to fetch, by id: kind, key, sha256, published_at.
_Wanted = dict[int, tuple[str, str, str, datetime]]
# A verified item to store: kind, key, payload, sha256, provenance.
_Verified = tuple[str, str, bytes, str, str]


class Puller:
    """Copies one border database's reference data into the local store."""

    def __init__(self, local_engine: Engine, border_engine: Engine) -> None:
        self.local_engine = local_engine
        self.border_engine = border_engine
        self.references = ReferenceStore(local_engine)
        self._heartbeat_at: float | None = None  # monotonic time of our last heartbeat
        self._full_at: float | None = None  # ... and of our last full comparison

    def pull(self, known_top: int | None = None) -> tuple[int, int]:
        """(items changed, items removed) locally. `known_top`: the border's newest
        change_seq when the caller just read it. Raises SQLAlchemyError, or
        BorderError when an item fails its check (nothing then counts as current)."""
        name = f"{WATERMARK_PREFIX}{redact(self.border_engine.url)}"
        mark = self._watermark(name)
        started = time.monotonic()
        if self._full_at is None or started - self._full_at >= FULL_PULL_EVERY_S:
            # Now and then compare everything, so that a local copy lost or
            # changed outside the sync comes back without a new publication.
            mark, self._full_at = 0, started
        mark, changes = self._changes(known_top, mark)
        newest = max((int(r[6]) for r in changes), default=mark)
        wanted, withdraw = self._plan([cast(_Listed, tuple(r[:6])) for r in changes])
        changed, corrupt = self._fetch(wanted)
        removed = self._remove_local(withdraw)
        if corrupt:
            # Not current: a CRL or watchlist entry may be among what failed. Without
            # a fresh heartbeat the data ages and the policy refers as stale.
            raise BorderError(f"{corrupt} reference item(s) failed their sha256 check")
        if newest != mark:
            self._set_watermark(name, newest)
        self._beat(bool(changed or removed))
        return changed, removed

    def _changes(self, known_top: int | None, mark: int) -> tuple[int, Sequence[Any]]:
        """The border's changes after `mark`, and the mark they were read from
        (0 when the border is behind it)."""
        b = BorderReferenceItem.__table__
        top = known_top
        if top is None:
            with self.border_engine.connect() as c:
                top = int(c.execute(select(func.max(b.c.change_seq))).scalar() or 0)
        if top < mark:  # another or a re-created border database
            mark = 0
        if top == mark:  # an idle cycle ends here, after one indexed read
            return mark, []
        with self.border_engine.connect() as c:
            return mark, c.execute(
                select(
                    b.c.id, b.c.kind, b.c.key, b.c.sha256, b.c.published_at,
                    b.c.withdrawn_at, b.c.change_seq,
                ).where(b.c.change_seq > mark)
            ).all()  # fmt: skip

    def _plan(self, listing: list[_Listed]) -> tuple[_Wanted, list[tuple[str, str]]]:
        """Which listed items to fetch and which local copies to remove."""
        local = self._local_index({(str(r[1]), str(r[2])) for r in listing})
        wanted: _Wanted = {}
        withdraw: list[tuple[str, str]] = []
        for item_id, kind, key, digest, published, withdrawn in listing:
            mine = local.get((kind, key))
            if withdrawn is not None:
                if mine is not None and mine[1].startswith(PROVENANCE_PREFIX):
                    withdraw.append((kind, key))
                continue
            if mine is None or _border_is_newer(mine, digest, published):
                wanted[item_id] = (kind, key, digest, published)
        return wanted, withdraw

    def _fetch(self, wanted: _Wanted) -> tuple[int, int]:
        """Fetch, check and store the wanted items: (changed, corrupt)."""
        b = BorderReferenceItem.__table__
        changed = 0
        corrupt = 0
        for chunk in chunks(list(wanted), PULL_CHUNK):
            with self.border_engine.connect() as c:
                payloads = c.execute(select(b.c.id, b.c.payload).where(b.c.id.in_(chunk))).all()
            verified: list[_Verified] = []
            for item_id, payload in payloads:
                item = _verified(wanted[item_id], bytes(payload))
                if item is None:
                    corrupt += 1
                else:
                    verified.append(item)
            changed += self._store(verified)
        return changed, corrupt

    def _beat(self, changed: bool) -> None:
        """Heartbeat: the reference data was confirmed current just now."""
        beat = time.monotonic()
        if (
            changed
            or self._heartbeat_at is None
            or (beat - self._heartbeat_at >= HEARTBEAT_EVERY_S)
        ):
            now = datetime.now(UTC).isoformat()
            self.references.put(
                HEARTBEAT_KIND, HEARTBEAT_KEY, now.encode(), f"{PROVENANCE_PREFIX}{now}"
            )
            self._heartbeat_at = beat

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

    def _store(self, items: Sequence[_Verified]) -> int:
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
                    for chunk in chunks(keys, PULL_CHUNK):
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


def _verified(wanted: tuple[str, str, str, datetime], data: bytes) -> _Verified | None:
    """The item to store, or None (logged) when it fails its digest or key check."""
    kind, key, digest, published = wanted
    if hashlib.sha256(data).hexdigest() != digest:
        log.error("border reference item %s/%s fails its sha256; not imported", kind, key)
        return None
    refused = key_problem(kind, key, data)  # no anchors; trust keys = digests
    if refused is not None:
        log.error("border reference item refused, not imported: %s", refused)
        return None
    provenance = f"{PROVENANCE_PREFIX}{as_utc(published).isoformat()}"
    return kind, key, data, digest, provenance


def _border_is_newer(mine: tuple[str, str, datetime], digest: str, published: datetime) -> bool:
    local_digest, provenance, imported_at = mine
    if local_digest == digest:
        return False
    if provenance.startswith(PROVENANCE_PREFIX):
        return True  # the border is the authority for what it published
    # An operator's local import stands until the border publishes something newer.
    return as_utc(published) > imported_at
