"""Supervisor station: officers, kiosk status, referral cases and their images,
officer actions (the border's audit log of them) and the commands kiosks pull.
On PostgreSQL also row-level security for kiosks and NOTIFY triggers.

Revision ID: b0003
Revises: b0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "b0003"
down_revision = "b0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)

# Channels the station and the kiosks LISTEN on (kiosk.supervisor.notify).
STATION_CHANNEL = "egate_station"
COMMAND_CHANNEL = "egate_commands"

KIOSK_OWN_ROWS = "kiosk_id = border_kiosk_id(current_user::text)"


def upgrade() -> None:
    op.create_table(
        "officers",
        sa.Column("officer_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("port", sa.String(3)),  # NULL: every port
        sa.Column("secret_hash", sa.Text(), nullable=False),  # argon2id, PHC string
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", TS),
        sa.Column("last_sign_in", TS),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.current_timestamp()),
        sa.CheckConstraint(
            "role IN ('officer', 'supervisor', 'maintenance')", name="ck_officers_role"
        ),
    )
    op.create_table(
        "kiosk_status",
        sa.Column("kiosk_id", sa.String(64), primary_key=True),
        sa.Column("port", sa.String(3), nullable=False),
        sa.Column("lane", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text()),
        sa.Column("transaction_id", sa.String(36)),  # the traveller the lane is handling
        sa.Column("in_service", sa.Boolean(), nullable=False),
        sa.Column("pending_events", sa.Integer(), nullable=False),
        sa.Column("reference_age_h", sa.Float()),
        sa.Column("state_since", TS, nullable=False),
        sa.Column("heartbeat_at", TS, nullable=False),
    )
    op.create_table(
        "referrals",
        sa.Column("referral_id", sa.Uuid(), primary_key=True),  # the transaction's event id
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("port", sa.String(3), nullable=False),
        sa.Column("lane", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("referred_at", TS, nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("watchlist", sa.Boolean(), nullable=False),
        # The officer view of the lane: decision, trace, checks, document, journey.
        sa.Column("details", JSON, nullable=False),
        # open -> awaiting_second -> resolved, or expired (the lane moved on).
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("resolved_at", TS),
        sa.Column("resolution", sa.String(16)),
    )
    op.create_index("ix_referrals_status_time", "referrals", ["status", "referred_at"])
    op.create_table(
        "referral_images",
        sa.Column("referral_id", sa.Uuid(), primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),  # chip | live
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("jpeg", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.CheckConstraint("kind IN ('chip', 'live')", name="ck_referral_images_kind"),
    )
    op.create_index("ix_referral_images_expiry", "referral_images", ["expires_at"])
    op.create_table(
        "officer_actions",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("action_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("referral_id", sa.Uuid()),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("officer_id", sa.String(32), nullable=False),
        sa.Column("second_officer_id", sa.String(32)),
        sa.Column("reason_code", sa.String(32), nullable=False),
        sa.Column("reason_text", sa.Text(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("chain_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_officer_actions_referral", "officer_actions", ["referral_id"])
    op.create_table(
        "commands",
        sa.Column("command_id", sa.Uuid(), primary_key=True),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("referral_id", sa.Uuid()),
        sa.Column("officer_id", sa.String(32), nullable=False),
        sa.Column("second_officer_id", sa.String(32)),
        sa.Column("reason_code", sa.String(32), nullable=False),
        sa.Column("reason_text", sa.Text(), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("acked_at", TS),
        sa.Column("result", sa.String(16)),  # executed | rejected
        sa.Column("result_detail", sa.Text()),
    )
    op.create_index("ix_commands_kiosk_open", "commands", ["kiosk_id", "acked_at"])
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_security()


def _postgresql_security() -> None:
    # Kiosks: their own rows only. Supervisor policies (any row) are created with
    # the roles by `egate border init` (kiosk.border.station_roles).
    for table in ("kiosk_status", "referrals", "referral_images", "commands", "officers",
                  "officer_actions"):  # fmt: skip
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY kiosk_status_own ON kiosk_status FOR ALL "
        f"USING ({KIOSK_OWN_ROWS}) WITH CHECK ({KIOSK_OWN_ROWS})"
    )
    op.execute(
        "CREATE POLICY referrals_kiosk_insert ON referrals FOR INSERT "
        f"WITH CHECK ({KIOSK_OWN_ROWS})"
    )
    op.execute(
        "CREATE POLICY referral_images_kiosk_insert ON referral_images FOR INSERT "
        f"WITH CHECK ({KIOSK_OWN_ROWS})"
    )
    op.execute(
        f"CREATE POLICY commands_kiosk_select ON commands FOR SELECT USING ({KIOSK_OWN_ROWS})"
    )
    op.execute(
        f"CREATE POLICY commands_kiosk_ack ON commands FOR UPDATE "
        f"USING ({KIOSK_OWN_ROWS}) WITH CHECK ({KIOSK_OWN_ROWS})"
    )
    # Wake-ups instead of polling: the payload is the kiosk id, nothing personal.
    op.execute(
        f"""
        CREATE FUNCTION border_notify_station() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{STATION_CHANNEL}', NEW.kiosk_id);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION border_notify_command() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{COMMAND_CHANNEL}', NEW.kiosk_id);
            PERFORM pg_notify('{STATION_CHANNEL}', NEW.kiosk_id);
            RETURN NULL;
        END $$
        """
    )
    for table in ("kiosk_status", "referrals"):
        op.execute(
            f"CREATE TRIGGER {table}_notify AFTER INSERT OR UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION border_notify_station()"
        )
    op.execute(
        "CREATE TRIGGER commands_notify AFTER INSERT OR UPDATE ON commands "
        "FOR EACH ROW EXECUTE FUNCTION border_notify_command()"
    )
    op.execute("REVOKE ALL ON FUNCTION border_notify_station() FROM PUBLIC")
    op.execute("REVOKE ALL ON FUNCTION border_notify_command() FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("kiosk_status", "referrals", "commands"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_notify ON {table}")
        op.execute("DROP FUNCTION IF EXISTS border_notify_station()")
        op.execute("DROP FUNCTION IF EXISTS border_notify_command()")
    for name in ("commands", "officer_actions", "referral_images", "referrals", "kiosk_status",
                 "officers"):  # fmt: skip
        op.drop_table(name)
