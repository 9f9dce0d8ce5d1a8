"""Cached reference data (trust anchors, CRLs, master lists, policy packs, watchlist)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select
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
