"""Alembic's autogenerate diff between a migrated database and the models.

An empty diff means the migrations build exactly the tables, columns, types,
nullability, server defaults, indexes, unique and foreign-key constraints that the
SQLAlchemy models declare; any drift shows up as the operation Alembic would
generate to fix it.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData


def schema_diff(engine: Engine, metadata: MetaData, version_table: str) -> list[Any]:
    def include_name(name: str | None, type_: str, _parent: Any) -> bool:
        return not (type_ == "table" and name == version_table)

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_name": include_name,
            },
        )
        return list(compare_metadata(context, metadata))
