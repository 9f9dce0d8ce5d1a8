"""Engines for the border database and its Alembic migrations.

PostgreSQL in production (psycopg 3), an SQLite file as the stand-in when no
server is configured. Connections fail fast (connect timeout) and statements
cannot hang forever, so a sync cycle or a lane lookup never blocks for long on
a border database that went away.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from kiosk.border.errors import BorderError, BorderSchemaError
from kiosk.store.database import create_local_engine

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "border_schema_version"
CONNECT_TIMEOUT_S = 5
STATEMENT_TIMEOUT_MS = 30_000


def redact(url: str | Any) -> str:
    """The URL without its password, for messages and JSON output."""
    try:
        return make_url(str(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"


def create_border_engine(url: str) -> Engine:
    """An engine for `url` (postgresql+psycopg://... or sqlite:///...)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise BorderError(f"{url!r} is not an SQLAlchemy URL") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        try:
            return create_local_engine(url)
        except OSError as exc:
            raise BorderError(f"cannot use {redact(url)}: {exc.strerror}") from exc
    if backend != "postgresql":
        raise BorderError(f"unsupported border database backend {backend!r} (postgresql, sqlite)")
    connect_args: dict[str, Any] = {"options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    try:
        return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    except (ArgumentError, ImportError) as exc:
        raise BorderError(f"cannot use {redact(url)}: {exc}") from exc


def _alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if head is None:
        raise BorderSchemaError("the border migration tree has no head revision")
    return head


def migrate_border(engine: Engine) -> str:
    """Bring the border schema to the newest revision (idempotent); returns it."""
    cfg = _alembic_config()
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    except SQLAlchemyError as exc:
        raise BorderSchemaError(f"cannot migrate {redact(engine.url)}: {exc}") from exc
    return head_revision()


def current_revision(engine: Engine) -> str | None:
    """The schema revision stored in the border database (None when uninitialised)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def open_border(url: str) -> Engine:
    """The engine a kiosk uses for `url`. The SQLite stand-in gets its schema on
    first use (there is no administrator to run `egate border init` for it);
    PostgreSQL is left as its administrator set it up. Raises BorderError."""
    engine = create_border_engine(url)
    if engine.dialect.name == "sqlite":
        migrate_border(engine)
    return engine
