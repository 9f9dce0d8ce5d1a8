"""SQLAlchemy 2 models of the border database (shared by every kiosk and station).

The schema is created by the Alembic migrations in ./migrations (a tree of its
own, separate from the kiosk's local database); these classes must stay in step
with them, which tests/border checks. Besides the tables, the migrations create
the `entry_records` view and, on PostgreSQL, the row-level-security policies and
the SECURITY DEFINER functions described in docs/border.md.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    column,
    false,
    func,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kiosk.border.types import UtcDateTime

# JSONB on PostgreSQL (indexable, compact); plain JSON text on the SQLite stand-in.
Json = JSON().with_variant(JSONB(), "postgresql")


class BorderBase(DeclarativeBase):
    pass


class BorderEvent(BorderBase):
    """One finished traveller transaction, as pushed by the kiosk that handled it.

    `document_number`, `issuing_state` and `nationality` repeat fields of the
    `document` summary as plain columns so that exit checks can find a traveller's
    entry with an index on any backend (JSON operators differ between them).
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_document", "document_number", "issuing_state", "direction", "outcome"),
        Index("ix_events_kiosk_finished", "kiosk_id", "finished_at"),
        Index(
            "ix_events_kiosk_seq",
            "kiosk_id",
            "log_seq",
            unique=True,
            postgresql_where=text("log_seq IS NOT NULL"),
            sqlite_where=text("log_seq IS NOT NULL"),
        ),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid(as_uuid=True), primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(64), nullable=False)
    port: Mapped[str] = mapped_column(String(3), nullable=False)
    lane: Mapped[int] = mapped_column(Integer, nullable=False)
    direction: Mapped[str] = mapped_column(String(8), nullable=False)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    decision: Mapped[str | None] = mapped_column(String(8))
    basis: Mapped[str | None] = mapped_column(String(32))
    reasons: Mapped[list[str]] = mapped_column(Json, nullable=False)
    policy_pack: Mapped[str | None] = mapped_column(String(64))
    policy_version: Mapped[str | None] = mapped_column(String(32))
    document: Mapped[dict[str, Any]] = mapped_column(Json, nullable=False)
    document_number: Mapped[str | None] = mapped_column(String(40))
    issuing_state: Mapped[str | None] = mapped_column(String(3))
    nationality: Mapped[str | None] = mapped_column(String(3))
    checks: Mapped[dict[str, Any]] = mapped_column(Json, nullable=False)
    stages: Mapped[dict[str, Any]] = mapped_column(Json, nullable=False)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    permitted_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    transaction_ms: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    chain_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # The kiosk's hash chain: its sequence number and the chain hash of the event
    # before (GENESIS for the first). The border takes an event only when
    # prev_hash is the head it holds for the kiosk (kiosk_chain_heads). NULL only
    # in rows pushed before revision b0002.
    log_seq: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    # Set by the border database, never by a kiosk (kiosk roles cannot write it).
    received_at: Mapped[datetime] = mapped_column(
        UtcDateTime, nullable=False, server_default=func.current_timestamp()
    )
    # Set by the border (b0005i): an admitted entry of a document whose earlier
    # admitted entry has no exit after it. Kept, alerted, not an entry record.
    entry_conflict: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())


class BorderReferenceItem(BorderBase):
    """Reference data published for every kiosk: CSCA certificates, CRLs, master
    lists, policy packs, watchlist entries. A withdrawn item keeps its row (empty
    payload, `withdrawn_at` set) so kiosks learn to delete their copy."""

    __tablename__ = "reference_items"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_border_reference_kind_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    key: Mapped[str] = mapped_column(String(200), nullable=False)
    payload: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    provenance: Mapped[str] = mapped_column(Text, nullable=False)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Set by a trigger on every insert and update from one increasing counter,
    # with writers serialised: a kiosk pulls only what changed past its watermark.
    change_seq: Mapped[int] = mapped_column(
        BigInteger, nullable=False, index=True, server_default=text("0")
    )


class AdvancePassengerInfo(BorderBase):
    """Advance passenger information (API) from the airlines: the traveller's
    arriving flight and onward journey, keyed by document and arrival date."""

    __tablename__ = "advance_passenger_info"
    __table_args__ = (
        Index("ix_api_document_date", "document_number", "issuing_state", "flight_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_number: Mapped[str] = mapped_column(String(40), nullable=False)
    issuing_state: Mapped[str] = mapped_column(String(3), nullable=False)
    flight_date: Mapped[date] = mapped_column(Date, nullable=False)  # arrival date at the port
    flight: Mapped[str | None] = mapped_column(String(8))  # arriving flight, e.g. "CA123"
    arrived_from: Mapped[str | None] = mapped_column(String(3))  # ICAO 9303 state/region code
    destination: Mapped[str | None] = mapped_column(String(3))  # onward state/region
    departure_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    departure_port: Mapped[str | None] = mapped_column(String(3))  # IATA
    onward_flight: Mapped[str | None] = mapped_column(String(8))
    confirmed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime, nullable=False, server_default=func.current_timestamp()
    )


class KioskRole(BorderBase):
    """Which kiosk id each PostgreSQL login role may write events for (RLS)."""

    __tablename__ = "kiosk_roles"

    role_name: Mapped[str] = mapped_column(String(63), primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(64), nullable=False)
    # When set, the role's events must carry this port and lane (b0005i).
    port: Mapped[str | None] = mapped_column(String(3))
    lane: Mapped[int | None] = mapped_column(Integer)


class KioskLog(BorderBase):
    """What the border knows of each kiosk's local log (b0005i): the SHA-256 of
    its log-key proof (`verifier`, set at the first attestation with a key) and
    the newest head it reported. `held_reason`: a missing or different key, a
    head that went back or forked; the kiosk's events are refused until an
    administrator resumes it (`egate border chain-resume`)."""

    __tablename__ = "kiosk_logs"

    kiosk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    verifier: Mapped[str | None] = mapped_column(String(64))
    enrolled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reported_seq: Mapped[int | None] = mapped_column(BigInteger)
    reported_hash: Mapped[str | None] = mapped_column(String(64))
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    held_reason: Mapped[str | None] = mapped_column(Text)
    attested_xact: Mapped[int | None] = mapped_column(BigInteger)


class BorderSetting(BorderBase):
    """Border-wide settings (b0005i): referral_image_max_h caps every referral
    image's expiry, whatever a kiosk asks for."""

    __tablename__ = "border_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


class KioskChainHead(BorderBase):
    """The newest event of each kiosk's hash chain that the border holds, kept by
    the events trigger. `stopped_at` is set when a kiosk's event did not continue
    the chain: the border takes nothing more from it until an administrator
    resumes it (`egate border chain-resume`)."""

    __tablename__ = "kiosk_chain_heads"

    kiosk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    log_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    chain_hash: Mapped[str | None] = mapped_column(String(64))
    event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(as_uuid=True))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    stop_reason: Mapped[str | None] = mapped_column(Text)


class KioskAlert(BorderBase):
    """Something a supervisor must look at: a kiosk's chain broke at the border
    (`chain_break`, `event_id_taken`) or the kiosk found its own log or outbox
    faulty (`local_log`, `outbox`, `diverged`). docs/border.md."""

    __tablename__ = "kiosk_alerts"
    __table_args__ = (Index("ix_kiosk_alerts_kiosk", "kiosk_id", "raised_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kiosk_id: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    detail: Mapped[str] = mapped_column(Text, nullable=False)
    log_seq: Mapped[int | None] = mapped_column(BigInteger)
    event_id: Mapped[str | None] = mapped_column(String(36))
    expected_hash: Mapped[str | None] = mapped_column(String(64))
    received_hash: Mapped[str | None] = mapped_column(String(64))
    raised_at: Mapped[datetime] = mapped_column(
        UtcDateTime, nullable=False, server_default=func.current_timestamp()
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(63))


# The view created by the migrations: the latest admitted entry of each document,
# ordered and bounded by the border's receipt time (revision b0002).
entry_records = table(
    "entry_records",
    column("event_id", Uuid(as_uuid=True)),
    column("kiosk_id", String()),
    column("document_number", String()),
    column("issuing_state", String()),
    column("port", String()),
    column("entered_at", UtcDateTime()),
    column("permitted_until", UtcDateTime()),
    column("basis", String()),
)
