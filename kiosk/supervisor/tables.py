"""The supervisor-station tables of the border database (migration b0003), as
SQLAlchemy Core tables on their own MetaData: the station and the kiosk agent
share them, and tests/supervisor checks them against the migration."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from kiosk.border.types import UtcDateTime

Json = JSON().with_variant(JSONB(), "postgresql")
metadata = MetaData()

officers = Table(
    "officers",
    metadata,
    Column("officer_id", String(32), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("role", String(16), nullable=False),
    Column("port", String(3)),
    Column("secret_hash", Text, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("failed_attempts", Integer, nullable=False),
    Column("locked_until", UtcDateTime),
    Column("last_sign_in", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False, server_default=func.current_timestamp()),
)

kiosk_status = Table(
    "kiosk_status",
    metadata,
    Column("kiosk_id", String(64), primary_key=True),
    Column("port", String(3), nullable=False),
    Column("lane", Integer, nullable=False),
    Column("direction", String(8), nullable=False),
    Column("state", String(32), nullable=False),
    Column("detail", Text),
    Column("transaction_id", String(36)),
    Column("in_service", Boolean, nullable=False),
    Column("pending_events", Integer, nullable=False),
    Column("reference_age_h", Float),
    Column("state_since", UtcDateTime, nullable=False),
    Column("heartbeat_at", UtcDateTime, nullable=False),
)

referrals = Table(
    "referrals",
    metadata,
    Column("referral_id", Uuid(as_uuid=True), primary_key=True),
    Column("kiosk_id", String(64), nullable=False),
    Column("port", String(3), nullable=False),
    Column("lane", Integer, nullable=False),
    Column("direction", String(8), nullable=False),
    Column("referred_at", UtcDateTime, nullable=False),
    Column("reasons", Json, nullable=False),
    Column("watchlist", Boolean, nullable=False),
    Column("details", Json, nullable=False),
    Column("status", String(16), nullable=False, server_default="open"),
    Column("resolved_at", UtcDateTime),
    Column("resolution", String(16)),
)

referral_images = Table(
    "referral_images",
    metadata,
    Column("referral_id", Uuid(as_uuid=True), primary_key=True),
    Column("kind", String(8), primary_key=True),
    Column("kiosk_id", String(64), nullable=False),
    Column("jpeg", LargeBinary, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    # Set and capped by the border (b0005i): expires_at <= stored_at + maximum.
    Column("stored_at", UtcDateTime, nullable=False, server_default=func.current_timestamp()),
)

officer_actions = Table(
    "officer_actions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("action_id", Uuid(as_uuid=True), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("referral_id", Uuid(as_uuid=True)),
    Column("kiosk_id", String(64), nullable=False),
    Column("officer_id", String(32), nullable=False),
    Column("second_officer_id", String(32)),
    Column("reason_code", String(32), nullable=False),
    Column("reason_text", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("detail", Json, nullable=False),
    Column("chain_hash", String(64), nullable=False),
)

commands = Table(
    "commands",
    metadata,
    Column("command_id", Uuid(as_uuid=True), primary_key=True),
    Column("kiosk_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("referral_id", Uuid(as_uuid=True)),
    Column("officer_id", String(32), nullable=False),
    Column("second_officer_id", String(32)),
    Column("reason_code", String(32), nullable=False),
    Column("reason_text", Text, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("acked_at", UtcDateTime),
    Column("result", String(16)),
    Column("result_detail", Text),
)

# The indexes migration b0003 builds, declared here so the schema-diff test sees them.
Index("ix_referrals_status_time", referrals.c.status, referrals.c.referred_at)
Index("ix_referral_images_expiry", referral_images.c.expires_at)
Index("ix_officer_actions_referral", officer_actions.c.referral_id)
Index("ix_commands_kiosk_open", commands.c.kiosk_id, commands.c.acked_at)
