"""Alembic environment of the border database: runs on the connection handed
over by kiosk.border.database.migrate_border(), with its own version table so
it never mixes with the kiosk's local migrations."""

from __future__ import annotations

from alembic import context

from kiosk.border.models import BorderBase

VERSION_TABLE = "border_schema_version"

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("border migrations run through kiosk.border.database.migrate_border()")
context.configure(
    connection=connection,
    target_metadata=BorderBase.metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
