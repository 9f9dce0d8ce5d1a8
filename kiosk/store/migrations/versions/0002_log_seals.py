"""Tamper evidence for the event log: keyed seals, a protected outbox, sync state.

- log_seals: one HMAC-SHA256 seal per event over (kiosk id, seq, chain hash),
  made with the kiosk's key (a file outside the database, docs/border.md), so a
  rewritten chain is detectable without the border. Append-only.
- outbox: rows can no longer be deleted, re-pointed or un-sent, and a row must
  name an event that exists (the protection the event log already had).
- sync_state: small mutable values of the sync (the reference-data watermark).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TRIGGERS = {
    "log_seals_no_update": "BEFORE UPDATE ON log_seals BEGIN "
    "SELECT RAISE(ABORT, 'log_seals is append-only'); END",
    "log_seals_no_delete": "BEFORE DELETE ON log_seals BEGIN "
    "SELECT RAISE(ABORT, 'log_seals is append-only'); END",
    "log_seals_need_event": "BEFORE INSERT ON log_seals "
    "WHEN NOT EXISTS (SELECT 1 FROM transaction_events WHERE seq = NEW.seq) BEGIN "
    "SELECT RAISE(ABORT, 'a seal needs its event'); END",
    "outbox_no_delete": "BEFORE DELETE ON outbox BEGIN "
    "SELECT RAISE(ABORT, 'outbox rows cannot be deleted'); END",
    "outbox_fixed_event": "BEFORE UPDATE OF event_id ON outbox "
    "WHEN NEW.event_id IS NOT OLD.event_id BEGIN "
    "SELECT RAISE(ABORT, 'an outbox row keeps its event'); END",
    "outbox_stays_sent": "BEFORE UPDATE OF sent_at ON outbox "
    "WHEN OLD.sent_at IS NOT NULL AND NEW.sent_at IS NULL BEGIN "
    "SELECT RAISE(ABORT, 'a sent outbox row stays sent'); END",
    "outbox_needs_event": "BEFORE INSERT ON outbox "
    "WHEN NOT EXISTS (SELECT 1 FROM transaction_events WHERE event_id = NEW.event_id) BEGIN "
    "SELECT RAISE(ABORT, 'an outbox row needs its event'); END",
}


def upgrade() -> None:
    op.create_table(
        "log_seals",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("mac", sa.String(64), nullable=False),
    )
    op.create_table(
        "sync_state",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    # The sync's idle cycle counts pending rows: an index of those alone keeps it
    # independent of the log's size.
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["event_id"],
        sqlite_where=sa.text("sent_at IS NULL"),
        postgresql_where=sa.text("sent_at IS NULL"),
    )
    if op.get_bind().dialect.name == "sqlite":
        for name, body in _TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in _TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_outbox_pending", "outbox")
    op.drop_table("sync_state")
    op.drop_table("log_seals")
