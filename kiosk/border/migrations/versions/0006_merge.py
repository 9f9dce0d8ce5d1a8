"""Merge of the officer-security (b0004o) and kiosk-integrity (b0005i) revisions.

Both branched from b0003 and touch disjoint objects; this revision only joins the
two heads so the schema has one head again.

Revision ID: b0006m
Revises: b0004o, b0005i
"""

from __future__ import annotations

revision = "b0006m"
down_revision = ("b0004o", "b0005i")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
