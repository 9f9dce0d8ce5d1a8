"""The supervisor-station tables of the border database (migration b0003), as
SQLAlchemy Core tables on their own MetaData: the station and the kiosk agent
share them, and tests/supervisor checks them against the migration."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
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
    false,
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
    # argon2id salt and parameters, SHA-256 of the proof (kiosk.supervisor.secrets);
    # no client role reads these three (b0004o).
    Column("secret_salt", LargeBinary),
    Column("secret_params", String(64)),
    Column("secret_check", LargeBinary),
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
    # The lane's own alarms (Lane.alarms codes, e.g. event_log_unavailable), b0007g.
    Column("alarms", Json),
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
    # b0004o: the kiosk refuses a command past expires_at or whose mac (HMAC-SHA256
    # with its command key, kiosk.supervisor.command_mac) does not match.
    Column("expires_at", UtcDateTime),
    Column("two_officer", Boolean, nullable=False, server_default=false()),
    Column("mac", String(64)),
    CheckConstraint(
        "second_officer_id IS NULL OR second_officer_id <> officer_id",
        name="ck_commands_distinct_officers",
    ),
    CheckConstraint(
        "NOT two_officer OR (second_officer_id IS NOT NULL AND second_officer_id <> officer_id)",
        name="ck_commands_two_officer",
    ),
)

# b0004o: read only by the border's SECURITY DEFINER functions on PostgreSQL.
officer_sessions = Table(
    "officer_sessions",
    metadata,
    Column("token_hash", LargeBinary, primary_key=True),
    Column("officer_id", String(32), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("last_used", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime),
)

officer_policy = Table(
    "officer_policy",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("max_failed", Integer, nullable=False),
    Column("lockout_s", Integer, nullable=False),
    Column("session_idle_s", Integer, nullable=False),
    Column("command_ttl_s", Integer, nullable=False),
)

officer_log_key = Table(
    "officer_log_key",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", LargeBinary, nullable=False),
)

kiosk_command_keys = Table(
    "kiosk_command_keys",
    metadata,
    Column("kiosk_id", String(64), primary_key=True),
    Column("command_key", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# The indexes migration b0003 builds, declared here so the schema-diff test sees them.
Index("ix_referrals_status_time", referrals.c.status, referrals.c.referred_at)
Index("ix_referral_images_expiry", referral_images.c.expires_at)
Index("ix_officer_actions_referral", officer_actions.c.referral_id)
Index("ix_commands_kiosk_open", commands.c.kiosk_id, commands.c.acked_at)
