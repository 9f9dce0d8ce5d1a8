"""Cached reference data (trust anchors, CRLs, master lists, policy packs, watchlist)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from kiosk.store.models import ReferenceItem as ReferenceRow


@dataclass(frozen=True)
class ReferenceItem:
    kind: str
    key: str
    payload: bytes
    sha256: str
    provenance: str
    imported_at: datetime


class ReferenceStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def put(self, kind: str, key: str, payload: bytes, provenance: str) -> bool:
        """Insert or replace (kind, key); False when the same payload was already there."""
        digest = hashlib.sha256(payload).hexdigest()
        with Session(self.engine) as session, session.begin():
            row = session.scalars(
                select(ReferenceRow).where(ReferenceRow.kind == kind, ReferenceRow.key == key)
            ).first()
            if row is not None and row.sha256 == digest:
                return False
            if row is None:
                row = ReferenceRow(kind=kind, key=key)
                session.add(row)
            row.payload = payload
            row.sha256 = digest
            row.provenance = provenance
            row.imported_at = datetime.now(UTC)
        return True

    def put_many(self, rows: Iterable[tuple[str, str, bytes, str]]) -> int:
        """put() for many (kind, key, payload, provenance) rows in one transaction and
        a fixed number of statements whatever their count (one SELECT of the stored
        digests, one executemany INSERT, one executemany UPDATE): a 600-certificate
        master list imported row by row spent seconds in commits (issue 20 item 6).
        Returns how many rows were new or changed. A key given twice is stored as
        put() twice would leave it: the last payload, with the provenance it first
        arrived with."""
        wanted: dict[tuple[str, str], tuple[bytes, str, str]] = {}
        for kind, key, payload, provenance in rows:
            digest = hashlib.sha256(payload).hexdigest()
            earlier = wanted.get((kind, key))
            if earlier is None or earlier[1] != digest:
                wanted[(kind, key)] = (payload, digest, provenance)
        if not wanted:
            return 0
        kinds = sorted({kind for kind, _ in wanted})
        now = datetime.now(UTC)
        with self.engine.begin() as connection:
            # Every stored digest of these kinds: one statement, however many keys.
            stored = {
                (kind, key): (row_id, digest)
                for row_id, kind, key, digest in connection.execute(
                    select(
                        ReferenceRow.id, ReferenceRow.kind, ReferenceRow.key, ReferenceRow.sha256
                    ).where(ReferenceRow.kind.in_(kinds))
                )
            }
            new: list[dict[str, object]] = []
            changed: list[dict[str, object]] = []
            for (kind, key), (payload, digest, provenance) in wanted.items():
                values = {
                    "payload": payload,
                    "sha256": digest,
                    "provenance": provenance,
                    "imported_at": now,
                }
                if (kind, key) not in stored:
                    new.append({"kind": kind, "key": key, **values})
                elif stored[(kind, key)][1] != digest:
                    changed.append({"row_id": stored[(kind, key)][0], **values})
            if new:
                connection.execute(insert(ReferenceRow), new)
            if changed:
                connection.execute(
                    update(ReferenceRow).where(ReferenceRow.id == bindparam("row_id")), changed
                )
        return len(new) + len(changed)

    def items(self, kind: str) -> list[ReferenceItem]:
        with Session(self.engine) as session:
            rows = session.scalars(
                select(ReferenceRow).where(ReferenceRow.kind == kind).order_by(ReferenceRow.key)
            )
            return [
                ReferenceItem(r.kind, r.key, r.payload, r.sha256, r.provenance, r.imported_at)
                for r in rows
            ]

    def get(self, kind: str, key: str) -> ReferenceItem | None:
        with Session(self.engine) as session:
            r = session.scalars(
                select(ReferenceRow).where(ReferenceRow.kind == kind, ReferenceRow.key == key)
            ).first()
            if r is None:
                return None
            return ReferenceItem(r.kind, r.key, r.payload, r.sha256, r.provenance, r.imported_at)

    def fingerprint(self, kinds: tuple[str, ...]) -> tuple[int, datetime | None]:
        """(row count, newest import) of `kinds`: changes whenever a sync adds,
        replaces or withdraws one of them, so caches know when to rebuild."""
        with Session(self.engine) as session:
            count, newest = session.execute(
                select(func.count(), func.max(ReferenceRow.imported_at)).where(
                    ReferenceRow.kind.in_(kinds)
                )
            ).one()
            return int(count), newest

    def newest_import(self) -> datetime | None:
        with Session(self.engine) as session:
            row = session.scalars(
                select(ReferenceRow.imported_at).order_by(ReferenceRow.imported_at.desc())
            ).first()
            return row
