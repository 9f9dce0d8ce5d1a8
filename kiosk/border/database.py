"""Engines for the border database and its Alembic migrations.

PostgreSQL in production (psycopg 3), an SQLite file as the stand-in when no
server is configured. A PostgreSQL URL may list a primary and its standbys
(libpq_url); the session must then be read-write, so after a failover the pool's
next connection reaches the promoted server on its own. Every wait is bounded:
connecting (connect_timeout, per server), a statement on the server
(statement_timeout), a silent peer (TCP keepalives, tcp_user_timeout), and any
round trip at all (deadline.py), so no thread blocks forever on a border
database or a link that went away.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from kiosk.border.deadline import guard_engine
from kiosk.border.errors import BorderError, BorderSchemaError
from kiosk.border.sync_commit import guard_commits
from kiosk.store.database import create_local_engine
from kiosk.store.libpq_url import UrlError, host_count, normalise

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "border_schema_version"
CONNECT_TIMEOUT_S = 5
STATEMENT_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class BorderTimeouts:
    """Bounds on every wait for the border database (tests shorten them)."""

    connect_s: int = CONNECT_TIMEOUT_S  # per server of a multi-host URL
    statement_ms: int = STATEMENT_TIMEOUT_MS  # enforced by the server
    # A round trip with no answer at all: above statement_ms, so the server's
    # own timeout (a clean error) normally comes first.
    deadline_s: float = STATEMENT_TIMEOUT_MS / 1000 + 15
    keepalive_idle_s: int = 10  # then probes every interval, dead after count
    keepalive_interval_s: int = 5
    keepalive_count: int = 3
    # Sent data unacknowledged this long: the link is gone (Linux TCP_USER_TIMEOUT).
    tcp_user_timeout_ms: int = 20_000

    def libpq(self) -> dict[str, Any]:
        return {
            "connect_timeout": self.connect_s,
            "options": f"-c statement_timeout={self.statement_ms}",
            "keepalives": 1,
            "keepalives_idle": self.keepalive_idle_s,
            "keepalives_interval": self.keepalive_interval_s,
            "keepalives_count": self.keepalive_count,
            "tcp_user_timeout": self.tcp_user_timeout_ms,
        }


# The libpq timeouts each engine was made with, for libpq_connect_args.
_TIMEOUTS: weakref.WeakKeyDictionary[Engine, dict[str, Any]] = weakref.WeakKeyDictionary()


def redact(url: str | Any) -> str:
    """The URL without its password, for messages and JSON output."""
    try:
        return make_url(normalise(str(url))).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<invalid URL>"


def parse_border_url(url: str) -> URL:
    """`url` as SQLAlchemy's URL: libpq's postgresql://h1:p1,h2:p2/db form is
    accepted too, and a URL naming several servers gets
    target_session_attrs=read-write unless it says otherwise (a kiosk writes:
    it must never settle on a standby). Raises BorderError naming the fault."""
    try:
        parsed = make_url(normalise(url))
    except UrlError as exc:
        raise BorderError(f"{_safe(url)}: {exc}") from exc
    except (ArgumentError, ValueError) as exc:  # a port that is not a number, ...
        raise BorderError(f"{_safe(url)} is not a database URL ({exc})") from exc
    if host_count(dict(parsed.query)) > 1 and "target_session_attrs" not in parsed.query:
        parsed = parsed.update_query_dict({"target_session_attrs": "read-write"})
    return parsed


def _safe(url: str) -> str:
    """`url` for an error message: the password of user:password@ blanked."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, hosts = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return repr(url)
    return repr(f"{scheme}{sep}{userinfo.split(':', 1)[0]}:***@{hosts}")


def create_border_engine(url: str, timeouts: BorderTimeouts | None = None) -> Engine:
    """An engine for `url` (postgresql+psycopg://..., libpq's postgresql://
    with one or several servers, or sqlite:///...)."""
    parsed = parse_border_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        try:
            return create_local_engine(url)
        except OSError as exc:
            raise BorderError(f"cannot use {redact(url)}: {exc.strerror}") from exc
    if backend != "postgresql":
        raise BorderError(f"unsupported border database backend {backend!r} (postgresql, sqlite)")
    timeouts = timeouts or BorderTimeouts()
    # What the URL sets itself (connect_timeout=...) wins over the defaults.
    connect_args = {k: v for k, v in timeouts.libpq().items() if k not in parsed.query}
    try:
        engine = create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
        engine.dialect.create_connect_args(parsed)  # a bad host list fails here, not later
    except (ArgumentError, ImportError, ValueError) as exc:
        raise BorderError(f"cannot use {redact(url)}: {exc}") from exc
    guard_engine(engine, timeouts.deadline_s)
    guard_commits(engine)
    _TIMEOUTS[engine] = connect_args
    return engine


# A lane waits for its look-ups (the traveller stands at the gate): a border that
# does not answer within a few seconds is "unreachable" and the lane refers.
LOOKUP_TIMEOUTS = BorderTimeouts(
    connect_s=2, statement_ms=3000, deadline_s=4, keepalive_idle_s=5, keepalive_interval_s=2,
    keepalive_count=2, tcp_user_timeout_ms=4000,
)  # fmt: skip


def lookup_engine(engine: Engine) -> Engine:
    """An engine to the same border as `engine` with the lane's tighter bounds
    (LOOKUP_TIMEOUTS); the SQLite stand-in is returned as it is."""
    if engine.dialect.name != "postgresql":
        return engine
    return create_border_engine(engine.url.render_as_string(hide_password=False), LOOKUP_TIMEOUTS)


def libpq_connect_args(engine: Engine) -> dict[str, Any]:
    """Keyword arguments for psycopg.connect() reaching what `engine` reaches
    (every server of a multi-host URL, the same timeouts), for the connections
    SQLAlchemy does not pool (LISTEN)."""
    args, kwargs = engine.dialect.create_connect_args(engine.url)
    if args:
        raise BorderError("unexpected positional connection arguments")
    kwargs.pop("context", None)
    bounds = _TIMEOUTS.get(engine, BorderTimeouts().libpq())
    return {**bounds, **{k: v for k, v in kwargs.items() if v is not None}}


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
