"""SQLAlchemy 2 models of the kiosk's local database.

The schema itself is created by the Alembic migrations in ./migrations; these
classes must stay in step with them (tests compare the two).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class TransactionEvent(Base):
    """One row per traveller transaction. Append-only (triggers refuse UPDATE/DELETE)
    and hash-chained: `chain_hash` = SHA-256(previous chain_hash || canonical row)."""

    __tablename__ = "transaction_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    kiosk_id: Mapped[str] = mapped_column(String(64), nullable=False)
    port: Mapped[str] = mapped_column(String(3), nullable=False)
    lane: Mapped[int] = mapped_column(Integer, nullable=False)
    direction: Mapped[str] = mapped_column(String(8), nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # {"waiting_for_document": iso, "reading_chip": iso, ...}: every transition.
    stages: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)  # admitted|referred|aborted
    decision: Mapped[str | None] = mapped_column(String(8))
    basis: Mapped[str | None] = mapped_column(String(32))
    reasons: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    policy_pack: Mapped[str | None] = mapped_column(String(64))
    policy_version: Mapped[str | None] = mapped_column(String(32))
    document: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    checks: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    transaction_ms: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    chain_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class OutboxEntry(Base):
    """Events waiting to reach the border database (one per transaction event).
    Triggers refuse DELETE, a change of event_id, clearing sent_at, and a row
    without its event."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_pending",
            "event_id",
            sqlite_where=text("sent_at IS NULL"),
            postgresql_where=text("sent_at IS NULL"),
        ),
    )

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)


class LogSeal(Base):
    """HMAC-SHA256 of (kiosk id, seq, chain hash) of one event, keyed with the
    kiosk's log key (kiosk.store.seal). Append-only like the events."""

    __tablename__ = "log_seals"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    mac: Mapped[str] = mapped_column(String(64), nullable=False)


class SyncState(Base):
    """Small mutable values of the border sync (the reference-data watermark)."""

    __tablename__ = "sync_state"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


class ReferenceItem(Base):
    """Cached reference data: CSCA certificates, CRLs, master lists, policy packs,
    watchlist. Synced from the border database; `provenance` says where it came from."""

    __tablename__ = "reference_items"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_reference_kind_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    key: Mapped[str] = mapped_column(String(200), nullable=False)
    payload: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    provenance: Mapped[str] = mapped_column(Text, nullable=False)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ReferralImage(Base):
    """The best live frame of a referred traveller, for the officer; purged at expiry."""

    __tablename__ = "referral_images"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    jpeg: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # When it was stored (local 0003; NULL before): the purge applies the
    # retention in force at purge time to it.
    stored_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
