"""Initial local schema: event log, outbox, reference data, referral images.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transaction_events",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("port", sa.String(3), nullable=False),
        sa.Column("lane", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stages", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(8)),
        sa.Column("basis", sa.String(32)),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("policy_pack", sa.String(64)),
        sa.Column("policy_version", sa.String(32)),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("transaction_ms", sa.Float()),
        sa.Column("error", sa.Text()),
        sa.Column("chain_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text()),
    )
    op.create_table(
        "reference_items",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("provenance", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("kind", "key", name="uq_reference_kind_key"),
    )
    op.create_table(
        "referral_images",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("jpeg", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    # The event log is evidence: the database itself refuses to change it.
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER transaction_events_no_{action.lower()} "
                f"BEFORE {action} ON transaction_events "
                "BEGIN SELECT RAISE(ABORT, 'transaction_events is append-only'); END"
            )


def downgrade() -> None:
    for name in ("referral_images", "reference_items", "outbox", "transaction_events"):
        op.drop_table(name)
