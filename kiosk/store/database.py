"""Engines for the local database: SQLite pragmas and automatic migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest revision under migrations/versions (a test holds it to Alembic's head):
# a database already there opens without importing Alembic, a third of every short
# command's start-up (`egate trust list`, `egate log verify`).
HEAD_REVISION = "0003"


class StorageError(Exception):
    """The local database cannot be opened or migrated."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the supervisor/sync readers run beside the writer; FULL makes a
    # committed transaction survive a power cut, which the event log promises.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_local_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get their directory created and pragmas set."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not parsed.query.get("uri"):
            directory = Path(db).expanduser().parent
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # e.g. a path under a regular file
                raise StorageError(
                    f"cannot create the directory {directory} for {db}: {exc.strerror}"
                    f" ({exc.filename})"
                ) from exc
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def at_head(engine: Engine) -> bool:
    """Whether the schema is already at HEAD_REVISION (False for a new database)."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:
        return False
    return [r[0] for r in rows] == [HEAD_REVISION]


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    if at_head(engine):
        return
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    except Exception as exc:
        raise StorageError(f"cannot migrate {engine.url!r}: {exc}") from exc


def open_local(url: str) -> Engine:
    engine = create_local_engine(url)
    migrate(engine)
    return engine
