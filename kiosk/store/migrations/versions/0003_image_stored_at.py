"""Referral images record when they were stored, so that a purge applies the
retention in force now (lowering it takes effect at the next purge), not only
the expiry computed at write time (issue 19 item 7).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for frames stored before: the purge treats them by their expiry and
    # deletes any whose remaining life exceeds the retention now.
    op.add_column("referral_images", sa.Column("stored_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.execute("ALTER TABLE referral_images DROP COLUMN stored_at")
