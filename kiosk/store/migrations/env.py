"""Alembic environment: runs on the connection handed over by kiosk.store.database."""

from __future__ import annotations

from alembic import context

from kiosk.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("kiosk.store migrations run through kiosk.store.database.migrate()")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
